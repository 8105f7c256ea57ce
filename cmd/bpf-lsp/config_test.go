package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// demoProject copies the demo program and its header into a temp dir with
// the given .bpf-lsp.yaml ("" for none) and returns the program's path.
func demoProject(t *testing.T, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{"../../testdata/demo/queue.bpf.c": "queue.bpf.c", "../../testdata/include/bpf_lsp.h": "bpf_lsp.h"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, dst), data, 0o644)
	}
	if cfg != "" {
		os.WriteFile(filepath.Join(dir, config.FileName), []byte(cfg), 0o644)
	}
	return filepath.Join(dir, "queue.bpf.c")
}

// checkCodes runs check --format json and returns code:severity per finding.
func checkCodes(t *testing.T, args ...string) (int, []string) {
	t.Helper()
	code, out, errs := runCmd(append([]string{"check", "--format", "json"}, args...)...)
	var got []struct{ Code, Severity string }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: not JSON (%v): %s\nstderr: %s", args, err, out, errs)
	}
	var codes []string
	for _, f := range got {
		codes = append(codes, f.Code+":"+f.Severity)
	}
	sort.Strings(codes)
	return code, codes
}

// TestConfigPrecedence: defaults, then .bpf-lsp.yaml, then -checks.
func TestConfigPrecedence(t *testing.T) {
	all := []string{"BL201:error", "BL203:error", "BL207:error", "BL208:warning"}
	if _, got := checkCodes(t, demoProject(t, "")); !slices.Equal(got, all) {
		t.Fatalf("defaults: %v, want %v", got, all)
	}
	prog := demoProject(t, "checks: [all, -BL201]\nseverity: {BL208: error, BL207: warning}\n")
	if _, got := checkCodes(t, prog); !slices.Equal(got, []string{"BL203:error", "BL207:warning", "BL208:error"}) {
		t.Errorf("config: %v", got)
	}
	if _, got := checkCodes(t, "-checks", "inherit,-BL203", prog); !slices.Equal(got, []string{"BL207:warning", "BL208:error"}) {
		t.Errorf("-checks inherit,-BL203 over the config: %v", got)
	}
	code, got := checkCodes(t, "-checks", "BL207,BL208", prog)
	if !slices.Equal(got, []string{"BL207:warning", "BL208:error"}) || code != 1 {
		t.Errorf("-checks BL207,BL208 (severities from the config): %v exit %d", got, code)
	}
	if code, got := checkCodes(t, "-checks=all,-BL2*", prog); len(got) != 0 || code != 0 {
		t.Errorf("-checks all,-BL2*: %v exit %d, want nothing and 0", got, code)
	}
}

func TestConfigFileWideIgnore(t *testing.T) {
	prog := demoProject(t, "ignore:\n  - files: [queue.bpf.c]\n    codes: [BL201, BL203]\n    reason: demo\n")
	if _, got := checkCodes(t, prog); !slices.Equal(got, []string{"BL207:error", "BL208:warning"}) {
		t.Errorf("ignore two codes: %v", got)
	}
	prog = demoProject(t, "ignore:\n  - files: [\"*.bpf.c\"]\n    reason: generated\n")
	if code, got := checkCodes(t, prog); len(got) != 0 || code != 0 {
		t.Errorf("ignore the whole file: %v exit %d", got, code)
	}
}

func TestConfigErrors(t *testing.T) {
	prog := demoProject(t, "checks: [BL999]\n")
	code, _, errs := runCmd("check", prog)
	if code != 2 || !strings.Contains(errs, `"BL999" matches no rule`) || !strings.Contains(errs, config.FileName) {
		t.Errorf("invalid config: exit %d, stderr %q; want 2 naming the file and the problem", code, errs)
	}
	if code, _, errs := runCmd("check", "-checks", "all,-XX1", prog); code != 2 || !strings.Contains(errs, "-checks") {
		t.Errorf("bad -checks: exit %d, %q", code, errs)
	}
}

// TestConfigCompileFlags: a -D from the config reaches the parser, and the
// command line's -D wins over it.
func TestConfigCompileFlags(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "p.bpf.c")
	os.WriteFile(prog, []byte("#if MODE != 2\n#error MODE is not 2\n#endif\nint x;\n"), 0o644)
	if code, _, _ := runCmd("check", prog); code != 1 {
		t.Fatalf("without flags the #error must fire, exit %d", code)
	}
	os.WriteFile(filepath.Join(dir, config.FileName), []byte("compileFlags:\n  add: [-DMODE=2]\n"), 0o644)
	if code, out, _ := runCmd("check", prog); code != 0 {
		t.Errorf("config -DMODE=2: exit %d\n%s", code, out)
	}
	if code, _, _ := runCmd("check", "-DMODE=3", prog); code != 1 {
		t.Errorf("-DMODE=3 on the command line must win over the config: exit %d", code)
	}
}

// TestCheckStreamsInPathOrder: many files, checked in parallel, come out
// in path order.
func TestCheckStreamsInPathOrder(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../testdata/demo/queue.bpf.c")
	hdr, _ := os.ReadFile("../../testdata/include/bpf_lsp.h")
	os.WriteFile(filepath.Join(dir, "bpf_lsp.h"), hdr, 0o644)
	var want []string
	for _, name := range []string{"k", "b", "x", "a", "m", "c", "z", "d", "q", "e", "n", "f"} {
		sub := filepath.Join(dir, name)
		os.MkdirAll(sub, 0o755)
		os.WriteFile(filepath.Join(sub, "p.bpf.c"), src, 0o644)
		want = append(want, name+"/p.bpf.c")
	}
	sort.Strings(want)
	code, out, errs := runCmd("check", "-I", dir, dir)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		file := filepath.ToSlash(strings.TrimPrefix(strings.SplitN(line, ":", 2)[0], dir+"/"))
		if len(order) == 0 || order[len(order)-1] != file {
			order = append(order, file)
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("files in output order %v, want %v", order, want)
	}
}

func TestColor(t *testing.T) {
	prog := demoProject(t, "")
	_, out, _ := runCmd("check", "--color", "always", prog)
	if !strings.Contains(out, "\x1b[1;31merror\x1b[0m") {
		t.Errorf("--color always: no colored severity in %q", out)
	}
	t.Setenv("NO_COLOR", "1")
	if _, out, _ := runCmd("check", "--color", "auto", prog); strings.Contains(out, "\x1b[") {
		t.Errorf("--color auto with NO_COLOR: %q", out)
	}
	if code, _, _ := runCmd("check", "--color", "sometimes", prog); code != 2 {
		t.Errorf("--color sometimes: exit %d, want 2", code)
	}
}

func TestExplain(t *testing.T) {
	code, out, _ := runCmd("explain", "BL201")
	if code != 0 || !strings.Contains(out, "BL201") || !strings.Contains(out, "Bad:") || !strings.Contains(out, "Good:") ||
		!strings.Contains(out, "bpf_spin_lock at off=") {
		t.Errorf("explain BL201: exit %d\n%s", code, out)
	}
	if code, out2, _ := runCmd("explain", "bl201"); code != 0 || out2 != out {
		t.Errorf("explain is case-insensitive: exit %d", code)
	}
	if code, out, _ := runCmd("explain"); code != 0 || strings.Count(out, "\n") < 10 {
		t.Errorf("explain lists the rules: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd("explain", "BL999"); code != 2 || errs == "" {
		t.Errorf("explain BL999: exit %d %q", code, errs)
	}
}

func TestInit(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCmd("init", dir)
	if code != 0 || !strings.Contains(out, "bpf_lsp.h") {
		t.Fatalf("init: exit %d\n%s%s", code, out, errs)
	}
	prog := filepath.Join(dir, "p.bpf.c")
	os.WriteFile(prog, []byte(`#include <linux/types.h>
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 nr __guarded_by(glock);

SEC("tc")
int count(void *ctx)
{
	nr++;
	return 0;
}
char _license[] SEC("license") = "GPL";
`), 0o644)
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		testenv.Skip(t, "libbpf-dev is not installed (no /usr/include/bpf/bpf_helpers.h)")
	}
	// clang -target bpf does not search the multiarch directory for
	// <asm/types.h>; the project says where it is, for both tools.
	flags := "-idirafter\n/usr/include/x86_64-linux-gnu\n-idirafter\n/usr/include/aarch64-linux-gnu\n"
	if err := os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte(flags), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, codes := checkCodes(t, prog); !slices.Equal(codes, []string{"BL208:warning"}) {
		t.Errorf("a program using the written header: %v, want the unlocked write (BL208) only", codes)
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		testenv.Skip(t, "clang-19 is not installed")
	}
	cmd := exec.Command(clang, "-g", "-O2", "--target=bpf", "-idirafter", "/usr/include/x86_64-linux-gnu", "-idirafter", "/usr/include/aarch64-linux-gnu",
		"-Werror", "-c", prog, "-o", filepath.Join(dir, "p.o"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the written header does not compile cleanly: %v\n%s", err, out)
	}
}

func TestBuildVersion(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		main     string
		settings map[string]string
		want     string
	}{
		{"(devel)", nil, "devel"},
		{"(devel)", map[string]string{"vcs.revision": rev, "vcs.time": "2026-11-26T02:00:00Z"}, "devel 0123456789ab 2026-11-26T02:00:00Z"},
		{"(devel)", map[string]string{"vcs.revision": rev, "vcs.modified": "true"}, "devel 0123456789ab+dirty"},
		{"v0.0.0-20261126020000-0123456789ab+dirty", map[string]string{"vcs.revision": rev, "vcs.time": "2026-11-26T02:00:00Z", "vcs.modified": "true"},
			"v0.0.0-20261126020000-0123456789ab+dirty 2026-11-26T02:00:00Z"},
		{"v1.2.0", map[string]string{"vcs.revision": rev}, "v1.2.0 0123456789ab"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Version: c.main}}
		for k, v := range c.settings {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: k, Value: v})
		}
		if got := buildVersion(bi); got != c.want {
			t.Errorf("%s %v: %q, want %q", c.main, c.settings, got, c.want)
		}
	}
}

// TestVersionFromClone runs `make install` in a fresh clone, as a user
// does, and expects the commit in the installed binary's --version.
func TestVersionFromClone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary in a clone")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	top, err := exec.Command(git, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	head, _ := exec.Command(git, "rev-parse", "HEAD").Output()
	clone := filepath.Join(t.TempDir(), "clone")
	if out, err := exec.Command(git, "clone", "-q", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	bin := t.TempDir()
	install := exec.Command("make", "install")
	install.Dir = clone
	install.Env = append(os.Environ(), "GOBIN="+bin)
	out, err := install.CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "installed "+bin+"/bpf-lsp") {
		t.Errorf("make install does not say where it installed:\n%s", out)
	}
	out, err = exec.Command(filepath.Join(bin, "bpf-lsp"), "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "bpf-lsp ") || !strings.Contains(string(out), strings.TrimSpace(string(head))[:12]) {
		t.Errorf("--version = %q (%v), want the commit %s", out, err, head)
	}
}
