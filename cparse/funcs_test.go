package cparse

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

const funcsProgram = `#define ONE 1
struct pair { int a, b; };
static int sum(struct pair *p);
int g;

int first(struct pair *p)
{
	int x = sum(p);
	return x + ONE;
}

static int sum(struct pair *p)
{
	return p->a + p->b + g;
}

int last(void)
{
	struct pair p = { 1, 2 };
	return first(&p);
}

int tail;
`

// parseOpen parses text as the open document path with p.
func parseOpen(t *testing.T, p *Parser, path, text string) *File {
	t.Helper()
	f, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Errors) > 0 || f.AST == nil {
		t.Fatalf("errors: %v", f.Errors)
	}
	return f
}

// TestFuncParseEdits follows an open document through edits: the first
// parse translates every function, an edit inside one body only that one
// (the functions after it moved), a comment between functions none, and
// after Forget the next parse starts again.
func TestFuncParseEdits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prog.bpf.c")
	p := NewParser(Options{})
	whole := NewParser(Options{WholeFile: true})
	edited := strings.Replace(funcsProgram, "\tint x = sum(p);\n", "\tint x = sum(p);\n\n\tx++;\n", 1)
	steps := []struct {
		text        string
		cold, edits int64
	}{
		{funcsProgram, 1, 0},
		{edited, 1, 1},
		{strings.Replace(edited, "int last(void)", "// a comment\n\nint last(void)", 1), 1, 2},
	}
	for i, s := range steps {
		f := parseOpen(t, p, path, s.text)
		w := parseOpen(t, whole, path, s.text)
		if st := p.FuncStats(); st.Cold != s.cold || st.Edits != s.edits || st.Fallbacks != 0 {
			t.Fatalf("step %d: %+v, want %d cold parses and %d edits", i, st, s.cold, s.edits)
		}
		if len(f.Funcs) != 3 {
			t.Fatalf("step %d: %d functions", i, len(f.Funcs))
		}
		sameModel(t, fmt.Sprintf("step %d", i), f, w, "g", "tail")
	}
	builtFor := func() (n int) {
		p.preambles.mu.Lock()
		defer p.preambles.mu.Unlock()
		for _, e := range p.preambles.entries {
			if e.builtFor == path {
				n++
			}
		}
		return n
	}
	if builtFor() == 0 {
		t.Error("no preamble built for the open document")
	}
	p.Forget(path)
	if n := builtFor(); n != 0 {
		t.Errorf("after Forget: %d preambles built for the document", n)
	}
	parseOpen(t, p, path, funcsProgram)
	if st := p.FuncStats(); st.Cold != 2 {
		t.Errorf("after Forget: %+v, want a second cold parse", st)
	}
	// A file that is not open is translated whole.
	if err := os.WriteFile(path, []byte(funcsProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(context.Background(), path, nil); err != nil {
		t.Fatal(err)
	}
	if st := p.FuncStats(); st.Cold != 2 || st.Edits != 2 || st.Fallbacks != 0 {
		t.Errorf("a closed file: %+v", st)
	}
}

// sameModel reports where f's functions (spans, calls) and the variables
// vars differ from w's, the whole translation's.
func sameModel(t *testing.T, what string, f, w *File, vars ...string) {
	t.Helper()
	if len(f.Funcs) != len(w.Funcs) {
		t.Fatalf("%s: %d functions, whole %d", what, len(f.Funcs), len(w.Funcs))
	}
	for j, fn := range f.Funcs {
		wf := w.Funcs[j]
		if fn.Name != wf.Name || fn.Span != wf.Span || fn.BodySpan != wf.BodySpan || len(fn.Calls) != len(wf.Calls) {
			t.Fatalf("%s: %s at %v/%v, whole %s at %v/%v", what, fn.Name, fn.Span, fn.BodySpan, wf.Name, wf.Span, wf.BodySpan)
		}
		for k, c := range fn.Calls {
			wc := wf.Calls[k]
			if c.Span != wc.Span || len(c.Args) != len(wc.Args) {
				t.Fatalf("%s: %s's call %s at %v, whole %v", what, fn.Name, c.Name, c.Span, wc.Span)
			}
			for a, arg := range c.Args {
				if arg.Span != wc.Args[a].Span {
					t.Errorf("%s: %s's call %s: argument %d at %v, whole %v", what, fn.Name, c.Name, a, arg.Span, wc.Args[a].Span)
				}
			}
		}
	}
	for _, name := range vars {
		if v, wv := f.Var(name), w.Var(name); v == nil || v.Span != wv.Span || v.DeclSpan != wv.DeclSpan {
			t.Errorf("%s: %s at %v, whole %v", what, name, v, wv)
		}
	}
}

// TestFuncParseParallel checks that a cold parse of a big document, its
// functions translated in parallel chunks, gives the whole translation's
// model, and an edit after it translates one function.
func TestFuncParseParallel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // chunks on any machine
	var b strings.Builder
	b.WriteString(funcsProgram)
	for i := 0; b.Len() < 6*minChunkBytes; i++ {
		fmt.Fprintf(&b, "\nint f%d(struct pair *p)\n{\n\tint x = sum(p) + %d;\n\n\tif (x > g)\n\t\treturn first(p);\n\treturn last() + ONE;\n}\n", i, i)
	}
	text := b.String()
	path := filepath.Join(t.TempDir(), "prog.bpf.c")
	p := NewParser(Options{})
	whole := NewParser(Options{WholeFile: true})
	sameModel(t, "cold", parseOpen(t, p, path, text), parseOpen(t, whole, path, text), "g", "tail")
	if st := p.FuncStats(); st.Cold != 1 || st.Chunked != 1 {
		t.Fatalf("%+v, want one cold parse in chunks", st)
	}
	edited := strings.Replace(text, "sum(p) + 7;", "sum(p) + 7 + g;", 1)
	sameModel(t, "edit", parseOpen(t, p, path, edited), parseOpen(t, whole, path, edited), "g", "tail")
	if st := p.FuncStats(); st.Edits != 1 || st.Chunked != 1 {
		t.Errorf("%+v, want an edit of one function", st)
	}
}

func TestSplitSources(t *testing.T) {
	src := func(n int) cc.Source { return cc.Source{Value: make([]byte, n)} }
	sizes := func(chunks [][]cc.Source) (out []int) {
		for _, c := range chunks {
			n := 0
			for _, s := range c {
				n += len(s.Value.([]byte))
			}
			out = append(out, n)
		}
		return out
	}
	k := minChunkBytes
	for _, c := range []struct {
		srcs []cc.Source
		n    int
		want []int
	}{
		{[]cc.Source{src(10)}, 4, []int{10}},
		{[]cc.Source{src(k), src(k / 2)}, 2, []int{k + k/2}}, // too little for two
		{[]cc.Source{src(k), src(k), src(k), src(k)}, 2, []int{2 * k, 2 * k}},
		{[]cc.Source{src(3 * k), src(k), src(k), src(k)}, 2, []int{3 * k, 3 * k}},
		{[]cc.Source{src(k), src(k), src(k), src(k), src(k), src(k)}, 3, []int{2 * k, 2 * k, 2 * k}},
		{[]cc.Source{src(k), src(k), src(k)}, 8, []int{k, k, k}},
	} {
		if got := sizes(splitSources(c.srcs, c.n)); !slices.Equal(got, c.want) {
			t.Errorf("%v in %d: %v, want %v", sizes([][]cc.Source{c.srcs}), c.n, got, c.want)
		}
	}
}

// TestFuncParseFallbacks checks that texts where per-function translation
// could differ from a whole translation take the whole-file path.
func TestFuncParseFallbacks(t *testing.T) {
	cases := []struct{ want, text string }{
		{"#if after a function", funcsProgram + "#if ONE\nint h;\n#endif\n"},
		{"a directive inside a function body", strings.Replace(funcsProgram, "\treturn x + ONE;\n",
			"#define TWO 2\n\treturn x + TWO;\n", 1)},
		{whyLateInFunc, strings.Replace(funcsProgram, "\treturn x + ONE;\n", "\treturn x + LATER;\n", 1) + "#define LATER 3\n"},
		{whyLineInFunc, strings.Replace(funcsProgram, "\treturn x + ONE;\n", "\treturn x + WHERE;\n", 1) + "#define WHERE __LINE__\n"},
		{whyLineInDecl, funcsProgram + "#define WHERE __LINE__\nint at = WHERE;\n"},
		{"a function body is not closed", funcsProgram + "int open(void) {\n\treturn 1;\n"},
		{whyDeclaredAfter, strings.Replace(funcsProgram, "\treturn x + ONE;\n", "\treturn x + tail;\n", 1)},
		{whyDeclaredAfter, strings.Replace(funcsProgram, "\treturn x + ONE;\n", "\tstruct later *q = 0;\n\treturn q->v;\n", 1) + "struct later { int v; };\n"},
	}
	for _, c := range cases {
		want, text := c.want, c.text
		t.Run(want, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "prog.bpf.c")
			p := NewParser(Options{})
			if _, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(text)}); err != nil {
				t.Fatal(err)
			}
			if st := p.FuncStats(); st.Reasons[want] == 0 || st.Cold != 0 {
				t.Errorf("%+v, want a fallback because %s", st, want)
			}
		})
	}
}

// A function with an error (a member the headers lack) makes the document
// fall back to the whole file; edits of other functions fall back without
// translating per function again, an edit of that function translates it
// (and what its failure left out) again, reusing the declarations.
func TestFuncParseRemembersFunctionErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prog.bpf.c")
	p := NewParser(Options{})
	bad := strings.Replace(funcsProgram, "\treturn x + ONE;\n", "\treturn x + p->missing;\n", 1)
	parse := func(text string) FuncStats {
		t.Helper()
		if _, err := p.Parse(context.Background(), path, map[string][]byte{path: []byte(text)}); err != nil {
			t.Fatal(err)
		}
		return p.FuncStats()
	}
	if st := parse(bad); st.Reasons["errors in a function"] != 1 || st.Remembered != 0 {
		t.Fatalf("first parse: %+v", st)
	}
	elsewhere := strings.Replace(bad, "\treturn first(&p);\n", "\treturn first(&p) + 1;\n", 1)
	if st := parse(elsewhere); st.Remembered != 1 || st.Reasons["errors in a function"] != 2 {
		t.Errorf("edit of another function: %+v, want the fallback remembered", st)
	}
	still := strings.Replace(elsewhere, "p->missing", "p->missing + 1", 1)
	if st := parse(still); st.Remembered != 1 || st.Reasons["errors in a function"] != 3 {
		t.Errorf("edit of the function in error, still in error: %+v, want it translated again", st)
	}
	// The declarations and the other functions were kept: fixing the
	// function is an edit, not a cold parse.
	fixed := strings.Replace(still, "p->missing", "p->a", 1)
	if st := parse(fixed); st.Remembered != 1 || st.Cold != 0 || st.Edits != 1 {
		t.Errorf("edit of the function in error: %+v, want it translated per function", st)
	}
}

// A function nothing else names is left out of the declarations; an edit
// that names it translates them again, with its prototype. Macros, which
// may spell a definition, and files pasting tokens keep every prototype.
func TestFuncParseUnnamed(t *testing.T) {
	text := strings.Replace(funcsProgram, "int first(", "int prog(void)\n{\n\treturn 1;\n}\n\nint first(", 1)
	names := func(text string, headerMacro func(string) bool) []string {
		var out []string
		for _, name := range unnamedFuncs([]byte(text), topLevelRegions([]byte(text)), headerMacro) {
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}
	none := func(string) bool { return false }
	if got := names(text, none); !slices.Equal(got, []string{"last", "prog"}) {
		t.Errorf("unnamed %v, want last and prog (sum and first are called)", got)
	}
	if got := names(text, func(name string) bool { return name == "prog" }); !slices.Equal(got, []string{"last"}) {
		t.Errorf("unnamed %v with prog a header's macro, want last", got)
	}
	if got := names("#define MK(n) int n(void)\nMK(a)\n{\n\treturn 0;\n}\n", none); got != nil {
		t.Errorf("unnamed %v, want none (MK is a macro)", got)
	}
	if got := names("#define CAT(a, b) a ## b\n"+text, none); got != nil {
		t.Errorf("unnamed %v, want none (## may spell any name)", got)
	}

	path := filepath.Join(t.TempDir(), "prog.bpf.c")
	p := NewParser(Options{})
	whole := NewParser(Options{WholeFile: true})
	sameModel(t, "cold", parseOpen(t, p, path, text), parseOpen(t, whole, path, text), "g", "tail")
	calls := strings.Replace(text, "\treturn first(&p);\n", "\treturn first(&p) + prog();\n", 1)
	sameModel(t, "an edit naming prog", parseOpen(t, p, path, calls), parseOpen(t, whole, path, calls), "g", "tail")
	if st := p.FuncStats(); st.Cold != 2 || st.Edits != 0 || st.Fallbacks != 0 {
		t.Errorf("%+v, want the declarations translated again", st)
	}
	again := strings.Replace(calls, "\treturn 1;\n", "\treturn 2;\n", 1)
	sameModel(t, "an edit of prog", parseOpen(t, p, path, again), parseOpen(t, whole, path, again), "g", "tail")
	if st := p.FuncStats(); st.Edits != 1 {
		t.Errorf("%+v, want an edit of one function", st)
	}
}
