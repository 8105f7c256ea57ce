package main

import (
	"strings"
	"testing"
)

// Without qemu, verify --kernels says in one line how to get it (exit 3).
func TestVerifyKernelsWithoutQemu(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	code, stdout, stderr := runCmd("verify", "--kernels", "6.12", "-I", "../../testdata/include", "../../testdata/rb_add_locked.bpf.c")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 3 || stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], "qemu-system-x86_64 not found -> apt-get install qemu-system-x86") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestKernelFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"verify", "--kernels", "6.5", "../../testdata/rb_add_locked.bpf.c"}, 2, "kernel 6.5 is not in the catalogue"},
		{[]string{"verify", "--kernel", "/sys/kernel/btf/vmlinux", "../../testdata/rb_add_locked.bpf.c"}, 2, "verify loads programs, so it needs a kernel to boot"},
		{[]string{"check", "--kernel", "9.9", "../../testdata/rb_add_locked.bpf.c"}, 2, "kernel 9.9 is not in the catalogue"},
		{[]string{"check", "--kernel", "6.12", "-I", "../../testdata/include", "../../testdata/res_lock_checked.bpf.c"}, 1,
			"res_lock_checked.bpf.c:11:6: error: kfunc bpf_res_spin_lock is not available on kernel 6.12; it first appears in 6.15 [BL401]"},
		{[]string{"check", "--kernel", "7.3", "-I", "../../testdata/include", "../../testdata/res_lock_checked.bpf.c"}, 0, ""},
	} {
		code, stdout, stderr := runCmd(c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.says) {
			t.Errorf("%v: exit %d, output %q %q; want %d and %q", c.args, code, stdout, stderr, c.code, c.says)
		}
	}
}
