package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestClassifyByText: without a compile database, a file is a program by
// its own marks or its project headers', and host code is never one.
func TestClassifyByText(t *testing.T) {
	dir, err := filepath.Abs("testdata/classify")
	if err != nil {
		t.Fatal(err)
	}
	cl := &Classifier{Configs: &Cache{}}
	files, err := cl.Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, strings.TrimPrefix(f, dir+"/"))
	}
	want := []string{
		"progs/deep.c",       // through sub/level1.h and the config's -Iinclude
		"progs/license.c",    // a license section
		"progs/own_sec.c",    // SEC("xdp")
		"progs/via_header.c", // common.h includes bpf_helpers.h
		"progs/via_shared.c", // shared.h has both sides' marks; common.h decides
	}
	// Not: loader/* (main, libbpf), user/test_probe.c (its first header is
	// host code; .probes is no BPF section), module/testmod.c (a kernel
	// module including a shared header), progs/cycle.c (no marks).
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %v\nwant %v", got, want)
	}
}

// TestClassifyWalkBounds: the header walk reads regular files only and
// stops at its depth bound.
func TestClassifyWalkBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.h"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	fifo := write("fifo.c", "#include \"fifo.h\"\n#include \"bpf.h\"\n")
	write("bpf.h", "#include <bpf/bpf_helpers.h>\n")
	for i := 0; i < maxWalkDepth; i++ {
		write(fmt.Sprintf("h%d.h", i), fmt.Sprintf("#include \"h%d.h\"\n", i+1))
	}
	write(fmt.Sprintf("h%d.h", maxWalkDepth), "#include <bpf/bpf_helpers.h>\n")
	tooDeep := write("deep.c", "#include \"h0.h\"\n")
	deepEnough := write("deep_enough.c", "#include \"h1.h\"\n") // maxWalkDepth headers

	done := make(chan map[string]bool, 1)
	go func() {
		cl := &Classifier{Configs: &Cache{}}
		got := map[string]bool{}
		for _, f := range []string{fifo, tooDeep, deepEnough} {
			got[filepath.Base(f)] = cl.IsBPF(f, nil)
		}
		done <- got
	}()
	select {
	case got := <-done:
		want := map[string]bool{"fifo.c": true, "deep.c": false, "deep_enough.c": true}
		for f, w := range want {
			if got[f] != w {
				t.Errorf("IsBPF(%s) = %v, want %v", f, got[f], w)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the header walk blocked on a FIFO")
	}
}

// TestClassifyWithBase: the command line's or the editor's options decide
// as a parse with them would: the compile database they name (a file or
// its directory, outside the tree) replaces the search for the nearest,
// and their include flags reach the project headers.
func TestClassifyWithBase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("src/foo.c", "int foo(void) { return 0; }\n")               // no mark: BPF by its database entry only
	write("src/user.c", "int x __attribute__((section(\"xdp\")));\n") // a BPF mark, built as user space
	write("src/stats.bpf.c", "int y;\n")                              // its name wins over its entry
	write("src/prog.c", "#include \"common.h\"\n")
	inc := filepath.Dir(write("inc/common.h", "#include <bpf/bpf_helpers.h>\n"))
	db := write("out/compile_commands.json", `[
 {"directory": "`+dir+`/src", "file": "foo.c", "arguments": ["clang", "-target", "bpf", "-c", "foo.c"]},
 {"directory": "`+dir+`/src", "file": "user.c", "arguments": ["cc", "-c", "user.c"]},
 {"directory": "`+dir+`/src", "file": "stats.bpf.c", "arguments": ["cc", "-c", "stats.bpf.c"]}]`)

	for _, tc := range []struct {
		name string
		base cparse.Options
		want []string // the programs of src, in path order
	}{
		{"none", cparse.Options{}, []string{"stats.bpf.c", "user.c"}},
		{"database file", cparse.Options{CompileDB: db}, []string{"foo.c", "stats.bpf.c"}},
		{"database directory", cparse.Options{CompileDB: filepath.Dir(db)}, []string{"foo.c", "stats.bpf.c"}},
		{"include dir", cparse.Options{IncludeDirs: []string{inc}}, []string{"prog.c", "stats.bpf.c", "user.c"}},
		{"editor flags", cparse.Options{Args: []string{"-I../inc"}, ArgsDir: filepath.Join(dir, "src")}, []string{"prog.c", "stats.bpf.c", "user.c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl := &Classifier{Configs: &Cache{}, Base: tc.base}
			files, err := cl.Expand([]string{filepath.Join(dir, "src")})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range files {
				got = append(got, filepath.Base(f))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Expand = %v, want %v", got, tc.want)
			}
		})
	}
}
