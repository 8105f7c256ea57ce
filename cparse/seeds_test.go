package cparse

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

// referenceSeeds finds the seeds as cparse did before seeds.go: the whole
// file preprocessed with vmlinux.h served empty, every identifier and tag
// of the output.
func referenceSeeds(t *testing.T, p *Parser, f *File, flags flagSet) (map[string]bool, bool) {
	t.Helper()
	used := false
	cfg, sources, _, err := p.newRound(context.Background(), f, flags, nil, f.Src, func(string, []byte) []byte {
		used = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cc.Preprocess(cfg, sources, &out)
	seeds := map[string]bool{}
	for _, m := range vmTagRE.FindAllSubmatch(out.Bytes(), -1) {
		seeds[string(m[1])+" "+string(m[2])] = true
	}
	for _, id := range vmIdentRE.FindAll(out.Bytes(), -1) {
		seeds[string(id)] = true
	}
	return seeds, used
}

// seedFile is the File Parse would make for path, for calling seedsFor.
func seedFile(t *testing.T, p *Parser, path string) (*File, flagSet) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := p.flagsFor(path)
	if err != nil {
		t.Fatal(err)
	}
	return &File{Path: path, Src: src, Flags: flags.args(), src: &sources{files: map[string][]byte{}, maxSize: p.opts.MaxFileSize}}, flags
}

// Every vmlinux.h name the whole preprocessing found, seeds.go finds too:
// the project's test programs (each given a real vmlinux.h first) and a
// program using libbpf's macros.
func TestSeedsCoverPreprocessing(t *testing.T) {
	vmdir := vmlinuxProgram(t, vmlinuxBody)
	var programs []string
	for _, glob := range []string{"../testdata/*.bpf.c", "../lsp/testdata/*.bpf.c"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		programs = append(programs, m...)
	}
	if len(programs) < 10 {
		t.Fatalf("only %d test programs found", len(programs))
	}
	dir := t.TempDir()
	inc, _ := filepath.Abs("../testdata/include")
	p := NewParser(Options{IncludeDirs: []string{filepath.Dir(vmdir), inc}, CacheDir: t.TempDir()})
	check := func(path string) {
		f, flags := seedFile(t, p, path)
		want, wantUsed := referenceSeeds(t, p, f, flags)
		got, used := p.seedsFor(context.Background(), f, flags, nil, f.Src)
		if used != wantUsed || !used {
			t.Errorf("%s: reaches vmlinux.h %v, preprocessing says %v", filepath.Base(path), used, wantUsed)
			return
		}
		var missed []string
		for n := range want {
			if !got[n] && p.vmlinux.defines(n) {
				missed = append(missed, n)
			}
		}
		if len(missed) > 0 {
			t.Errorf("%s: seeds miss %v", filepath.Base(path), missed)
		}
	}
	check(vmdir)
	for _, prog := range programs {
		src, err := os.ReadFile(prog)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(src, []byte("vmlinux.h")) {
			src = append([]byte("#include <vmlinux.h>\n"), src...)
		}
		check(write(t, dir, filepath.Base(prog), string(src)))
	}
}

// A made-up vmlinux.h in bpftool's layout: each declaration its own
// paragraph.
const fakeVmlinux = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

typedef unsigned int u32;

struct bpf_iter_num {
	u32 __opaque[2];
};

struct task_struct {
	int pid;
	struct mm_struct *mm;
};

struct mm_struct {
	unsigned long arg_start;
};

struct unused_one {
	int x;
};

#endif /* __VMLINUX_H__ */
`

// Two files with the same #include lines (and every edit of one) share one
// header pass; new #include lines, or a changed header, run a new one.
func TestHeaderPassShared(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "vmlinux.h", fakeVmlinux)
	hdr := write(t, dir, "helpers.h", "#define TASK struct task_struct\n")
	head := "#include \"vmlinux.h\"\n#include \"helpers.h\"\n"
	a := write(t, dir, "a.bpf.c", head+"int a(TASK *t) { return t->pid; }\n")
	b := write(t, dir, "b.bpf.c", head+"int b(TASK *t) { return t->mm->arg_start; }\n")
	p := NewParser(Options{CacheDir: t.TempDir()})
	for _, path := range []string{a, b} {
		if f := parse(t, p, path, nil); f.AST == nil || len(f.Errors) > 0 {
			t.Fatalf("%s: %+v", path, f.Errors)
		}
	}
	if n := p.passes.runs.Load(); n != 1 {
		t.Errorf("two files with the same #include lines: %d header passes, want 1", n)
	}
	edit := map[string][]byte{b: []byte(head + "int b(TASK *t) { return t->pid + 1; }\n")}
	parse(t, p, b, edit)
	if n := p.passes.runs.Load(); n != 1 {
		t.Errorf("an edit below the #include lines: %d header passes, want 1", n)
	}
	edit = map[string][]byte{b: []byte(head + "#include \"vmlinux.h\"\nint b(TASK *t) { return t->pid; }\n")}
	parse(t, p, b, edit)
	if n := p.passes.runs.Load(); n != 2 {
		t.Errorf("a new #include line: %d header passes, want 2", n)
	}
	// A changed header (an editor's unsaved buffer) is read again.
	f := parse(t, p, a, map[string][]byte{hdr: []byte("#define TASK struct mm_struct\n")})
	if n := p.passes.runs.Load(); n != 3 {
		t.Errorf("a changed header: %d header passes, want 3", n)
	}
	if len(f.Errors) == 0 || !strings.Contains(f.Errors[0].Message, "pid") {
		t.Errorf("with TASK an mm_struct, a.bpf.c should fail on pid: %+v", f.Errors)
	}
}

// A name only a macro's ## builds reaches the trimmed header, and so does
// a type named only in a macro's replacement list; a type nobody names
// stays out.
func TestSeedsFromMacros(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "vmlinux.h", fakeVmlinux)
	write(t, dir, "iter.h", "#define ITER(type) struct bpf_iter_##type\n#define CUR() ((struct task_struct *)0)\n")
	path := write(t, dir, "prog.bpf.c", "#include \"vmlinux.h\"\n#include \"iter.h\"\n"+
		"#define MY_ITER(t) ITER(t)\n"+
		"int f(void) { MY_ITER(num) it; it.__opaque[0] = 1; return CUR()->pid; }\n")
	p := NewParser(Options{CacheDir: t.TempDir()})
	f, flags := seedFile(t, p, path)
	seeds, used := p.seedsFor(context.Background(), f, flags, nil, f.Src)
	if !used {
		t.Fatal("vmlinux.h not reached")
	}
	for _, want := range []string{"struct bpf_iter_num", "struct task_struct"} {
		if !seeds[want] {
			t.Errorf("seeds lack %q: %v", want, seeds)
		}
	}
	if seeds["struct unused_one"] {
		t.Errorf("seeds have struct unused_one, which nothing names")
	}
	if f := parse(t, p, path, nil); f.AST == nil || len(f.Errors) > 0 {
		t.Fatalf("parse: %+v", f.Errors)
	}
}

// A file that does not reach vmlinux.h says so, from the header pass.
func TestSeedsWithoutVmlinux(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "vmlinux.h", fakeVmlinux)
	path := write(t, dir, "prog.bpf.c", "#ifdef WITH_VMLINUX\n#include \"vmlinux.h\"\n#endif\nstruct task_struct { int pid; };\n")
	p := NewParser(Options{CacheDir: t.TempDir()})
	f, flags := seedFile(t, p, path)
	if _, used := p.seedsFor(context.Background(), f, flags, nil, f.Src); used {
		t.Error("vmlinux.h reached through an #ifdef of an undefined macro")
	}
	p = NewParser(Options{CacheDir: t.TempDir(), Defines: []string{"WITH_VMLINUX"}})
	f, flags = seedFile(t, p, path)
	if _, used := p.seedsFor(context.Background(), f, flags, nil, f.Src); !used {
		t.Error("vmlinux.h not reached with -DWITH_VMLINUX")
	}
}

func TestScanText(t *testing.T) {
	s := scanText([]byte("/* #include \"no.h\" struct gone */\n" +
		"  # define A(x, ...) struct pre_##x##_post x ## __VA_ARGS__ \\\n\tvalue_##x\n" +
		"char *s = \"/* not a comment */ struct kept\"; // struct gone2\n" +
		"struct\n  tag;\n#include <a.h>\n"))
	if want := "  # define A(x, ...) struct pre_##x##_post x ## __VA_ARGS__ \tvalue_##x\n#include <a.h>\n"; string(s.directives) != want {
		t.Errorf("directives %q, want %q", s.directives, want)
	}
	tags := strings.Join(s.tags, ",")
	if tags != "struct pre_,struct kept,struct tag" {
		t.Errorf("tags %s", tags)
	}
	m := s.macros["A"]
	if m == nil {
		t.Fatal("macro A not found")
	}
	want := []paste{{tag: "struct", prefix: "pre_", suffix: "_post"}, {prefix: "value_"}}
	if len(m.pastes) != len(want) || m.pastes[0] != want[0] || m.pastes[1] != want[1] {
		t.Errorf("pastes %+v, want %+v", m.pastes, want)
	}
	if got := strings.Join(m.idents, ","); got != "struct,pre_,_post,value_" {
		t.Errorf("replacement identifiers %s", got)
	}
}

// "x.h" is looked for in the including file's directory first: the same
// #include lines in another directory are another header pass.
func TestHeaderPassPerDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "vmlinux.h", fakeVmlinux)
	write(t, dir, "a/common.h", "#include \"../vmlinux.h\"\n")
	write(t, dir, "b/common.h", "struct task_struct { int pid; };\n")
	text := "#include \"common.h\"\nint f(struct task_struct *t) { return t->pid; }\n"
	p := NewParser(Options{CacheDir: t.TempDir()})
	for _, c := range []struct {
		sub  string
		uses bool
	}{{"a", true}, {"b", false}} {
		f, flags := seedFile(t, p, write(t, dir, c.sub+"/prog.bpf.c", text))
		if _, used := p.seedsFor(context.Background(), f, flags, nil, f.Src); used != c.uses {
			t.Errorf("%s/prog.bpf.c reaches vmlinux.h: %v, want %v", c.sub, used, c.uses)
		}
	}
}
