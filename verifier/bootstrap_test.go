package verifier

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// The loader-parity test: every program of testdata/bootstrap (a
// libbpf-bootstrap-style set covering the program types, maps and externs
// libbpf handles) is compiled once, then loaded by `bpftool prog loadall`
// and by the verifier's loader, and the two must give the same verdict:
// bpftool loads the object exactly when every program is accepted; when
// libbpf fails at a program with a verifier rejection (EINVAL, EACCES,
// E2BIG), that program is rejected; when the kernel refuses it without a
// verdict (EPERM, ENOTSUPP, ENOENT) or libbpf fails before loading, it is an
// error, never a rejection.

var (
	bpftoolFailedProg = regexp.MustCompile(`libbpf: prog '([^']+)': BPF program load failed: (.*)`)
	verdictErrnos     = []string{"Invalid argument", "Permission denied", "Argument list too long"}
)

// bpftoolLoadall loads obj with bpftool into a fresh bpffs directory and
// removes it again.
func bpftoolLoadall(t *testing.T, bpftool, obj string) (ok bool, out string) {
	t.Helper()
	pin := filepath.Join("/sys/fs/bpf", fmt.Sprintf("bpf-lsp-test-%d-%s", os.Getpid(), strings.TrimSuffix(filepath.Base(obj), ".o")))
	defer os.RemoveAll(pin)
	b, err := exec.Command(bpftool, "-d", "prog", "loadall", obj, pin).CombinedOutput()
	return err == nil, string(b)
}

func needBpftool(t *testing.T) string {
	t.Helper()
	bpftool, err := exec.LookPath("bpftool")
	if err != nil {
		testenv.Skip(t, "bpftool not installed: %v", err)
	}
	mounts, _ := os.ReadFile("/proc/mounts")
	if !strings.Contains(string(mounts), " /sys/fs/bpf bpf ") {
		testenv.Skip(t, "no bpf filesystem at /sys/fs/bpf for bpftool prog loadall")
	}
	return bpftool
}

// vmlinuxHeader writes the running kernel's vmlinux.h into dir.
func vmlinuxHeader(t *testing.T, bpftool, dir string) {
	t.Helper()
	out, err := exec.Command(bpftool, "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
	if err != nil {
		t.Fatalf("bpftool btf dump: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBootstrapMatchesBpftool(t *testing.T) {
	needKernel(t)
	bpftool := needBpftool(t)
	clang, _ := clangPath("")
	dir := t.TempDir()
	vmlinuxHeader(t, bpftool, dir)
	srcs, _ := filepath.Glob("testdata/bootstrap/*.bpf.c")
	if len(srcs) < 12 {
		t.Fatalf("only %d bootstrap programs", len(srcs))
	}
	summary := map[string]int{}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".bpf.c")
		t.Run(name, func(t *testing.T) {
			obj := filepath.Join(dir, name+".o")
			cmd := exec.Command(clang, "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I", dir,
				"-idirafter", "/usr/include/x86_64-linux-gnu", "-c", src, "-o", obj)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("clang: %v\n%s", err, out)
			}
			loaded, out := bpftoolLoadall(t, bpftool, obj)
			rs, err := Run(context.Background(), Options{}, []string{obj})
			if err != nil {
				t.Fatal(err)
			}
			verdicts := map[string]Result{}
			for _, r := range rs {
				verdicts[r.Program] = r
				summary[r.Verdict]++
			}
			if loaded {
				summary["bpftool loaded"]++
				for _, r := range rs {
					if r.Verdict != Accept {
						t.Errorf("bpftool loads the object, verify says %s: %s: %s", r.Program, r.Verdict, r.Message)
					}
				}
				return
			}
			summary["bpftool failed"]++
			m := bpftoolFailedProg.FindStringSubmatch(out)
			if m == nil {
				// libbpf failed before any program reached the kernel.
				failed := false
				for _, r := range rs {
					failed = failed || r.Verdict == Failed
					if r.Verdict == Reject {
						t.Errorf("libbpf could not prepare the object, verify blames the kernel for %s: %s", r.Program, r.Message)
					}
				}
				if !failed {
					t.Errorf("libbpf could not prepare the object, verify loaded every program:\n%s", tail(out, 15))
				}
				return
			}
			r, ok := verdicts[m[1]]
			if !ok {
				t.Fatalf("verify has no result for %s, which bpftool failed to load", m[1])
			}
			want := Failed
			for _, e := range verdictErrnos {
				if strings.HasPrefix(m[2], e) {
					want = Reject
				}
			}
			if r.Verdict != want {
				t.Errorf("%s: bpftool: %s; verify: %s: %s\n%s", m[1], m[2], r.Verdict, r.Message, tail(out, 15))
			}
		})
	}
	t.Logf("bootstrap set: %d objects; %v", len(srcs), summary)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
