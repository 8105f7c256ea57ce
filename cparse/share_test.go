package cparse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShareHeadersSameFile parses the test programs, and a sample of the
// kernel selftests when the corpus cache has them, once each in a batch
// (ShareHeaders) and each on its own: the Files must be the same, and the
// batch must have shared its headers.
func TestShareHeadersSameFile(t *testing.T) {
	paths := testPrograms(t)
	dir := t.TempDir()
	// Programs that start alike but for their comments and blank lines,
	// with an #if group among the shared lines, a macro of those lines used
	// below, more headers after them, an error in the body, a body that
	// completes a tag the headers declared.
	write(t, dir, "defs.h", "#pragma once\nstruct node;\nstruct pair { int a, b; };\nstatic inline int twice(int x) { return 2 * x; }\n")
	write(t, dir, "more.h", "#pragma once\n#define MORE 3\nint more_var;\n")
	common := "#include \"defs.h\"\n#ifdef __BPF__\n#define ON 1\n#else\n#define ON 2\n#endif\n#define SUM(p) ((p)->a + (p)->b)\n"
	paths = append(paths,
		write(t, dir, "a.bpf.c", "// SPDX-License-Identifier: GPL-2.0\n/* Copyright (c) 2022 A */\n\n"+common+"#include \"more.h\"\nint a(struct pair *p) { return SUM(p) + ON + MORE + more_var; }\n"),
		write(t, dir, "b.bpf.c", "/* Copyright (c) 2020 Somebody Else,\n * over two lines */\n"+strings.ReplaceAll(common, "\n#define ON", "\n  #define ON /* on */")+"int b(struct pair *p) { return twice(SUM(p)) + nope; }\n"),
		write(t, dir, "c.bpf.c", common+"\nstruct node { int key; };\nint c(struct node *n) { return n->key + ON; }\n"),
		write(t, dir, "d.bpf.c", "// d\n"+common+"#include \"more.h\"\nint d(void) { return MORE; }\nint broken(void) { return undeclared; }\n"),
	)
	inc, _ := filepath.Abs("../testdata/include")
	lspInc, _ := filepath.Abs("../lsp/testdata")
	opts := Options{IncludeDirs: []string{inc, lspInc, vmlinuxDirIfAny(t)}, CacheDir: t.TempDir(), NoPreamble: true}
	sameAlone(t, opts, paths)

	selftests := filepath.Join(os.Getenv("HOME"), ".cache/bpf-lsp/realworld/linux-source-6.12/tools/testing/selftests/bpf")
	all, _ := filepath.Glob(filepath.Join(selftests, "progs/*.c"))
	if _, err := os.Stat("/tmp/rw/vmlinux.h"); err != nil || len(all) == 0 || testing.Short() {
		t.Log("kernel selftests not sampled: no corpus cache or /tmp/rw headers (scripts/realworld.sh), or -short")
		return
	}
	var sample []string
	for i, path := range all {
		switch base := filepath.Base(path); {
		case i%8 == 0, strings.HasPrefix(base, "rbtree"), strings.HasPrefix(base, "linked_list"),
			strings.HasPrefix(base, "test_spin_lock"), strings.HasPrefix(base, "arena"):
			sample = append(sample, path)
		}
	}
	sameAlone(t, Options{
		IncludeDirs: []string{"/tmp/rw", selftests, filepath.Join(selftests, "../../../include/uapi"), "/tmp/rw/include", filepath.Join(selftests, "../../../include")},
		AfterDirs:   []string{"/usr/include/x86_64-linux-gnu"}, CacheDir: t.TempDir(), NoPreamble: true,
	}, sample)
}

// sameAlone parses paths in a batch and each alone with opts.
func sameAlone(t *testing.T, opts Options, paths []string) {
	t.Helper()
	batch, alone := NewParser(opts), NewParser(opts)
	batch.ShareHeaders(append(paths, paths[len(paths)-1]), nil) // one listed twice
	planned := map[*sharedPreamble]bool{}
	for _, sh := range batch.batch.byPath {
		planned[sh] = true
	}
	for _, path := range paths {
		path, _ = filepath.Abs(path)
		if b, a := summary(parse(t, batch, path, nil)), summary(parse(t, alone, path, nil)); b != a {
			t.Errorf("%s: in the batch:\n%s\nalone:\n%s", filepath.Base(path), b, a)
		}
	}
	b, a := batch.headerOpens.Load(), alone.headerOpens.Load()
	t.Logf("%d files: %d preambles built, %d headers read, %d alone", len(paths), batch.preambleBuilds.Load(), b, a)
	if batch.preambleBuilds.Load() == 0 || b*5 > a*4 {
		t.Errorf("the batch read %d headers, alone %d: it shared too little", b, a)
	}
	if n := len(batch.batch.byPath); n != 0 {
		t.Errorf("%d files left in the plan after their parse", n)
	}
	for sh := range planned {
		if sh.left != 0 || sh.e != nil {
			t.Errorf("a preamble shared by %d files is kept after their parses (%d left)", len(sh.members), sh.left)
		}
	}
}
