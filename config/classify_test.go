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
