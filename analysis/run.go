package analysis

import (
	"fmt"
	"sort"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Run analyses one parsed file: lock classes and declaration findings, then
// every program and global function path by path (static functions in the
// states of their callers), then suppressions.
func Run(f *cparse.File) *Result {
	r := &Result{}
	if f == nil || f.AST == nil {
		return r
	}
	cl := buildClasses(f)
	a := &analyzer{f: f, cl: cl, seen: map[string]bool{}, refs: map[cparse.Span]*Ref{}, held: map[cparse.Span]*HeldRange{},
		spans: map[cc.Node]cparse.Span{}, cfgs: map[*cparse.Func]*cfg{}, declIdx: map[*cc.Declarator]int{}, ptrIdx: map[any]int{}, forks: map[cc.Node]bool{}, summaries: map[summaryKey]*summary{}}
	called := calledFuncs(f)
	for _, fn := range f.Funcs {
		if fn.Def == nil || fn.Def.CompoundStatement == nil {
			continue
		}
		entry := fn.Section != "" || !fn.Static
		if !entry && called[fn.Name] {
			continue // analysed where it is called, in the caller's state
		}
		a.prog, a.steps, a.incomplete = fn, 0, false
		a.checkProgType(fn)
		if inlineAsmOnly(fn) {
			if !a.checkAsm(fn) {
				a.findings = append(a.findings, Finding{Code: codeNotChecked, Severity: SevInfo, Span: fn.Span, Func: fn.Name,
					Message: fmt.Sprintf("%s is written in inline assembly that bpf-lsp cannot follow (bpf-lsp verify asks the kernel)", fn.Name)})
			}
			continue
		}
		in := newState()
		bindParams(in, fn, entryArgs(in, fn), a)
		a.analyzeFunc(fn, in, mode{entry: entry})
		if a.incomplete {
			a.reportIncomplete(fn)
		}
		a.stats.Explored += a.steps
	}
	a.stats.Pruned = a.pruned
	findings := append(cl.findings, a.findings...)
	r.Findings = applySuppressions(f, findings)
	sortFindings(r.Findings)
	r.Locks, r.Guarded, r.Stats = cl.locks, cl.guarded, a.stats
	for _, ref := range a.refs {
		r.Refs = append(r.Refs, *ref)
	}
	sort.Slice(r.Refs, func(i, j int) bool { return spanLess(r.Refs[i].Span, r.Refs[j].Span) })
	for _, h := range a.held {
		if len(h.Locks) > 0 {
			r.Held = append(r.Held, *h)
		}
	}
	sort.Slice(r.Held, func(i, j int) bool { return spanLess(r.Held[i].Span, r.Held[j].Span) })
	return r
}

func spanLess(a, b cparse.Span) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Start.Offset != b.Start.Offset {
		return a.Start.Offset < b.Start.Offset
	}
	return a.End.Offset < b.End.Offset
}

// entryArgs gives each pointer parameter of an entry function an object of
// its own (the context, or a pointer the caller owns).
func entryArgs(st *state, fn *cparse.Func) []value {
	ft, ok := fn.Def.Declarator.Type().(*cc.FunctionType)
	if !ok {
		return nil
	}
	var vals []value
	for range ft.Parameters() {
		vals = append(vals, value{obj: st.fresh(objState{})})
	}
	return vals
}

// inlineAsmOnly reports whether fn's statements are all asm statements (a
// __naked program; the C frontend adds a __func__ declaration, which is
// not a statement).
func inlineAsmOnly(fn *cparse.Func) bool {
	n := 0
	for l := fn.Def.CompoundStatement.BlockItemList; l != nil; l = l.BlockItemList {
		it := l.BlockItem
		if it == nil || it.Case == cc.BlockItemDecl {
			continue
		}
		if it.Case != cc.BlockItemStmt || it.Statement == nil || it.Statement.Case != cc.StatementAsm {
			return false
		}
		n++
	}
	return n > 0
}

// calledFuncs lists the functions analysed in their callers' states: those
// called directly, and those passed to a static function or as the less()
// of a graph call. A callback handed to a helper (bpf_loop,
// bpf_for_each_map_elem) runs in a frame of its own and is analysed alone.
func calledFuncs(f *cparse.File) map[string]bool {
	out := map[string]bool{}
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			out[c.Name] = true
			if k := classify(f, c); k != callStatic && k != callGraph {
				continue
			}
			for _, arg := range c.Args {
				out[strings.TrimSpace(arg.Text)] = true
			}
		}
	}
	return out
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Span, fs[j].Span
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Start.Offset != b.Start.Offset {
			return a.Start.Offset < b.Start.Offset
		}
		return fs[i].Code < fs[j].Code
	})
}
