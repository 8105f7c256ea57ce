package cparse

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// which returns the value of the macro WHICH, the tests' way of telling
// which of several same-named headers was included.
func which(t *testing.T, f *File) string {
	t.Helper()
	if f.AST == nil {
		t.Fatalf("no AST: %+v", f.Errors)
	}
	m := f.AST.Macros["WHICH"]
	if m == nil {
		t.Fatalf("WHICH is not defined: %+v", f.Errors)
	}
	var b strings.Builder
	for _, tok := range m.ReplacementList() {
		b.WriteString(tok.SrcStr())
	}
	return b.String()
}

// Angle includes search -I before the system directories, so a project's
// bpf/bpf_helpers.h wins over /usr/include's.
func TestAngleIncludeThroughI(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "libbpf/bpf/bpf_helpers.h", "#define WHICH project\n")
	write(t, dir, "vmdir/vmlinux.h", "typedef int from_vmdir;\n")
	path := write(t, dir, "prog.bpf.c", "#include <vmlinux.h>\n#include <bpf/bpf_helpers.h>\nfrom_vmdir x;\n")
	f := parse(t, NewParser(Options{IncludeDirs: []string{filepath.Join(dir, "vmdir"), filepath.Join(dir, "libbpf")}}), path, nil)
	if len(f.Errors) > 0 {
		t.Fatalf("errors: %+v", f.Errors)
	}
	if got := which(t, f); got != "project" {
		t.Fatalf("<bpf/bpf_helpers.h> came from %q, want the -I directory", got)
	}
}

// The search order is clang's: includer's directory, -iquote (quoted
// only), -I, -isystem, system directories, -idirafter.
func TestSearchOrder(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"quote", "inc", "sys", "after"} {
		write(t, dir, d+"/h.h", "#define WHICH "+d+"\n")
	}
	write(t, dir, "after/only_after.h", "#define WHICH after\n")
	write(t, dir, "quote/only_quote.h", "#define WHICH quote\n")
	all := Options{QuoteDirs: []string{filepath.Join(dir, "quote")}, IncludeDirs: []string{filepath.Join(dir, "inc")},
		SystemDirs: []string{filepath.Join(dir, "sys")}, AfterDirs: []string{filepath.Join(dir, "after")}}
	for _, c := range []struct {
		src, want string
		opts      Options
	}{
		{`#include "h.h"`, "quote", all},
		{`#include <h.h>`, "inc", all},
		{`#include <h.h>`, "sys", Options{SystemDirs: all.SystemDirs, AfterDirs: all.AfterDirs}},
		{`#include <h.h>`, "after", Options{AfterDirs: all.AfterDirs}},
		{`#include "only_after.h"`, "after", all},
	} {
		path := write(t, dir, "src/prog.bpf.c", c.src+"\nint x;\n")
		if got := which(t, parse(t, NewParser(c.opts), path, nil)); got != c.want {
			t.Errorf("%s with %+v: got %s, want %s", c.src, c.opts, got, c.want)
		}
	}
	// -iquote is not searched for <x.h>.
	path := write(t, dir, "src/prog.bpf.c", "#include <only_quote.h>\nint x;\n")
	f := parse(t, NewParser(all), path, nil)
	if len(f.Errors) != 1 || f.Errors[0].Missing != "<only_quote.h>" {
		t.Fatalf("<only_quote.h> through -iquote: %+v", f.Errors)
	}
	// The includer's own directory comes first for "x.h".
	write(t, dir, "src/h.h", "#define WHICH local\n")
	path = write(t, dir, "src/prog.bpf.c", "#include \"h.h\"\nint x;\n")
	if got := which(t, parse(t, NewParser(all), path, nil)); got != "local" {
		t.Errorf("\"h.h\" beside the file: got %s", got)
	}
}

func TestAbsoluteInclude(t *testing.T) {
	dir := t.TempDir()
	h := write(t, dir, "elsewhere/abs.h", "#define WHICH absolute\n")
	path := write(t, dir, "src/prog.bpf.c", "#include \""+h+"\"\nint x;\n")
	if got := which(t, parse(t, NewParser(Options{}), path, nil)); got != "absolute" {
		t.Fatalf("got %s", got)
	}
	path = write(t, dir, "src/prog.bpf.c", "#include <"+h+">\nint x;\n")
	if got := which(t, parse(t, NewParser(Options{}), path, nil)); got != "absolute" {
		t.Fatalf("<abs>: got %s", got)
	}
}

// clang opens dir/../x through the OS: after a symlinked directory, ".."
// is the link target's parent, not the lexical one.
func TestDotDotAfterSymlink(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "real/include/linux/filter.h", "#define WHICH through_link\n")
	write(t, dir, "real/progs/x.h", "#include \"../include/linux/filter.h\"\n")
	write(t, dir, "include/linux/filter.h", "#define WHICH lexical\n")
	if err := os.Symlink(filepath.Join(dir, "real/progs"), filepath.Join(dir, "progs")); err != nil {
		t.Fatal(err)
	}
	path := write(t, dir, "main/prog.bpf.c", "#include \"../progs/x.h\"\nint x;\n")
	f := parse(t, NewParser(Options{}), path, nil)
	if got := which(t, f); got != "through_link" {
		t.Fatalf("got %s, want the header through the link", got)
	}
}

// A file the compile database does not list borrows the flags of its
// nearest entry (same directory first), as clangd does.
func TestBorrowedFlags(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inc_near/h.h", "#define WHICH near\n")
	write(t, dir, "inc_far/h.h", "#define WHICH far\n")
	write(t, dir, "compile_commands.json", `[
		{"directory": "`+dir+`", "file": "other/far.bpf.c", "arguments": ["clang", "-Iinc_far", "-c", "other/far.bpf.c"]},
		{"directory": "`+dir+`", "file": "src/listed.bpf.c", "command": "clang -I inc_near -c src/listed.bpf.c"}]`)
	path := write(t, dir, "src/new.bpf.c", "#include <h.h>\nint x;\n")
	p := NewParser(Options{})
	f := parse(t, p, path, nil)
	if got := which(t, f); got != "near" {
		t.Fatalf("borrowed %s flags, want the same directory's", got)
	}
	cf := p.CompileFlags(path)
	if !strings.Contains(cf.Source, "borrowed from "+filepath.Join(dir, "src/listed.bpf.c")) || f.FlagsSource != cf.Source {
		t.Errorf("source %q / %q", cf.Source, f.FlagsSource)
	}
	if !contains(cf.Args, "-I"+filepath.Join(dir, "inc_near")) {
		t.Errorf("args %v", cf.Args)
	}
}

// A database is JSON or a flags file by content, whatever its name.
func TestDatabaseByContent(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inc/h.h", "#define WHICH flagsfile\n")
	db := write(t, dir, "my.flags", "-I\ninc\n-DVALUE=2\n")
	path := write(t, dir, "prog.bpf.c", "#include <h.h>\nint x = VALUE;\n")
	f := parse(t, NewParser(Options{CompileDB: db}), path, nil)
	if got := which(t, f); got != "flagsfile" || len(f.Errors) > 0 {
		t.Fatalf("%s %+v", got, f.Errors)
	}
	bad := write(t, dir, "broken.json", "[{\"file\": ")
	f = parse(t, NewParser(Options{CompileDB: bad}), path, nil)
	if len(f.Errors) == 0 || f.Errors[0].Severity != SevWarning || !strings.Contains(f.Errors[0].Message, "broken.json") {
		t.Fatalf("broken database: %+v", f.Errors)
	}
}

// One missing header is one error, at the user's #include, naming the
// chain; what failed because of it is not reported.
func TestOneErrorPerMissingHeader(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "inc/wrapper.h", "#pragma once\n#include <types_missing.h>\nint other(void);\n")
	path := write(t, dir, "prog.bpf.c", "// prog\n#include <wrapper.h>\n#include <wrapper.h>\nint f(void) { my_u64 v = 1; return v; }\nint ok(void) { return other(); }\n")
	f := parse(t, NewParser(Options{IncludeDirs: []string{filepath.Join(dir, "inc")}}), path, nil)
	if len(f.Errors) != 1 {
		t.Fatalf("want exactly one error, got %d: %+v", len(f.Errors), f.Errors)
	}
	e := f.Errors[0]
	if e.Missing != "<types_missing.h>" || e.Span.File != path || e.Span.Start.Line != 2 ||
		!strings.Contains(e.Message, "wrapper.h:2") || !strings.Contains(e.Message, "prog.bpf.c:2") || e.Hint == "" {
		t.Fatalf("error %+v", e)
	}
	if len(e.Related) != 1 || e.Related[0].Span.File != filepath.Join(dir, "inc/wrapper.h") || e.Related[0].Span.Start.Line != 2 {
		t.Fatalf("related %+v", e.Related)
	}
	if f.Func("ok") == nil {
		t.Error("the rest of the file was not analysed")
	}
}

// An error inside a header is reported at the user's #include, with the
// header location as related information.
func TestErrorInHeaderAtUserInclude(t *testing.T) {
	dir := t.TempDir()
	h := write(t, dir, "inc/bad.h", "int fine;\nint broken = undeclared_thing;\n")
	path := write(t, dir, "prog.bpf.c", "int a;\n#include \"inc/bad.h\"\n")
	f := parse(t, NewParser(Options{}), path, nil)
	if len(f.Errors) != 1 {
		t.Fatalf("%+v", f.Errors)
	}
	e := f.Errors[0]
	if e.Span.File != path || e.Span.Start.Line != 2 || !strings.Contains(e.Message, "bad.h") ||
		len(e.Related) == 0 || e.Related[0].Span.File != h || e.Related[0].Span.Start.Line != 2 {
		t.Fatalf("%+v", e)
	}
}

func TestIncludeCycle(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.h", "#include \"b.h\"\nint in_a;\n")
	write(t, dir, "b.h", "#include \"a.h\"\nint in_b;\n")
	write(t, dir, "self.h", "#include \"self.h\"\n")
	for _, c := range []struct{ src, want string }{
		{"#include \"a.h\"\nint x;\n", "a.h -> b.h -> a.h"},
		{"int y;\n#include \"self.h\"\nint x;\n", "self.h -> self.h"},
	} {
		path := write(t, dir, "prog.bpf.c", c.src)
		start := time.Now()
		f := parse(t, NewParser(Options{}), path, nil)
		if time.Since(start) > 5*time.Second {
			t.Errorf("%q took %v", c.src, time.Since(start))
		}
		var found bool
		for _, e := range f.Errors {
			found = found || strings.Contains(e.Message, "include cycle") && strings.Contains(e.Message, c.want) && e.Span.File == path
		}
		if !found {
			t.Errorf("%q: no cycle error: %+v", c.src, f.Errors)
		}
	}
	// A guarded cycle is fine, as in clang.
	write(t, dir, "ga.h", "#ifndef GA\n#define GA\n#include \"gb.h\"\n#endif\n")
	write(t, dir, "gb.h", "#ifndef GB\n#define GB\n#include \"ga.h\"\n#endif\n")
	path := write(t, dir, "prog.bpf.c", "#include \"ga.h\"\nint x;\n")
	if f := parse(t, NewParser(Options{}), path, nil); len(f.Errors) > 0 {
		t.Errorf("guarded cycle: %+v", f.Errors)
	}
}

// Something that is not a regular file, as a header, ends the parse fast
// with a diagnostic at the #include instead of blocking or exhausting
// memory.
func TestHeaderNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.h")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, inc := range []string{`"fifo.h"`, `"/dev/zero"`, `"../../../../../../../../dev/zero"`} {
		path := write(t, dir, "prog.bpf.c", "int a;\n#include "+inc+"\nint b;\n")
		done := make(chan *File, 1)
		go func() { done <- parse(t, NewParser(Options{}), path, nil) }()
		select {
		case f := <-done:
			if len(f.Errors) != 1 || f.Errors[0].Span.Start.Line != 2 || !strings.Contains(f.Errors[0].Message, "not a regular file") {
				t.Errorf("%s: %+v", inc, f.Errors)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: parse did not end", inc)
		}
	}
	// The main file too, and the size cap.
	if _, err := NewParser(Options{}).Parse(context.Background(), fifo, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO as main file: %v", err)
	}
	big := write(t, dir, "big.h", strings.Repeat("int x;\n", 100))
	path := write(t, dir, "prog.bpf.c", "#include \"big.h\"\n")
	f := parse(t, NewParser(Options{MaxFileSize: 200}), path, nil)
	if len(f.Errors) != 1 || !strings.Contains(f.Errors[0].Message, "too large") {
		t.Errorf("%s over the cap: %+v", big, f.Errors)
	}
}

// Nesting that would overflow cc/v4's recursion is refused before it
// sees the text; the rest of the file is still parsed.
func TestDeepNesting(t *testing.T) {
	dir := t.TempDir()
	for name, bad := range map[string]string{
		"parens":    "int deep = " + strings.Repeat("(", 100_000) + "0;\n",
		"plus":      "int sum = " + strings.Repeat("0 + ", 1_000_000) + "0;\n",
		"ifs":       "int g(int a) { " + strings.Repeat("if (a) ", 20_000) + "a++; return a; }\n",
		"directive": "#if " + strings.Repeat("(", 100_000) + "1\n#endif\n",
	} {
		path := write(t, dir, name+".bpf.c", "int before(void) { return 1; }\n"+bad+"int after(void) { return 2; }\n")
		start := time.Now()
		f := parse(t, NewParser(Options{}), path, nil)
		if len(f.Errors) == 0 || f.Errors[0].Span.Start.Line != 2 {
			t.Errorf("%s: %+v", name, f.Errors)
		}
		if f.Func("before") == nil {
			t.Errorf("%s: the rest of the file was not parsed", name)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}

func TestParseHonoursCancellation(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "h.h", "int x;\n")
	path := write(t, dir, "prog.bpf.c", "#include \"h.h\"\nint y;\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f, err := NewParser(Options{}).Parse(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.AST != nil || len(f.Errors) == 0 || !strings.Contains(f.Errors[len(f.Errors)-1].Message, "cancelled") {
		t.Fatalf("%+v", f.Errors)
	}
}

// --sysroot prefixes the system directories (not clang's resource
// directory), and -include reads a header before the source.
func TestSysrootAndForcedInclude(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "root/usr/include/only_in_root.h", "#define WHICH sysroot\n")
	forced := write(t, dir, "forced.h", "#define FORCED 7\n")
	path := write(t, dir, "prog.bpf.c", "#include <only_in_root.h>\nint x = FORCED;\n")
	p := NewParser(Options{Sysroot: filepath.Join(dir, "root"), ForcedHeaders: []string{forced}})
	f := parse(t, p, path, nil)
	if got := which(t, f); got != "sysroot" || len(f.Errors) > 0 {
		t.Fatalf("%s %+v", got, f.Errors)
	}
	if !contains(f.Flags, "--sysroot="+filepath.Join(dir, "root")) || !contains(f.Flags, forced) {
		t.Errorf("flags %v", f.Flags)
	}
}

// directiveMatches finds what the regexp over the whole text finds.
func TestDirectiveMatches(t *testing.T) {
	texts := []string{"#include <a.h>", "int x;\n  #  include \"b.h\"\r\n#include_next <c.h>\n#import MACRO\n\t#define A\n#include", "x #include <no.h>\n"}
	files, _ := filepath.Glob("../testdata/include/*.h")
	files = append(files, "../lsp/testdata/vmlinux.bpf.c", "parse.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	for _, text := range texts {
		want := includeDirective.FindAllSubmatchIndex([]byte(text), -1)
		if got := directiveMatches([]byte(text)); !reflect.DeepEqual(got, want) {
			t.Errorf("%.40q: %v, want %v", text, got, want)
		}
	}
}

// TestSearchDirs: the exported search order is clang's, without the
// default system directories and the made-up roots.
func TestSearchDirs(t *testing.T) {
	quoted, angle := SearchDirs([]string{"-iquote", "q", "-Ia", "-I", "/s", "-isystem", "/s", "-idirafter", "after", "-Ia"}, "/p")
	if want := []string{"/p/q", "/p/a", "/s", "/p/after"}; !slices.Equal(quoted, want) {
		t.Errorf("quoted = %v, want %v", quoted, want)
	}
	if want := []string{"/p/a", "/s", "/p/after"}; !slices.Equal(angle, want) {
		t.Errorf("angle = %v, want %v", angle, want)
	}
}
