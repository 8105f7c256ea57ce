package cparse

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse/internal/walkgen"
)

// walk_gen.go is what walkgen makes of the vendored cc/v4's ast.go.
func TestWalkerGenerated(t *testing.T) {
	want, err := walkgen.Generate("../third_party/cc/ast.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("walk_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("walk_gen.go is stale: run go generate ./cparse")
	}
}

// reflectInspect is the reflection walker the generated one replaced: every
// exported field holding a pointer or a node interface, in field order.
func reflectInspect(v reflect.Value, fn func(cc.Node) bool) {
	switch v.Kind() {
	case reflect.Interface:
		if !v.IsNil() {
			reflectInspect(v.Elem(), fn)
		}
		return
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return
		}
	default:
		return
	}
	if n, ok := v.Interface().(cc.Node); ok && !fn(n) {
		return
	}
	s := v.Elem()
	for i := range s.NumField() {
		f := s.Type().Field(i)
		if f.IsExported() && !f.Anonymous && f.Type != reflect.TypeOf(cc.Token{}) &&
			(f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface) {
			reflectInspect(s.Field(i), fn)
		}
	}
}

// testdataFiles parses every program of the testdata.
func testdataFiles(t *testing.T) []*File {
	t.Helper()
	paths, _ := filepath.Glob("../testdata/*.bpf.c")
	if len(paths) < 10 {
		t.Fatalf("testdata programs: %d", len(paths))
	}
	p := NewParser(Options{IncludeDirs: []string{"../testdata/include"}})
	var files []*File
	for _, path := range paths {
		abs, _ := filepath.Abs(path)
		files = append(files, parse(t, p, abs, nil))
	}
	return files
}

// tokenBounds is the first and last of n's tokens (by sequence number), as
// cc.NodeTokens lists them all.
func tokenBounds(n cc.Node) (first, last cc.Token) {
	for _, tok := range cc.NodeTokens(n) {
		if tok.Seq() == 0 {
			continue
		}
		if first.Seq() == 0 || tok.Seq() < first.Seq() {
			first = tok
		}
		if tok.Seq() > last.Seq() {
			last = tok
		}
	}
	return first, last
}

// The generated walker visits what reflection finds, in the same order, on
// every test program's AST (headers included), and a node's span is that
// of all its tokens.
func TestWalkerMatchesReflection(t *testing.T) {
	nodes := 0
	for _, f := range testdataFiles(t) {
		if f.AST == nil {
			continue
		}
		var got, want []cc.Node
		Inspect(f.AST.TranslationUnit, func(n cc.Node) bool { got = append(got, n); return true })
		reflectInspect(reflect.ValueOf(f.AST.TranslationUnit), func(n cc.Node) bool { want = append(want, n); return true })
		if len(got) != len(want) {
			t.Fatalf("%s: %d nodes, reflection finds %d", f.Path, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: node %d is %T, reflection's is %T", f.Path, i, got[i], want[i])
			}
		}
		nodes += len(got)
		// Spans of a sample of nodes: bounds against all of the tokens.
		for i := 0; i < len(got); i += 97 {
			first, last := tokenBounds(got[i])
			b := f.spans.bounds(got[i])
			if b.first.Seq() != first.Seq() || b.last.Seq() != last.Seq() {
				t.Errorf("%s: %T: bounds %d-%d, tokens %d-%d", f.Path, got[i], b.first.Seq(), b.last.Seq(), first.Seq(), last.Seq())
			}
		}
	}
	if nodes < 10000 {
		t.Errorf("only %d nodes compared", nodes)
	}
}

// A call's span is its callee's first token to its ')' (spanMemo does not
// walk the arguments): the same span as all of its tokens give.
func TestCallSpansAreTheirTokens(t *testing.T) {
	calls := 0
	for _, f := range testdataFiles(t) {
		for _, fn := range f.Funcs {
			for _, c := range fn.Calls {
				first, last := tokenBounds(c.Expr)
				if first.Seq() == 0 {
					continue
				}
				want := Span{File: f.tokenSpan(first).File, Start: f.tokenSpan(first).Start, End: f.tokenSpan(last).End}
				if got := f.SpanOf(c.Expr); got != want {
					t.Errorf("%s: call %s: span %+v, its tokens give %+v", f.Path, c.Name, got, want)
				}
				calls++
			}
		}
	}
	if calls < 100 {
		t.Errorf("only %d calls compared", calls)
	}
}
