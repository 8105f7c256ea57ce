package analysis

import (
	"sort"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Run analyses one parsed file: lock classes and declaration findings, then
// every program and global function flow-sensitively (static functions in
// the context of their callers), then suppressions.
func Run(f *cparse.File) *Result {
	r := &Result{}
	if f == nil || f.AST == nil {
		return r
	}
	cl := buildClasses(f)
	a := &analyzer{f: f, cl: cl, ids: map[any]objID{}, seen: map[string]bool{}, heldSeen: map[cparse.Span]bool{}, spans: map[cc.Node]cparse.Span{}}
	called := calledFuncs(f)
	for _, fn := range f.Funcs {
		if fn.Def == nil || fn.Def.CompoundStatement == nil {
			continue
		}
		entry := fn.Section != "" || !fn.Static
		if !entry && called[fn.Name] {
			continue // analysed where it is called, in the caller's state
		}
		in := newState()
		bindParams(in, fn, entryArgs(a, fn), a)
		a.analyzeFunc(fn, in, mode{entry: entry, report: true})
	}
	findings := append(cl.findings, a.findings...)
	r.Findings = applySuppressions(f, findings)
	sortFindings(r.Findings)
	r.Locks, r.Guarded, r.Refs, r.Held = cl.locks, cl.guarded, a.refs, a.held
	return r
}

// entryArgs gives each pointer parameter of an entry function an object of
// its own (the context, or a pointer the caller owns).
func entryArgs(a *analyzer, fn *cparse.Func) []value {
	ft, ok := fn.Def.Declarator.Type().(*cc.FunctionType)
	if !ok {
		return nil
	}
	var vals []value
	for _, p := range ft.Parameters() {
		vals = append(vals, value{obj: a.id(p)})
	}
	return vals
}

// calledFuncs lists the functions called or passed as callbacks somewhere.
func calledFuncs(f *cparse.File) map[string]bool {
	out := map[string]bool{}
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			out[c.Name] = true
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
