package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// A small vmlinux.h of our own: the types the program and libbpf's
// helpers need, as bpftool would lay them out.
const layoutVmlinux = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

typedef unsigned char __u8;

typedef short unsigned int __u16;

typedef unsigned int __u32;

typedef long long unsigned int __u64;

typedef int __s32;

typedef long long int __s64;

typedef __u16 __be16;

typedef __u32 __be32;

typedef __u32 __wsum;

typedef __u32 u32;

typedef __u64 u64;

typedef _Bool bool;

enum {
	false = 0,
	true = 1,
};

struct bpf_spin_lock {
	__u32 val;
};

enum bpf_map_type {
	BPF_MAP_TYPE_ARRAY = 2,
};

#endif /* __VMLINUX_H__ */
`

const layoutProgram = `#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct val {
	struct bpf_spin_lock lock;
	u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct val);
} counts SEC(".maps");

SEC("tc")
int handle(void *ctx)
{
	u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&counts, &key);

	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	bpf_printk("count %d %d", key, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`

// libbpf-bootstrap's layout: vmlinux/x86/vmlinux.h reached as <vmlinux.h>
// through -I, <bpf/bpf_helpers.h> from a libbpf build directory given with
// -I, the multiarch headers with -idirafter. check is clean, and clang
// compiles the program with exactly the flags cparse reports.
func TestLibbpfBootstrapLayout(t *testing.T) {
	sys := "/usr/include/bpf"
	if _, err := os.Stat(filepath.Join(sys, "bpf_helpers.h")); err != nil {
		testenv.Skip(t, "libbpf headers (libbpf-dev) not installed: %v", err)
	}
	dir := t.TempDir()
	vmdir := filepath.Join(dir, "vmlinux", "x86")
	libbpf := filepath.Join(dir, "libbpf", "build")
	for _, d := range []string{vmdir, filepath.Join(libbpf, "bpf"), filepath.Join(dir, "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	headers, _ := filepath.Glob(filepath.Join(sys, "*.h"))
	for _, h := range headers {
		data, err := os.ReadFile(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(libbpf, "bpf", filepath.Base(h)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prog := filepath.Join(dir, "src", "minimal.bpf.c")
	if err := os.WriteFile(filepath.Join(vmdir, "vmlinux.h"), []byte(layoutVmlinux), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prog, []byte(layoutProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	multiarch := "/usr/include/x86_64-linux-gnu"
	code, out, errs := runCmd("check", "--format", "json", "-D__TARGET_ARCH_x86", "-I"+vmdir, "-I", libbpf, "-idirafter", multiarch, prog)
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errs)
	}

	opts := cparse.Options{IncludeDirs: []string{vmdir, libbpf}, AfterDirs: []string{multiarch}, Defines: []string{"__TARGET_ARCH_x86"}, CacheDir: t.TempDir()}
	p := cparse.NewParser(opts)
	f, err := p.Parse(context.Background(), prog, nil)
	if err != nil || len(f.Errors) > 0 {
		t.Fatalf("parse: %v %+v", err, f.Errors)
	}
	want := []string{"-I" + vmdir, "-I" + libbpf, "-idirafter", multiarch, "-D__TARGET_ARCH_x86"}
	if got, _ := json.Marshal(f.Flags); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("flags %s, want %v", got, want)
	}
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		testenv.Skip(t, "clang-19 not installed: %v", err)
	}
	args := append([]string{"-target", "bpf", "-g", "-O2"}, f.Flags...)
	cmd := exec.Command(clang, append(args, "-c", prog, "-o", filepath.Join(dir, "minimal.bpf.o"))...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang with cparse's flags: %v\n%s", err, msg)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// --compile-commands takes a flags file under any name: it is told from
// JSON by its content. The include flags reach the parse whether glued
// (-isystemDIR) or separate.
func TestCompileCommandsFlagsFileAndIncludeFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("inc/a.h", "#define A 1\n")
	write("sys/b.h", "#define B 2\n")
	write("after/c.h", "#define C 3\n")
	write("quote/d.h", "#define D 4\n")
	prog := write("prog.bpf.c", "#include <a.h>\n#include <b.h>\n#include <c.h>\n#include \"d.h\"\nint x = A + B + C + D;\n")
	db := write("build.flags", "-I\ninc\n")
	code, out, errs := runCmd("check", "--compile-commands", db, "-isystem"+filepath.Join(dir, "sys"),
		"-idirafter", filepath.Join(dir, "after"), "-iquote", filepath.Join(dir, "quote"), prog)
	if code != 0 || out != "" {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}
