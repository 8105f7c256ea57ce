package analysis

import (
	"context"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// cfgOf builds the CFG of function f in src.
func cfgOf(t *testing.T, src string) (*cfg, *cparse.File) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cfg.c")
	file, err := cparse.NewParser(cparse.Options{}).Parse(context.Background(), path, map[string][]byte{path: []byte(src)})
	if err != nil || len(file.Errors) > 0 {
		t.Fatalf("parse: %v %+v", err, file.Errors)
	}
	return buildCFG(file.Func("f").Def.CompoundStatement), file
}

// lineOf is the source line of an atom.
func lineOf(f *cparse.File, a atom) int { return f.SpanOf(a.node).Start.Line }

// blockAt returns the block holding the atom whose source text is text.
func blockAt(t *testing.T, g *cfg, f *cparse.File, text string) *block {
	t.Helper()
	for _, b := range g.blocks {
		for _, a := range b.atoms {
			s := f.SpanOf(a.node)
			if string(f.Src[s.Start.Offset:s.End.Offset]) == text {
				return b
			}
		}
	}
	t.Fatalf("no atom %q", text)
	return nil
}

// reaches reports whether to is reachable from from.
func reaches(from, to *block) bool { return reachesAvoiding(from, to, nil) }

// reachesAvoiding reports whether to is reachable from from without
// passing through avoid.
func reachesAvoiding(from, to, avoid *block) bool {
	seen := map[*block]bool{avoid: true}
	var walk func(*block) bool
	walk = func(b *block) bool {
		if b == to {
			return true
		}
		if seen[b] {
			return false
		}
		seen[b] = true
		for _, e := range b.succs {
			if walk(e.to) {
				return true
			}
		}
		return false
	}
	return walk(from)
}

// trueSucc returns the block a condition's true edge leads to.
func trueSucc(b *block) *block {
	for _, e := range b.succs {
		if e.cond != nil && e.when {
			return e.to
		}
	}
	return nil
}

// falseSucc returns the block a condition's false edge leads to.
func falseSucc(b *block) *block {
	for _, e := range b.succs {
		if e.cond != nil && !e.when {
			return e.to
		}
	}
	return nil
}

func succLines(f *cparse.File, b *block) []int {
	var out []int
	for _, e := range b.succs {
		if len(e.to.atoms) > 0 {
			out = append(out, lineOf(f, e.to.atoms[0]))
		}
	}
	sort.Ints(out)
	return out
}

func TestCFGShortCircuit(t *testing.T) {
	g, f := cfgOf(t, `int g(int);
int f(int a, int b)
{
	if (a && !b)
		return g(1);
	return g(2);
}
`)
	// `a` and `!b` are separate conditions: a false `a` skips `b`.
	ca, cb := blockAt(t, g, f, "a"), (*block)(nil)
	for _, e := range ca.succs {
		if e.when && len(e.to.atoms) > 0 {
			cb = e.to
		}
	}
	if len(ca.succs) != 2 || cb == nil || len(cb.succs) != 2 {
		t.Fatalf("&& not split: a->%v", succLines(f, ca))
	}
	// A false `a` goes straight to `return g(2)`, never to `return g(1)`.
	if fa := falseSucc(ca); fa == nil || !reachesAvoiding(fa, blockAt(t, g, f, "return g(2);"), cb) || reaches(fa, blockAt(t, g, f, "return g(1);")) {
		t.Error("a false `a` must skip `!b` and the then-branch")
	}
	// `!b` swaps the branch targets: its true edge goes to `return g(2)`.
	for _, e := range cb.succs {
		line := 0
		if len(e.to.atoms) > 0 {
			line = lineOf(f, e.to.atoms[0])
		}
		if e.when && line != 6 || !e.when && line != 5 {
			t.Errorf("!b: edge when=%v goes to line %d", e.when, line)
		}
	}
}

func TestCFGLoopsBreakContinue(t *testing.T) {
	g, f := cfgOf(t, `int g(int);
int f(int n)
{
	int i, s = 0;
	for (i = 0; i < n; i++) {
		if (g(i))
			continue;
		if (g(-i))
			break;
		s += i;
	}
	while (s > 10)
		s = g(s);
	do
		s--;
	while (s > 100);
	return s;
}
`)
	body := blockAt(t, g, f, "s += i")
	cond := blockAt(t, g, f, "i < n")
	if !reaches(body, cond) || !reaches(body, blockAt(t, g, f, "i++")) {
		t.Error("for: no back edge from the body through i++ to the condition")
	}
	cont := trueSucc(blockAt(t, g, f, "g(i)"))
	if cont == nil || !reachesAvoiding(cont, cond, body) || reachesAvoiding(cont, body, cond) {
		t.Error("continue must go to the loop condition, skipping the rest of the body")
	}
	brk := trueSucc(blockAt(t, g, f, "g(-i)"))
	if brk == nil || reaches(brk, body) || !reaches(brk, blockAt(t, g, f, "s > 10")) {
		t.Error("break must leave the loop for the next statement")
	}
	if !reaches(blockAt(t, g, f, "s = g(s)"), blockAt(t, g, f, "s > 10")) {
		t.Error("while: no back edge")
	}
	if !reaches(blockAt(t, g, f, "s > 100"), blockAt(t, g, f, "s--")) {
		t.Error("do-while: the condition does not loop to the body")
	}
	if !reaches(g.entry, g.exit) {
		t.Error("exit unreachable")
	}
}

func TestCFGSwitchGotoReturns(t *testing.T) {
	g, f := cfgOf(t, `int g(int);
int f(int x)
{
	switch (x) {
	case 1:
		g(1);
	case 2:
		g(2);
		break;
	default:
		goto out;
	}
	g(3);
	return 0;
out:
	g(4);
	return 1;
}
`)
	head := blockAt(t, g, f, "x")
	if len(head.succs) != 3 {
		t.Errorf("switch head has %d edges, want one per label (3)", len(head.succs))
	}
	case1, case2, after, out := blockAt(t, g, f, "g(1)"), blockAt(t, g, f, "g(2)"), blockAt(t, g, f, "g(3)"), blockAt(t, g, f, "g(4)")
	if !reaches(case1, case2) {
		t.Error("case 1 does not fall through to case 2")
	}
	if reaches(case2, out) {
		t.Error("break after case 2 reaches the label out")
	}
	var def *block
	for _, e := range head.succs {
		if e.to != case1 && e.to != case2 {
			def = e.to
		}
	}
	if def == nil || reaches(def, after) || !reaches(def, out) {
		t.Error("default: goto out must reach the label and skip the code after the switch")
	}
	returns := 0
	for _, b := range g.exit.preds {
		for _, a := range b.atoms {
			if a.kind == atomReturn {
				returns++
			}
		}
	}
	if returns != 2 {
		t.Errorf("%d return blocks reach the exit, want 2", returns)
	}
}
