package vm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

func TestArchivesAlign(t *testing.T) {
	base, err := baseInitramfs(bytes.Repeat([]byte{0x7f}, 1001))
	if err != nil {
		t.Fatal(err)
	}
	if len(base)%4 != 0 {
		t.Fatalf("base archive is %d bytes, not a multiple of 4: the kernel would miss the objects", len(base))
	}
	objs, err := objectsArchive([][]byte{[]byte("abc"), []byte("de")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"070701", "objects/000.o\x00", "objects/001.o\x00", "TRAILER!!!\x00"} {
		if !bytes.Contains(objs, []byte(want)) {
			t.Errorf("objects archive lacks %q", want)
		}
	}
	if len(objs)%4 != 0 {
		t.Errorf("objects archive is %d bytes", len(objs))
	}
}

func TestParseConsoleSkipsKernelOutput(t *testing.T) {
	out := parseConsole([]byte("[    0.1] Linux version 6.12\r\n" +
		linePrefix + `{"kernel":"6.12.117+deb13-cloud-amd64","object":0,"insn":0}` + "\r\n" +
		"[    1.2] random: crng init done\r\n" +
		linePrefix + `{"object":0,"program":"p","verdict":"accept","insn":-1}` + "\r\n" +
		linePrefix + `{"object":0,"program":"q","verd` + "\r\n" + // cut by a kernel message
		linePrefix + `{"done":true,"object":0,"insn":0}` + "\r\n"))
	if out.release != "6.12.117+deb13-cloud-amd64" || len(out.lines) != 2 || !out.done() || out.lines[0].Program != "p" {
		t.Fatalf("parseConsole = %+v", out)
	}
}

func TestMissingKfuncIsARejection(t *testing.T) {
	rs := toResults("o", []guestLine{{Program: "p", Verdict: verifier.Failed, Insn: -1,
		Message: "unsupported: kfunc bpf_obj_new_impl is not in the running kernel (bpf_obj_new_impl: not in the running kernel's BTF)"}})
	if rs[0].Verdict != verifier.Reject || rs[0].Code != CodeUnavailable || !strings.Contains(rs[0].Message, "bpf_obj_new_impl") {
		t.Fatalf("got %+v", rs[0])
	}
}

// TestMissingKfuncContract: the loader's error for a kfunc the kernel
// lacks is what missingKfunc recognises (checked on the running kernel).
func TestMissingKfuncContract(t *testing.T) {
	if err := verifier.Probe(); err != nil {
		testenv.Skip(t, "cannot load BPF programs here: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "missing.bpf.c")
	os.WriteFile(src, []byte(`#define SEC(n) __attribute__((section(n), used))
extern void bpf_no_such_kfunc(void) __attribute__((section(".ksyms")));
SEC("tc") int prog(void *ctx) { bpf_no_such_kfunc(); return 0; }
char _license[] SEC("license") = "GPL";
`), 0o644)
	obj, _, err := verifier.CompileFile(context.Background(), verifier.Options{}, src)
	var capErr *verifier.CapabilityError
	if errors.As(err, &capErr) {
		testenv.Skip(t, "%s", capErr.Msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	rs, err := verifier.VerifyObject(obj, "missing.o")
	if err != nil || len(rs) != 1 {
		t.Fatalf("VerifyObject = %+v, %v", rs, err)
	}
	if name, ok := missingKfunc(rs[0].Message); !ok || name != "bpf_no_such_kfunc" {
		t.Fatalf("loader says %q; missingKfunc = %q, %v", rs[0].Message, name, ok)
	}
}

// TestRunOnKernels boots the kernels in BPF_LSP_VM_KERNELS (default 6.12)
// once each for a few testdata programs whose verdicts differ by version.
func TestRunOnKernels(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Skip(t, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
	list := os.Getenv("BPF_LSP_VM_KERNELS")
	if list == "" {
		list = "6.12"
	}
	ks, err := kernels.ParseList(list)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	inc, _ := filepath.Abs(filepath.Join("..", "testdata", "include"))
	vopts := verifier.Options{Parser: cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})}
	var objs []Object
	for _, name := range []string{"rb_add_locked", "rb_add_unlocked", "res_lock_checked"} {
		src, _ := filepath.Abs(filepath.Join("..", "testdata", name+".bpf.c"))
		obj, _, err := verifier.CompileFile(ctx, vopts, src)
		var capErr *verifier.CapabilityError
		if errors.As(err, &capErr) {
			testenv.Skip(t, "%s", capErr.Msg)
		}
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, Object{Name: name, Data: obj})
	}
	runs, err := Run(ctx, Options{Progress: func(m string) { t.Log(m) }}, ks, objs)
	if err != nil {
		t.Fatal(err)
	}
	// Graph kfuncs arrived in 6.2 (catalogued: 6.12), bpf_res_spin_lock in
	// 6.15 (catalogued: 7.2).
	want := func(k, obj string) (verdict, code string) {
		graph := kernels.Compare(k, "6.12") >= 0
		switch {
		case obj == "res_lock_checked" && kernels.Compare(k, "7.2") >= 0:
			return verifier.Accept, ""
		case obj == "res_lock_checked" || !graph:
			return verifier.Reject, CodeUnavailable
		case obj == "rb_add_unlocked":
			return verifier.Reject, "BL201"
		}
		return verifier.Accept, ""
	}
	for _, run := range runs {
		if run.Err != nil {
			t.Fatal(run.Err)
		}
		t.Logf("%s (%s): boot %v", run.Kernel, run.Release, run.Boot)
		for i, rs := range run.Results {
			if len(rs) == 0 {
				t.Errorf("%s: no verdict for %s", run.Kernel, objs[i].Name)
			}
			for _, r := range rs {
				verdict, code := want(run.Kernel.Version, objs[i].Name)
				if r.Verdict != verdict || r.Code != code {
					t.Errorf("%s: %s/%s: %s %s %q, want %s %s", run.Kernel, objs[i].Name, r.Program, r.Verdict, r.Code, r.Message, verdict, code)
				}
			}
		}
	}
}
