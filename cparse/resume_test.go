package cparse

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestPreambleEnd(t *testing.T) {
	for _, tc := range []struct{ text, region string }{
		{"#include <a.h>\n#include \"b.h\"\nint x;\n", "#include <a.h>\n#include \"b.h\"\n"},
		{"// c\n/* multi\n line */ #include <a.h>\n\n#define M(x) \\\n  (x)\nint y;\n", "// c\n/* multi\n line */ #include <a.h>\n\n#define M(x) \\\n  (x)\n"},
		{"#ifndef G\n#define G\n#endif\n#pragma once\nstruct s;\n", "#ifndef G\n#define G\n#endif\n#pragma once\n"},
		{"#include <a.h>\n#ifdef X\nint x;\n#endif\n", "#include <a.h>\n"},
		{"#define S \"/*\"\n#undef S\nint z;\n", "#define S \"/*\"\n#undef S\n"},
		{"#include <a.h>\n#error stop\n", "#include <a.h>\n"},
		{"#define Q can't\nint x;\n", "#define Q can't\n"},
		{"#pragma message \"open\nint x;\n", "#pragma message \"open\n"},
		{"int x;\n#include <a.h>\n", ""},
		{"#include <a.h>", ""},
		{"// c\n#include <a.h>\n\n/* typed */\n// below\n", "// c\n#include <a.h>\n"},
	} {
		if got := preambleEnd([]byte(tc.text)); got != len(tc.region) || tc.text[:got] != tc.region {
			t.Errorf("preambleEnd(%q) = %q, want %q", tc.text, tc.text[:got], tc.region)
		}
	}
}

// summary renders what a parse gives its users: errors, and the model
// (functions and their calls, variables, structs) with spans and types.
func summary(f *File) string {
	var b strings.Builder
	for _, e := range f.Errors {
		fmt.Fprintf(&b, "error %v %d %q hint=%q missing=%q related=%v\n", e.Span, e.Severity, e.Message, e.Hint, e.Missing, e.Related)
	}
	fmt.Fprintf(&b, "ast %v\n", f.AST != nil)
	for _, v := range f.Vars {
		fmt.Fprintf(&b, "var %s %v %v %s %q static=%v extern=%v tags=%v type=%v\n", v.Name, v.Span, v.DeclSpan, v.TypeName, v.Section, v.Static, v.Extern, v.Tags, v.Type)
	}
	var names []string
	for n := range f.Structs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := f.Structs[n]
		fmt.Fprintf(&b, "struct %s union=%v %v\n", s.Name, s.Union, s.Span)
		for _, fd := range s.Fields {
			fmt.Fprintf(&b, "  field %s %v %v %s %d %v\n", fd.Name, fd.Span, fd.DeclSpan, fd.TypeName, fd.Offset, fd.Tags)
		}
	}
	for _, fn := range f.Funcs {
		fmt.Fprintf(&b, "func %s %v %v static=%v %q\n", fn.Name, fn.Span, fn.BodySpan, fn.Static, fn.Section)
		for _, c := range fn.Calls {
			callee := ""
			if c.Callee != nil {
				callee = fmt.Sprintf("%s %v", c.Callee.Name(), c.Callee.Type())
			}
			fmt.Fprintf(&b, "  call %s %s [%s] %v %v\n", c.Name, c.Spelled, callee, c.Span, c.NameSpan)
			for _, a := range c.Args {
				fmt.Fprintf(&b, "    arg %v %q %v\n", a.Span, a.Text, a.Expr.Type())
			}
		}
	}
	return b.String()
}

// TestPreambleSameFile parses every test program with and without the
// preamble: the Files must be the same.
func TestPreambleSameFile(t *testing.T) {
	paths := testPrograms(t)
	dir := t.TempDir()
	// Programs the testdata does not cover: include guards and #pragma once
	// across the preamble's end, a header error, a missing header, a body
	// completing a tag a header declared.
	write(t, dir, "once.h", "#pragma once\nint once_var;\n")
	write(t, dir, "guard.h", "#ifndef GUARD_H\n#define GUARD_H\nstruct node;\nstruct node *node_new(void);\n#endif\n")
	write(t, dir, "bad.h", "int bad = undeclared_in_header;\n")
	paths = append(paths,
		write(t, dir, "once.bpf.c", "#include \"once.h\"\n#define N 2\nint a = N;\n#include \"once.h\"\n#include \"guard.h\"\nint b = once_var;\n"),
		write(t, dir, "complete.bpf.c", "#include \"guard.h\"\nstruct node { int key; };\nint key(void) { return node_new()->key; }\n"),
		write(t, dir, "bad.bpf.c", "#include \"bad.h\"\nint x;\n"),
		write(t, dir, "missing.bpf.c", "#include \"nowhere.h\"\n#include \"once.h\"\nint y = once_var;\n"),
		write(t, dir, "broken.bpf.c", "#include \"guard.h\"\nint ok(void) { return 1; }\nint broken(void) { return nope; }\nint after(void) { return ok(); }\n"),
	)
	inc, _ := filepath.Abs("../testdata/include")
	lspInc, _ := filepath.Abs("../lsp/testdata")
	opts := Options{IncludeDirs: []string{inc, lspInc, vmlinuxDirIfAny(t)}, CacheDir: t.TempDir()}
	with := NewParser(opts)
	opts.NoPreamble = true
	without := NewParser(opts)
	for _, path := range paths {
		path, _ = filepath.Abs(path)
		w, wo := summary(parse(t, with, path, nil)), summary(parse(t, without, path, nil))
		if w != wo {
			t.Errorf("%s: with the preamble:\n%s\nwithout:\n%s", filepath.Base(path), w, wo)
		}
		// And again, resumed from the cached preamble (the second parse
		// builds the model of its declarations, the third reuses it).
		for _, nth := range []string{"second", "third"} {
			if again := summary(parse(t, with, path, nil)); again != wo {
				t.Errorf("%s: %s parse with the preamble:\n%s\nwithout:\n%s", filepath.Base(path), nth, again, wo)
			}
		}
	}
}

// testPrograms are the test programs of the analysis and of the server.
func testPrograms(t *testing.T) []string {
	var paths []string
	for _, glob := range []string{"../testdata/*.bpf.c", "../lsp/testdata/*.bpf.c"} {
		m, _ := filepath.Glob(glob)
		paths = append(paths, m...)
	}
	if len(paths) < 20 {
		t.Fatalf("only %d test programs", len(paths))
	}
	return paths
}

// vmlinuxDirIfAny is the directory of a generated vmlinux.h, "" when it
// cannot be generated (lsp/testdata/vmlinux.bpf.c then reports it missing,
// with and without the preamble alike).
func vmlinuxDirIfAny(t *testing.T) string {
	dir := ""
	t.Run("vmlinux", func(t *testing.T) {
		vmlinuxProgram(t, vmlinuxBody)
		dir = vmlinuxDir(t)
	})
	return dir
}

// TestPreambleEditsBelow edits a vmlinux.h program below its #include
// lines: after the first parse, no header is read or translated again.
func TestPreambleEditsBelow(t *testing.T) {
	path := vmlinuxProgram(t, vmlinuxBody)
	p := NewParser(Options{CacheDir: t.TempDir()})
	src := []byte(vmlinuxBody)
	edit := func(i int) *File {
		text := strings.Replace(string(src), "return t->mm->arg_start;", fmt.Sprintf("return t->mm->arg_start + %d;", i), 1)
		f, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
		if err != nil || f.AST == nil || len(f.Errors) > 0 {
			t.Fatalf("edit %d: %v %+v", i, err, f.Errors)
		}
		return f
	}
	edit(0)
	edit(1)
	builds, opens := p.preambleBuilds.Load(), p.headerOpens.Load()
	for i := 2; i < 5; i++ {
		f := edit(i)
		if f.Func("prog") == nil || f.Var("groot") == nil {
			t.Fatalf("edit %d: model incomplete", i)
		}
	}
	if b, o := p.preambleBuilds.Load()-builds, p.headerOpens.Load()-opens; b != 0 || o != 0 {
		t.Errorf("edits below the preamble translated %d preambles and read %d headers, want none", b, o)
	}
	// An edited header invalidates the preamble.
	hdr := filepath.Join(filepath.Dir(path), "vmlinux.h")
	text := strings.Replace(string(src), "return t->mm->arg_start;", "return t->mm->arg_start + 9;", 1)
	vm, err := readRegular(hdr, DefaultMaxFileSize)
	if err != nil {
		t.Fatal(err)
	}
	overlay := map[string][]byte{path: []byte(text), hdr: append(vm, "\nstruct added_by_edit { int x; };\n"...)}
	if _, err := p.Parse(context.Background(), path, overlay); err != nil {
		t.Fatal(err)
	}
	if p.preambleBuilds.Load() == builds {
		t.Error("an edited vmlinux.h did not rebuild the preamble")
	}
}

// TestPreambleWhen: a document open in the editor (its text in the
// overlay) builds its preamble on its first parse, so its first edit
// resumes; a file read from disk builds it only on its second parse (most
// files of a workspace pass are parsed once).
func TestPreambleWhen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prog.c")
	src := "#include \"defs.h\"\n\nint get(struct pair *p) { return p->a + B; }\n"
	for name, text := range map[string]string{"defs.h": "struct pair { int a, b; };\n#define B 2\n", "prog.c": src} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	parse := func(p *Parser, overlay map[string][]byte) {
		t.Helper()
		if f, err := p.Parse(context.Background(), path, overlay); err != nil || f.AST == nil || len(f.Errors) > 0 {
			t.Fatalf("%v %+v", err, f.Errors)
		}
	}
	open := NewParser(Options{CacheDir: t.TempDir()})
	parse(open, map[string][]byte{path: []byte(src)})
	if b := open.preambleBuilds.Load(); b != 1 {
		t.Errorf("an open document's first parse built %d preambles, want 1", b)
	}
	parse(open, map[string][]byte{path: []byte(src + "\nint x;\n")})
	if b := open.preambleBuilds.Load(); b != 1 {
		t.Errorf("its first edit built %d preambles in all, want the first one only", b)
	}
	closed := NewParser(Options{CacheDir: t.TempDir()})
	for i, want := range []int64{0, 1} {
		parse(closed, nil)
		if b := closed.preambleBuilds.Load(); b != want {
			t.Errorf("parse %d of a file on disk: %d preambles built, want %d", i+1, b, want)
		}
	}
	server := NewParser(Options{CacheDir: t.TempDir(), OpenPreambles: true})
	for i := range 2 {
		parse(server, nil)
		if b := server.preambleBuilds.Load(); b != 0 {
			t.Errorf("parse %d of a file on disk with OpenPreambles: %d preambles built, want 0", i+1, b)
		}
	}
	// A vmlinux.h program whose first translation learns the types it
	// needs complete translates again within the same parse: still its
	// first parse.
	vm := vmlinuxProgram(t, vmlinuxBody)
	once := NewParser(Options{CacheDir: t.TempDir()})
	if _, err := once.Parse(context.Background(), vm, nil); err != nil {
		t.Fatal(err)
	}
	if b := once.preambleBuilds.Load(); b != 0 {
		t.Errorf("one parse of a vmlinux.h program from disk built %d preambles, want 0", b)
	}
}

// TestPreambleConcurrent parses files sharing one preamble at once (run
// with -race).
func TestPreambleConcurrent(t *testing.T) {
	path := vmlinuxProgram(t, vmlinuxBody)
	p := NewParser(Options{CacheDir: t.TempDir()})
	want := summary(parse(t, NewParser(Options{CacheDir: t.TempDir(), NoPreamble: true}), path, nil))
	parse(t, p, path, nil)
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := p.Parse(context.Background(), path, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if got := summary(f); got != want {
				t.Errorf("concurrent parse:\n%s\nwant:\n%s", got, want)
			}
		}()
	}
	wg.Wait()
}

// TestPreambleHeapCost checks preambleCostFactor: the estimated heap cost
// of a vmlinux.h program's preamble against the heap it really holds.
func TestPreambleHeapCost(t *testing.T) {
	path := vmlinuxProgram(t, vmlinuxBody)
	p := NewParser(Options{CacheDir: t.TempDir()})
	parse(t, p, path, nil) // warm the header and vmlinux.h caches
	p.preambles = preambleCache{}
	parse(t, p, path, nil) // the first parse of a region translates it whole
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	parse(t, p, path, nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(p.preambles.entries) != 1 {
		t.Fatalf("%d preambles", len(p.preambles.entries))
	}
	e := p.preambles.entries[0]
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	var served int64
	for _, text := range e.src.files {
		served += int64(len(text))
	}
	t.Logf("preamble: %d KB of headers served, %d KB held, estimated %d KB", served>>10, held>>10, e.size>>10)
	if e.size < held/2 || e.size > held*2 {
		t.Errorf("estimated %d KB, holds %d KB", e.size>>10, held>>10)
	}
}

// TestPreambleMissingHeaderAppears: a preamble that missed a header is
// stale once the header exists.
func TestPreambleMissingHeaderAppears(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "prog.bpf.c", "#include \"later.h\"\nint x;\n")
	p := NewParser(Options{})
	if f := parse(t, p, path, nil); len(f.Errors) != 1 || f.Errors[0].Missing == "" {
		t.Fatalf("before: %+v", f.Errors)
	}
	write(t, dir, "later.h", "int from_later;\n")
	if f := parse(t, p, path, nil); len(f.Errors) != 0 || f.Var("from_later") == nil {
		t.Fatalf("after the header appeared: %+v, vars %v", f.Errors, varNames(f))
	}
}
