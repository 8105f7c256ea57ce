package cparse

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modernc.org/cc/v4"
)

func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func parse(t *testing.T, p *Parser, path string, overlay map[string][]byte) *File {
	t.Helper()
	f, err := p.Parse(context.Background(), path, overlay)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The must-show: a program on a real vmlinux.h from this kernel
// plus libbpf's bpf_helpers.h, bpf_printk with 4 arguments, and the tags of
// a private(A) root.
func TestVmlinuxProgram(t *testing.T) {
	path := vmlinuxProgram(t, vmlinuxBody)
	f := parse(t, NewParser(Options{CacheDir: t.TempDir()}), path, nil)
	if f.AST == nil || len(f.Errors) > 0 {
		t.Fatalf("translate failed: %+v", f.Errors)
	}
	groot := f.Var("groot")
	if groot == nil || groot.Section != ".data.A" {
		t.Fatalf("groot: %+v", groot)
	}
	if len(groot.Tags) != 1 || groot.Tags[0].Kind != "btf_decl_tag" || groot.Tags[0].Value != "contains:node_data:node" {
		t.Fatalf("groot tags: %+v", groot.Tags)
	}
	// bpf_printk with more than three arguments packs them into ___param[]
	// for bpf_trace_vprintk: all four must be there.
	var params int64 = -1
	cparseInspectDecls(f.Func("prog").Def, func(d *cc.Declarator) {
		if d.Name() == "___param" {
			if at, ok := d.Type().(*cc.ArrayType); ok {
				params = at.Len()
			}
		}
	})
	if params != 4 {
		t.Fatalf("bpf_printk passed %d arguments, want 4", params)
	}
	var printk *Call
	for _, c := range f.Func("prog").Calls {
		if c.Spelled == "bpf_printk" && strings.HasPrefix(c.Name, "bpf_trace_") {
			printk = c
		}
	}
	if printk == nil {
		t.Fatal("no bpf_printk call recorded")
	}

	// Edits parse on the trimmed header too: one that names new kernel
	// types, and one that uses a macro the file did not use before.
	p := NewParser(Options{CacheDir: t.TempDir()})
	parse(t, p, path, nil)
	for _, extra := range []string{
		"\nint more(struct sock *sk) { return sk->__sk_common.skc_family; }\n",
		"\nint more2(struct task_struct *t) { return BPF_CORE_READ(t, real_parent, tgid) + bpf_core_field_exists(t->pid); }\n",
	} {
		g := parse(t, p, path, map[string][]byte{path: []byte(vmlinuxBody + extra)})
		if g.AST == nil || len(g.Errors) > 0 {
			t.Fatalf("after an edit: %+v", g.Errors)
		}
	}
}

func cparseInspectDecls(n cc.Node, fn func(*cc.Declarator)) {
	Inspect(n, func(n cc.Node) bool {
		if d, ok := n.(*cc.Declarator); ok {
			fn(d)
		}
		return true
	})
}

func TestIncludeResolution(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inc/a.h", "#define FROM_A 1\n")
	write(t, dir, "inc2/a.h", "#define FROM_CLI 1\n")
	src := "#include \"a.h\"\n#ifndef FROM_A\n#ifndef FROM_CLI\n#error not found\n#endif\n#endif\nint x = VALUE;\n"

	// compile_flags.txt beside the file.
	p1 := write(t, dir, "p1/prog.bpf.c", src)
	write(t, dir, "p1/compile_flags.txt", "-I../inc\n-DVALUE=3\n")
	f := parse(t, NewParser(Options{}), p1, nil)
	if len(f.Errors) > 0 || f.AST == nil {
		t.Fatalf("compile_flags.txt: %+v", f.Errors)
	}
	if !contains(f.Flags, "-I"+filepath.Join(dir, "inc")) || !contains(f.Flags, "-DVALUE=3") {
		t.Errorf("flags %v", f.Flags)
	}

	// compile_commands.json in build/ of an ancestor, with "command".
	p2 := write(t, dir, "p2/src/prog.bpf.c", src)
	write(t, dir, "p2/build/compile_commands.json", `[{"directory": "`+filepath.Join(dir, "p2")+`", "file": "src/prog.bpf.c",
		"command": "clang -target bpf -I ../inc -D VALUE=4 -c src/prog.bpf.c"}]`)
	f = parse(t, NewParser(Options{}), p2, nil)
	if len(f.Errors) > 0 || !contains(f.Flags, "-DVALUE=4") {
		t.Fatalf("compile_commands.json: %+v %v", f.Errors, f.Flags)
	}

	// Command-line -I comes before the database's directories.
	f = parse(t, NewParser(Options{IncludeDirs: []string{filepath.Join(dir, "inc2")}}), p1, nil)
	if len(f.Errors) > 0 || f.Flags[0] != "-I"+filepath.Join(dir, "inc2") {
		t.Fatalf("CLI -I: %+v %v", f.Errors, f.Flags)
	}
	if m := f.AST.Macros["FROM_CLI"]; m == nil {
		t.Error("the CLI include directory did not win")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestOverlayServesUnsavedText(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "prog.bpf.c", "int on_disk;\n")
	hdr := write(t, dir, "h.h", "int from_disk_header;\n")
	f := parse(t, NewParser(Options{}), path, map[string][]byte{
		path: []byte("#include \"h.h\"\nint in_editor;\n"),
		hdr:  []byte("int from_unsaved_header;\n"),
	})
	if f.Var("in_editor") == nil || f.Var("on_disk") != nil || f.Var("from_unsaved_header") == nil {
		t.Fatalf("overlay not used: vars %v", varNames(f))
	}
}

func varNames(f *File) []string {
	var n []string
	for _, v := range f.Vars {
		n = append(n, v.Name)
	}
	return n
}

func TestTagsAtEveryPlacement(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "tags.bpf.c", `#define __guarded_by(l) __attribute__((btf_type_tag("guarded_by:" #l)))
struct s {
	int lock;
	long after __guarded_by(lock);
	long __guarded_by(lock) before;
	long *__guarded_by(lock) ptr;
	long raw __attribute__((btf_decl_tag("guarded_by:lock")));
};
int glock;
long gcount __guarded_by(glock);
long *__guarded_by(glock) gptr;
`)
	f := parse(t, NewParser(Options{}), path, nil)
	s := f.Structs["s"]
	if s == nil {
		t.Fatal("struct s missing")
	}
	want := map[string]struct {
		kind    string
		pointee bool
	}{"after": {"btf_type_tag", false}, "before": {"btf_type_tag", false}, "ptr": {"btf_type_tag", true}, "raw": {"btf_decl_tag", false}}
	for _, fd := range s.Fields {
		w, ok := want[fd.Name]
		if !ok {
			continue
		}
		if len(fd.Tags) != 1 || fd.Tags[0].Value != "guarded_by:lock" || fd.Tags[0].Kind != w.kind || fd.Tags[0].Pointee != w.pointee {
			t.Errorf("field %s: tags %+v", fd.Name, fd.Tags)
		}
		if fd.Tags[0].Span.Start.Line != fd.Span.Start.Line {
			t.Errorf("field %s: tag at line %d", fd.Name, fd.Tags[0].Span.Start.Line)
		}
	}
	if g := f.Var("gcount"); g == nil || len(g.Tags) != 1 || g.Tags[0].Pointee {
		t.Errorf("gcount: %+v", g)
	}
	if g := f.Var("gptr"); g == nil || len(g.Tags) != 1 || !g.Tags[0].Pointee {
		t.Errorf("gptr: %+v", g)
	}
}

func TestMacroCallArgumentSpans(t *testing.T) {
	path, _ := filepath.Abs("../testdata/rb_add_locked.bpf.c")
	f := parse(t, NewParser(Options{IncludeDirs: []string{"../testdata/include"}}), path, nil)
	var add *Call
	for _, c := range f.Func("add").Calls {
		if c.Spelled == "bpf_rbtree_add" {
			add = c
		}
	}
	if add == nil || add.Name != "bpf_rbtree_add_impl" {
		t.Fatalf("bpf_rbtree_add call: %+v", add)
	}
	if len(add.Args) != 5 || add.Args[0].Text != "&groot" || add.Args[1].Text != "&n->node" || add.Args[2].Text != "less" {
		t.Fatalf("args: %+v", add.Args)
	}
	a := add.Args[1].Span
	if got := string(f.Src[a.Start.Offset:a.End.Offset]); got != "&n->node" || a.Start.Line != 27 {
		t.Errorf("arg span %d:%d %q", a.Start.Line, a.Start.Col, got)
	}
}

func TestErrorRecoveryKeepsOtherFunctions(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "broken.bpf.c", `int ok1(void) { return 1; }
int broken(void) { return undefined_thing + ; }
int ok2(void) { return ok1(); }
`)
	f := parse(t, NewParser(Options{}), path, nil)
	if f.AST == nil {
		t.Fatal("no AST despite recovery")
	}
	if len(f.Errors) == 0 || f.Errors[0].Span.Start.Line != 2 {
		t.Fatalf("want an error on line 2, got %+v", f.Errors)
	}
	if f.Func("ok2") == nil || len(f.Func("ok2").Calls) != 1 || f.Func("ok2").Calls[0].Callee == nil {
		t.Fatalf("ok2 lost its typed call: %+v", f.Func("ok2"))
	}
}

func TestMissingHeaderAtIncludeLine(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "prog.bpf.c", "// a program\n#include \"vmlinux.h\"\nint x;\nint f(void) { return x; }\n")
	f := parse(t, NewParser(Options{}), path, nil)
	if len(f.Errors) == 0 {
		t.Fatal("no error for a missing header")
	}
	e := f.Errors[0]
	if e.Span.Start.Line != 2 || e.Missing == "" || !strings.Contains(e.Hint, "bpftool btf dump") {
		t.Fatalf("error %+v", e)
	}
	if f.Func("f") == nil {
		t.Error("the rest of the file was not parsed")
	}
}

// cc/v4 v4.31.0 loops forever, allocating, on input ending in `int f(int *`.
func TestEOFInsidePointerDeclaratorTerminates(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"int f(int *", "int f(int * ;", "void g(void) { int *", "struct s { int *"} {
		path := write(t, dir, "eof.bpf.c", src)
		done := make(chan *File, 1)
		go func() {
			f, _ := NewParser(Options{}).Parse(context.Background(), path, nil)
			done <- f
		}()
		select {
		case f := <-done:
			if len(f.Errors) == 0 {
				t.Errorf("%q: no error", src)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%q: parse did not finish", src)
		}
	}
}
