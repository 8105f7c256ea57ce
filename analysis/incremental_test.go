package analysis

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestIncrementalMatchesFull edits testdata programs at random (seeded):
// lines inserted and deleted inside functions, lock and unlock calls added
// and removed, identifiers renamed, syntax broken and fixed, globals and
// struct fields added or removed, comments and blank lines between
// functions, a macro of the included header changed (as an unsaved
// buffer); sometimes two of them at once. After every edit the analysis through a Cache must equal a fresh
// full analysis, field by field (findings with positions, related
// information, fixes and messages; locks, references, held ranges, stats).
func TestIncrementalMatchesFull(t *testing.T) {
	edits := 400
	if testing.Short() {
		edits = 100
	}
	inc, _ := filepath.Abs("../testdata/include")
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})
	files := corpusFiles(t, "../testdata")
	// Programs with several functions exercise reuse; take them first.
	var multi []string
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(src, []byte("\n}\n")) >= 3 {
			multi = append(multi, path)
		}
	}
	rng := rand.New(rand.NewPCG(13, 2026))
	start := time.Now()
	units, cached, n := 0, 0, 0
	for n < edits {
		path := multi[rng.IntN(len(multi))]
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		abs, _ := filepath.Abs(path)
		cache := NewCache()
		header := []byte(nil) // the header's unsaved text, when edited
		parse := func(text []byte) *cparse.File {
			overlay := map[string][]byte{abs: text}
			if header != nil {
				overlay[filepath.Join(inc, "bpf_lsp.h")] = header
			}
			f, err := parser.Parse(context.Background(), abs, overlay)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		cache.Run(parse(src))
		var undo [][]byte
		for range 20 {
			n++
			next, what := randomEdit(rng, src, &undo)
			if rng.IntN(4) == 0 {
				// Edits in several places before one analysis (the
				// server debounces).
				var more string
				next, more = randomEdit(rng, next, &undo)
				what += " + " + more
			}
			if rng.IntN(15) == 0 {
				// bpf_obj_drop as a no-op (or back): programs leak.
				next, what = src, "header macro"
				if header == nil {
					h, err := os.ReadFile(filepath.Join(inc, "bpf_lsp.h"))
					if err != nil {
						t.Fatal(err)
					}
					header = bytes.Replace(h, []byte("bpf_obj_drop_impl(kptr, NULL)"), []byte("((void)(kptr))"), 1)
				} else {
					header = nil
				}
			}
			f := parse(next)
			full := Run(f)
			got := cache.Run(f)
			units += got.Stats.Programs
			cached += got.Stats.Cached
			got.Stats.Cached = 0
			if !reflect.DeepEqual(full, got) {
				t.Fatalf("edit %d of %s (%s): incremental differs from full\nfull: %s\nincr: %s\ntext:\n%s", n, filepath.Base(path), what,
					describe(full), describe(got), next)
			}
			src = next
		}
	}
	t.Logf("%d edits in %v; %d of %d program analyses reused", n, time.Since(start).Round(time.Millisecond), cached, units)
	if cached == 0 {
		t.Error("no analysis was reused")
	}
}

func describe(r *Result) string {
	var b bytes.Buffer
	for _, fd := range r.Findings {
		fmt.Fprintf(&b, "\n  %s %d:%d-%d:%d %s %v fixes=%v", fd.Code, fd.Span.Start.Line, fd.Span.Start.Col, fd.Span.End.Line, fd.Span.End.Col, fd.Message, fd.Related, fd.Fixes)
	}
	fmt.Fprintf(&b, "\n  held %d refs %d stats %+v", len(r.Held), len(r.Refs), r.Stats)
	for _, h := range r.Held {
		fmt.Fprintf(&b, "\n  held %v %v %v", h.Span, h.TakenAt, len(h.Locks))
	}
	return b.String()
}

var identRE = regexp.MustCompile(`\b[A-Za-z_][A-Za-z0-9_]*\b`)

// randomEdit changes src in one of the ways a user does; undo keeps the
// texts before syntax was broken, so a later edit can fix it.
func randomEdit(rng *rand.Rand, src []byte, undo *[][]byte) ([]byte, string) {
	lines := bytes.SplitAfter(src, []byte{'\n'})
	// Lines inside function bodies: after a line that opens one at column 0.
	var inBody, outside []int
	depth := 0
	for i, l := range lines {
		t := bytes.TrimSpace(l)
		if depth > 0 && !(len(l) > 0 && l[0] == '}') {
			inBody = append(inBody, i)
		} else if depth == 0 {
			outside = append(outside, i)
		}
		depth += bytes.Count(t, []byte("{")) - bytes.Count(t, []byte("}"))
		if depth < 0 {
			depth = 0
		}
	}
	pick := func(ix []int) int {
		if len(ix) == 0 {
			return rng.IntN(len(lines))
		}
		return ix[rng.IntN(len(ix))]
	}
	insert := func(at int, text string) []byte {
		out := bytes.Join(lines[:at], nil)
		out = append(out, text...)
		return append(out, bytes.Join(lines[at:], nil)...)
	}
	remove := func(at int) []byte {
		return append(bytes.Join(lines[:at:at], nil), bytes.Join(lines[at+1:], nil)...)
	}
	stmts := []string{"\tbpf_spin_lock(&glock);\n", "\tbpf_spin_unlock(&glock);\n", "\t;\n", "\t// a comment\n", "\n",
		"\tif (!n)\n\t\treturn 0;\n", "\tbpf_spin_lock(&lock);\n", "\tbpf_spin_unlock(&lock);\n", "\treturn 0;\n"}
	switch rng.IntN(12) {
	case 0, 1: // a statement inside a function
		return insert(pick(inBody), stmts[rng.IntN(len(stmts))]), "insert statement"
	case 2: // a copy of another body line
		return insert(pick(inBody), string(lines[pick(inBody)])), "copy line"
	case 3, 4: // delete a body line
		return remove(pick(inBody)), "delete line"
	case 5: // rename an identifier everywhere, or once
		ids := identRE.FindAll(src, -1)
		id := ids[rng.IntN(len(ids))]
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(string(id)) + `\b`)
		if rng.IntN(2) == 0 {
			return re.ReplaceAll(src, append(id, 'x')), "rename " + string(id)
		}
		loc := re.FindIndex(src)
		return append(append(append([]byte{}, src[:loc[1]]...), 'y'), src[loc[1]:]...), "rename one " + string(id)
	case 6: // break the syntax
		*undo = append(*undo, src)
		at := pick(inBody)
		breaks := []string{"\t{\n", "\tint = ;\n", "\tfoo(\n", "\tundeclared_var = 1;\n", "@\n"}
		return insert(at, breaks[rng.IntN(len(breaks))]), "break syntax"
	case 7: // fix it
		if len(*undo) == 0 {
			return insert(pick(outside), "\n"), "blank line"
		}
		prev := (*undo)[len(*undo)-1]
		*undo = (*undo)[:len(*undo)-1]
		return prev, "fix syntax"
	case 8: // a global or a struct field
		decls := []string{"private(A) struct bpf_spin_lock glock2;\n", "int counter;\n", "static int helper_x(void) { return 1; }\n",
			"struct extra { int a; struct bpf_spin_lock l; };\n"}
		if rng.IntN(3) == 0 {
			for i, l := range lines {
				if bytes.HasPrefix(l, []byte("struct ")) && bytes.HasSuffix(bytes.TrimSpace(l), []byte("{")) {
					return insert(i+1, "\tint pad;\n"), "struct field"
				}
			}
		}
		return insert(pick(outside), decls[rng.IntN(len(decls))]), "declaration"
	case 9: // delete a line outside bodies
		return remove(pick(outside)), "delete declaration line"
	default: // a comment, a blank line or a space between functions
		if i := pick(outside); rng.IntN(2) == 0 && bytes.IndexByte(lines[i], ' ') >= 0 {
			at := len(bytes.Join(lines[:i], nil)) + bytes.IndexByte(lines[i], ' ')
			return append(append(append([]byte{}, src[:at]...), "  "...), src[at:]...), "spaces"
		}
		if rng.IntN(2) == 0 {
			return insert(pick(outside), "// note\n"), "comment"
		}
		return insert(pick(outside), "\n"), "blank line"
	}
}

// An edit inside one program re-analyses that program only; the other's
// findings move with the text, columns included.
func TestIncrementalReusesOtherPrograms(t *testing.T) {
	src := `#include "bpf_lsp.h"
struct node { long key; struct bpf_rb_node rb; };
private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node, rb);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b) { return true; }

SEC("tc")
int edited(struct __sk_buff *ctx)
{
	return 0;
}

SEC("tc")
int unlocked(struct __sk_buff *ctx)
{
	struct node *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	bpf_rbtree_add(&groot, &n->rb, less);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	inc, _ := filepath.Abs("../testdata/include")
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})
	path := filepath.Join(t.TempDir(), "t.bpf.c")
	cache := NewCache()
	text := src
	for i, edit := range []func(string) string{
		func(s string) string { return s },
		func(s string) string { return strings.Replace(s, "bpf_rb_root groot", "bpf_rb_root   groot", 1) },
		func(s string) string {
			return strings.Replace(s, "\treturn 0;\n}\n\nSEC", "\tint x = 1;\n\n\treturn x - 1;\n}\n\nSEC", 1) // inside edited
		},
		func(s string) string {
			return strings.Replace(s, "SEC(\"tc\")\nint edited", "// a comment\nSEC(\"tc\")\nint edited", 1)
		},
	} {
		text = edit(text)
		f, err := parser.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
		if err != nil || len(f.Errors) > 0 {
			t.Fatal(err, f.Errors)
		}
		full, got := Run(f), cache.Run(f)
		if len(full.Findings) == 0 || len(full.Findings[0].Related) == 0 {
			t.Fatalf("want a finding with related information, got %v", full.Findings)
		}
		wantCached := []int{0, 2, 1, 2}[i] // an edit inside 'edited' costs it only
		if got.Stats.Cached != wantCached || got.Stats.Programs != 2 {
			t.Errorf("version %d: %d of %d programs reused, want %d", i, got.Stats.Cached, got.Stats.Programs, wantCached)
		}
		got.Stats.Cached = 0
		if !reflect.DeepEqual(full, got) {
			t.Errorf("version %d: incremental differs from full\nfull: %s\nincr: %s", i, describe(full), describe(got))
		}
	}
}

// A change in a static function two calls away re-analyses the program.
func TestIncrementalFollowsCalleeChains(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;

static __noinline void inner(void)
{
	bpf_spin_unlock(&glock);
}

static __noinline void outer(void)
{
	inner();
}

SEC("tc")
int prog(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	outer();
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	inc, _ := filepath.Abs("../testdata/include")
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})
	path := filepath.Join(t.TempDir(), "t.bpf.c")
	cache := NewCache()
	for i, text := range []string{src, strings.Replace(src, "\tbpf_spin_unlock(&glock);\n", "\tbpf_spin_unlock(&glock);\n\tbpf_spin_unlock(&glock);\n", 1)} {
		f, err := parser.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
		if err != nil || len(f.Errors) > 0 {
			t.Fatal(err, f.Errors)
		}
		full, got := Run(f), cache.Run(f)
		if got.Stats.Cached != 0 {
			t.Errorf("version %d: the program was reused", i)
		}
		got.Stats.Cached = 0
		if !reflect.DeepEqual(full, got) {
			t.Errorf("version %d: incremental differs from full\nfull: %s\nincr: %s", i, describe(full), describe(got))
		}
	}
}

// Each program has its own summaries (its result must not depend on which
// programs ran before it): a helper called from two programs, five times
// each in the same state, is explored once per program.
func TestSummariesPerProgram(t *testing.T) {
	calls := strings.Repeat("\tbump();\n", 5)
	prog := func(name string) string {
		return "SEC(\"tc\")\nint " + name + "(struct __sk_buff *ctx)\n{\n" + calls + "\treturn 0;\n}\n"
	}
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
private(A) __u64 total __guarded_by(glock);

static __noinline void bump(void)
{
	bpf_spin_lock(&glock);
	total++;
	bpf_spin_unlock(&glock);
}
` + prog("one") + prog("two") + "char _license[] SEC(\"license\") = \"GPL\";\n"
	r := runSource(t, src)
	if len(r.Findings) != 0 {
		t.Fatalf("unexpected findings: %v", r.Findings)
	}
	if r.Stats.Programs != 2 || r.Stats.Summaries != 2 || r.Stats.Reused != 8 {
		t.Errorf("%d programs explored bump %d times and reused it %d times; want 2, 2, 8", r.Stats.Programs, r.Stats.Summaries, r.Stats.Reused)
	}
}

// A variable's declaration is read by the programs that name it: changing
// it re-analyses them, adding an unused one nothing.
func TestIncrementalVariableDeclarations(t *testing.T) {
	src := `#include "bpf_lsp.h"
private(A) struct bpf_spin_lock glock;
__u64 counter;

SEC("tc")
int reads(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	counter++;
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
int other(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	return 0;
}
char _license[] SEC("license") = "GPL";
`
	inc, _ := filepath.Abs("../testdata/include")
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})
	path := filepath.Join(t.TempDir(), "t.bpf.c")
	cache := NewCache()
	text := src
	for i, step := range []struct {
		edit   func(string) string
		reused int
	}{
		{func(s string) string { return s }, 0},
		{func(s string) string { return strings.Replace(s, "__u64 counter;", "__u64 counter = 1;", 1) }, 1},
		{func(s string) string { return strings.Replace(s, "__u64 counter", "int unused;\n__u64 counter", 1) }, 2},
	} {
		text = step.edit(text)
		f, err := parser.Parse(context.Background(), path, map[string][]byte{path: []byte(text)})
		if err != nil || len(f.Errors) > 0 {
			t.Fatal(err, f.Errors)
		}
		full, got := Run(f), cache.Run(f)
		if got.Stats.Cached != step.reused {
			t.Errorf("version %d: %d programs reused, want %d", i, got.Stats.Cached, step.reused)
		}
		got.Stats.Cached = 0
		if len(full.Findings) == 0 || !reflect.DeepEqual(full, got) {
			t.Errorf("version %d: incremental differs from full\nfull: %s\nincr: %s", i, describe(full), describe(got))
		}
	}
}
