package cc // import "modernc.org/cc/v4"

import (
	stderrors "errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// bpf-lsp patch 10 tests: a translation resumed from a Preamble gives what a
// translation of the whole unit gives.

const testPredefined = `#define __SIZE_TYPE__ unsigned long
#define __PTRDIFF_TYPE__ long
#define __WCHAR_TYPE__ int
#define __UINT16_TYPE__ unsigned short
#define __UINT32_TYPE__ unsigned
#define __UINT64_TYPE__ unsigned long
#define __SIZEOF_LONG_DOUBLE__ 16
#define __STDC_VERSION__ 201710L
#define __STDC__ 1
`

var testHeaders = fstest.MapFS{
	"guarded.h": {Data: []byte(`#ifndef GUARDED_H
#define GUARDED_H
typedef unsigned int u32;
struct pair { u32 a, b; };
static inline u32 pair_sum(struct pair *p) { return p->a + p->b; }
#define PAIR_INIT { 1, 2 }
#endif
`)},
	"counted.h": {Data: []byte(`#ifndef COUNTED_H
#define COUNTED_H
int counted_twice;
#endif
`)},
	"types.h": {Data: []byte(`typedef unsigned long long u64;
typedef struct { int lock; } spin_t;
enum color { RED, GREEN = 5, BLUE };
struct node;
struct node *node_new(void);
struct list { struct list *next; int len; };
extern int table[];
static int helper(int);
int proto(int a, int b);
struct outer { struct { int inner; union { long deep; }; }; int x; };
#define SQUARE(x) ((x) * (x))
#define NAME "types"
#define TEMP 1
#define GONE 2
`)},
}

func testConfig(t testing.TB) *Config {
	abi, err := NewABI("linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return &Config{ABI: abi, FS: testHeaders, IncludePaths: []string{""}, SysIncludePaths: []string{""}}
}

func testSources(names, texts []string) []Source {
	out := []Source{{Name: "<predefined>", Value: testPredefined}, {Name: "<builtin>", Value: Builtin}}
	for i := range names {
		out = append(out, Source{Name: names[i], Value: texts[i]})
	}
	return out
}

// preambleCases are programs split at a point between declarations.
var preambleCases = []struct {
	name, prefix, body string
	mismatch           bool // the body completes a tag the prefix used incompletely
}{
	{name: "typedefs and inline functions", prefix: "#include \"guarded.h\"\n#include \"types.h\"\n", body: `
struct pair g = PAIR_INIT;
u64 f(spin_t *s, struct list *l) {
	u32 x = pair_sum(&g);
	return s->lock + l->next->len + x + SQUARE(3) + sizeof(NAME);
}
`},
	{name: "macros redefined and undefined", prefix: "#include \"types.h\"\n", body: `
#undef TEMP
#define TEMP 3
#undef GONE
int a = TEMP;
#ifdef GONE
int not_here = 1;
#else
int b = SQUARE(TEMP);
#endif
#define LOCAL 7
int c = LOCAL + __COUNTER__ + __LINE__;
const char *file = __FILE__;
`},
	{name: "enums", prefix: "#include \"types.h\"\n", body: `
enum color c = GREEN;
int v[BLUE];
int f(enum color x) { switch (x) { case RED: return 1; case BLUE: return 2; default: return v[0]; } }
`},
	{name: "static function declared then defined", prefix: "#include \"types.h\"\n", body: `
static int helper(int x) { return x + 1; }
int proto(int a, int b) { return helper(a) * b; }
int user(void) { return helper(2) + proto(1, 2) + table[0]; }
int table[4];
`},
	{name: "include guards", prefix: "#include \"guarded.h\"\n#include \"counted.h\"\n", body: `
#include "guarded.h"
#include "counted.h"
u32 again(struct pair p) { return pair_sum(&p) + counted_twice; }
`},
	{name: "struct tag declared in prefix, used opaquely", prefix: "#include \"types.h\"\n", body: `
struct node *keep(struct node *n) { return n ? n : node_new(); }
`},
	{name: "struct tag completed by the body", prefix: "#include \"types.h\"\n", body: `
struct node { int key; };
int key(void) { return node_new()->key; }
`, mismatch: true},
	{name: "errors in the body", prefix: "#include \"types.h\"\n", body: `
int f(spin_t *s) { return s->missing + undeclared; }
int g(void) { return proto(1); }
`},
	{name: "members of preamble struct types", prefix: "#include \"guarded.h\"\n#include \"types.h\"\n", body: `
struct wrap { struct pair p; struct outer o; union { struct list l; } u; };
long g(struct outer *o, struct wrap *w) { return o->inner + o->deep + w->o.deep + w->p.a + w->u.l.len; }
`},
	{name: "prefix macros in declarations", prefix: "#define DECL(t, n) t n\n#define SEC(x) __attribute__((section(x)))\n#include \"types.h\"\n", body: `
DECL(int, x) SEC("maps");
SEC("tp") int prog(void *ctx) { return x + RED; }
`},
}

func TestTranslateAfter(t *testing.T) {
	for _, tc := range preambleCases {
		t.Run(tc.name, func(t *testing.T) {
			full, fullErr := Translate(testConfig(t), testSources([]string{"pre.c", "body.c"}, []string{tc.prefix, tc.body}))
			pre, err := TranslatePreamble(testConfig(t), testSources([]string{"pre.c"}, []string{tc.prefix}))
			if err != nil {
				t.Fatalf("TranslatePreamble: %v", err)
			}
			got, gotErr := TranslateAfter(testConfig(t), pre, []Source{{Name: "body.c", Value: tc.body}})
			if tc.mismatch {
				if !stderrors.Is(gotErr, ErrPreambleMismatch) {
					t.Fatalf("TranslateAfter: %v, want ErrPreambleMismatch", gotErr)
				}
				return
			}
			if fmt.Sprint(gotErr) != fmt.Sprint(fullErr) {
				t.Fatalf("errors differ:\nresumed: %v\nfull:    %v", gotErr, fullErr)
			}
			if (got == nil) != (full == nil) {
				t.Fatalf("AST: resumed %v, full %v", got != nil, full != nil)
			}
			if full == nil {
				return
			}
			if g, w := macroTable(got), macroTable(full); g != w {
				t.Errorf("macros differ:\nresumed: %s\nfull:    %s", g, w)
			}
			if d := lineDiff(typeTable(got, redeclared(got)), typeTable(full, redeclared(got))); d != "" {
				t.Errorf("types differ (- resumed, + full):\n%s", d)
			}
			if d := lineDiff(scopeTable(got.Scope), scopeTable(full.Scope)); d != "" {
				t.Errorf("file scopes differ (- resumed, + full):\n%s", d)
			}
		})
	}
}

// TestTranslatePreambleAfter chains a preamble on a preamble (bpf-lsp
// patch 13): headers, then the declarations of a file (its functions as
// prototypes), then its function definitions, each continuation alone or
// all at once, give what a whole translation gives.
func TestTranslatePreambleAfter(t *testing.T) {
	prefix := "#include \"guarded.h\"\n#include \"types.h\"\n"
	decls := `#define LIMIT 4
struct item { u32 key; struct list l; };
static struct item items[LIMIT];
int proto(int a, int b);
static int lookup(struct item *it);
u64 total(void);
enum color shade = GREEN;
`
	bodies := []string{
		"static int lookup(struct item *it) { return it->key + SQUARE(LIMIT) + shade; }\n",
		"int proto(int a, int b) { return lookup(&items[a]) * b + table[0]; }\n",
		"u64 total(void) { u64 s = 0; for (int i = 0; i < LIMIT; i++) s += proto(i, 2) + pair_sum(0); return s; }\n",
	}
	names := []string{"f0.c", "f1.c", "f2.c"}
	full, err := Translate(testConfig(t), testSources(append([]string{"pre.c", "decl.c"}, names...), append([]string{prefix, decls}, bodies...)))
	if err != nil {
		t.Fatal(err)
	}
	pre, err := TranslatePreamble(testConfig(t), testSources([]string{"pre.c"}, []string{prefix}))
	if err != nil {
		t.Fatal(err)
	}
	mid, midAST, err := TranslatePreambleAfter(testConfig(t), pre, []Source{{Name: "decl.c", Value: decls}})
	if err != nil {
		t.Fatal(err)
	}
	if midAST.Scope.Nodes["items"] == nil {
		t.Fatal("the chained preamble's AST does not declare items")
	}
	// Function definitions: the types of their nodes are the whole
	// translation's (declarators of the prototypes keep their own view).
	table := func(ast *AST, name string) string {
		var b strings.Builder
		for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
			if ed := l.ExternalDeclaration; ed.Position().Filename == name {
				b.WriteString(typeTable(&AST{TranslationUnit: &TranslationUnit{ExternalDeclaration: ed}}, nil))
			}
		}
		return b.String()
	}
	var srcs []Source
	for i, name := range names {
		srcs = append(srcs, Source{Name: name, Value: bodies[i]})
		one, err := TranslateAfter(testConfig(t), mid, []Source{srcs[i]})
		if err != nil {
			t.Fatalf("%s alone: %v", name, err)
		}
		if d := lineDiff(table(one, name), table(full, name)); d != "" || table(one, name) == "" {
			t.Errorf("%s alone: types differ (- chained, + whole):\n%s", name, d)
		}
	}
	all, err := TranslateAfter(testConfig(t), mid, srcs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if d := lineDiff(table(all, name), table(full, name)); d != "" {
			t.Errorf("%s among all: types differ (- chained, + whole):\n%s", name, d)
		}
	}
	if g, w := macroTable(all), macroTable(full); g != w {
		t.Errorf("macros differ:\nchained: %s\nwhole:   %s", g, w)
	}
	// A tag the headers left incomplete and the declarations define.
	if _, _, err := TranslatePreambleAfter(testConfig(t), pre, []Source{{Name: "decl.c", Value: "struct node { int k; };\n"}}); !stderrors.Is(err, ErrPreambleMismatch) {
		t.Errorf("completing a header's tag: %v, want ErrPreambleMismatch", err)
	}
}

// TestTranslateAfterConcurrent resumes several translations from one
// Preamble at once; run with -race.
func TestTranslateAfterConcurrent(t *testing.T) {
	prefix := "#include \"guarded.h\"\n#include \"types.h\"\n"
	pre, err := TranslatePreamble(testConfig(t), testSources([]string{"pre.c"}, []string{prefix}))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tc := range preambleCases {
		full, _ := Translate(testConfig(t), testSources([]string{"pre.c", "body.c"}, []string{prefix, tc.body}))
		want = append(want, typeTable(full, redeclared(full)))
	}
	var wg sync.WaitGroup
	for range 4 {
		for i, tc := range preambleCases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ast, err := TranslateAfter(testConfig(t), pre, []Source{{Name: "body.c", Value: tc.body}})
				if tc.mismatch {
					if !stderrors.Is(err, ErrPreambleMismatch) {
						t.Errorf("%s: %v, want ErrPreambleMismatch", tc.name, err)
					}
					return
				}
				if d := lineDiff(typeTable(ast, redeclared(ast)), want[i]); d != "" {
					t.Errorf("%s: types differ (- resumed, + full):\n%s", tc.name, d)
				}
			}()
		}
	}
	wg.Wait()
}

// TestTranslateAfterIsolated checks that a continuation's #define and
// #undef do not leak into the Preamble or into other continuations.
func TestTranslateAfterIsolated(t *testing.T) {
	pre, err := TranslatePreamble(testConfig(t), testSources([]string{"pre.c"}, []string{"#include \"types.h\"\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TranslateAfter(testConfig(t), pre, []Source{{Name: "a.c", Value: "#undef TEMP\n#define TEMP 9\n#define ONLY_A 1\nint a = TEMP;\n"}}); err != nil {
		t.Fatal(err)
	}
	ast, err := TranslateAfter(testConfig(t), pre, []Source{{Name: "b.c", Value: "int b = TEMP;\n#ifdef ONLY_A\n#error leaked\n#endif\n"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ast.Macros["TEMP"].ReplacementList()[0].Src()); got != "1" {
		t.Errorf("TEMP = %s after another continuation redefined it, want 1", got)
	}
	if _, ok := ast.Macros["ONLY_A"]; ok {
		t.Error("a continuation's macro leaked into another")
	}
	// The rest of the preamble's last file, under the same name.
	ast, err = TranslateAfter(testConfig(t), pre, []Source{{Name: "pre.c", Value: "\nint c = TEMP;\n"}})
	if err != nil || ast.Scope.Nodes["c"] == nil {
		t.Errorf("a continuation named like the preamble's source: %v, declares c: %v", err, ast != nil && ast.Scope.Nodes["c"] != nil)
	}
}

// macroTable renders every macro: name, parameters and replacement list.
func macroTable(ast *AST) string {
	var lines []string
	for nm, m := range ast.Macros {
		var b strings.Builder
		fmt.Fprintf(&b, "%s(%v)=", nm, m.Params)
		for _, t := range m.ReplacementList() {
			b.Write(t.Src())
			b.WriteByte(' ')
		}
		lines = append(lines, b.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// scopeTable renders the file scope: each name's nodes with their
// positions and, for declarators, types.
func scopeTable(s *Scope) string {
	var lines []string
	for nm, ns := range s.Nodes {
		for _, n := range ns {
			line := fmt.Sprintf("%s %T %v", nm, n, n.Position())
			if d, ok := n.(*Declarator); ok && !strings.HasPrefix(d.Position().Filename, "pre.c") && d.Position().Filename != "guarded.h" && d.Position().Filename != "types.h" {
				// Preamble declarators keep the preamble's view (see
				// Preamble); the body's get the merged type.
				line += fmt.Sprintf(" %v static=%v", d.Type(), d.IsStatic())
			}
			lines = append(lines, line)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// redeclared returns the file-scope names the body declares.
func redeclared(ast *AST) map[string]bool {
	out := map[string]bool{}
	if ast == nil {
		return out
	}
	for nm, ns := range ast.Scope.Nodes {
		for _, n := range ns {
			if _, ok := n.(*Declarator); ok && n.Position().Filename == "body.c" {
				out[nm] = true
			}
		}
	}
	return out
}

// typeTable renders, in order, every node of the AST that has a type: its
// Go type, position and C type (not for the preamble's declarations of
// names in redeclared).
func typeTable(ast *AST, redeclared map[string]bool) string {
	if ast == nil {
		return "<nil>"
	}
	var b strings.Builder
	seen := map[any]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Interface()] {
					return
				}
				seen[v.Interface()] = true
			}
			if v.Type() != reflect.TypeOf(Token{}) {
				if n, ok := v.Interface().(Node); ok {
					if tn, ok := n.(interface{ Type() Type }); ok {
						d, _ := n.(*Declarator)
						switch _, isType := n.(Type); {
						case isType:
						case d != nil && redeclared[d.Name()] && d.Position().Filename != "body.c":
							// A preamble declarator keeps the preamble's
							// view of its type (see Preamble).
							fmt.Fprintf(&b, "%T %v\n", n, n.Position())
						default:
							fmt.Fprintf(&b, "%T %v %v\n", n, n.Position(), tn.Type())
						}
					}
				}
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(ast.TranslationUnit))
	return b.String()
}

// lineDiff lists the lines of a and b that differ, in order, "" when none.
func lineDiff(a, b string) string {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(x), len(y)); i++ {
		switch {
		case i >= len(x):
			out = append(out, "+ "+y[i])
		case i >= len(y):
			out = append(out, "- "+x[i])
		case x[i] != y[i]:
			out = append(out, "- "+x[i], "+ "+y[i])
		}
	}
	return strings.Join(out, "\n")
}
