package cparse

import (
	"context"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vmlinuxProgram writes a program that includes a vmlinux.h generated from
// the running kernel's BTF, plus libbpf's bpf_helpers.h. It skips, naming
// what is missing, when bpftool, kernel BTF or libbpf headers are absent.
func vmlinuxProgram(tb testing.TB, body string) string {
	tb.Helper()
	if _, err := exec.LookPath("bpftool"); err != nil {
		testenv.Skip(tb, "bpftool not installed (apt-get install bpftool): needed to generate vmlinux.h")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(tb, "/sys/kernel/btf/vmlinux missing: the kernel has no BTF")
	}
	if _, err := os.Stat("/usr/include/bpf/bpf_helpers.h"); err != nil {
		testenv.Skip(tb, "libbpf headers missing (apt-get install libbpf-dev)")
	}
	dir := vmlinuxDir(tb)
	path := filepath.Join(dir, "prog.bpf.c")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

var vmlinuxDirs = map[string]string{}

// vmlinuxDir generates vmlinux.h once per test binary.
func vmlinuxDir(tb testing.TB) string {
	if d, ok := vmlinuxDirs["dir"]; ok {
		return d
	}
	dir, err := os.MkdirTemp("", "bpf-lsp-vmlinux-")
	if err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
	if err != nil {
		testenv.Skip(tb, "bpftool btf dump failed: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vmlinux.h"), out, 0o644); err != nil {
		tb.Fatal(err)
	}
	vmlinuxDirs["dir"] = dir
	return dir
}

const vmlinuxBody = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);

SEC("tc")
int prog(struct __sk_buff *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	bpf_printk("a %d b %d c %d d %d", ctx->len, ctx->mark, ctx->protocol, BPF_CORE_READ(t, pid));
	bpf_spin_lock(&glock);
	bpf_spin_unlock(&glock);
	return t->mm->arg_start;
}

char _license[] SEC("license") = "GPL";
`

func benchParse(b *testing.B, opts Options, path string) {
	p := NewParser(opts)
	if _, err := p.Parse(context.Background(), path, nil); err != nil { // warm the caches
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := p.Parse(context.Background(), path, nil)
		if err != nil || f.AST == nil || len(f.Errors) > 0 {
			b.Fatalf("parse failed: %v %v", err, f.Errors)
		}
	}
}

// Edit-time parse of a vmlinux.h program: the trimmed header.
func BenchmarkParseVmlinuxTrimmed(b *testing.B) {
	benchParse(b, Options{CacheDir: b.TempDir()}, vmlinuxProgram(b, vmlinuxBody))
}

// The same program translating the whole vmlinux.h.
func BenchmarkParseVmlinuxFull(b *testing.B) {
	benchParse(b, Options{NoTrim: true}, vmlinuxProgram(b, vmlinuxBody))
}

// A program on the project's own small header (no vmlinux.h).
func BenchmarkParseSmallHeader(b *testing.B) {
	path, _ := filepath.Abs("../testdata/sched_queue.bpf.c")
	benchParse(b, Options{IncludeDirs: []string{"../testdata/include"}}, path)
}
