package analysis

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Run analyses one parsed file: lock classes and declaration findings, then
// every program and global function path by path (static functions in the
// states of their callers), then suppressions.
func Run(f *cparse.File) *Result { return run(f, nil, parallelism) }

// parallelism is how many programs are analysed at once when n need it:
// all cores for a whole file, one for the few programs an edit changes
// (starting goroutines would cost those more than it saves).
func parallelism(n int) int {
	if n < 8 {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// run analyses f, reusing from c (when not nil) the analyses of programs
// whose inputs did not change since the version c last saw; workers says
// how many programs to analyse at once, given how many need it.
func run(f *cparse.File, c *Cache, workers func(n int) int) *Result {
	r := &Result{}
	if f == nil || f.AST == nil {
		return r
	}
	cl := buildClasses(f)
	var gen *generation
	if c != nil {
		gen = c.begin(f, cl)
	}
	var progs []unitJob
	called := calledFuncs(f)
	for _, fn := range f.Funcs {
		if fn.Def == nil || fn.Def.CompoundStatement == nil {
			continue
		}
		entry := fn.Section != "" || !fn.Static
		if !entry && called[fn.Name] {
			continue // analysed where it is called, in the caller's state
		}
		progs = append(progs, unitJob{fn: fn, entry: entry, at: len(progs)})
	}
	// The Cache is read and written here; the programs' keys, and the
	// programs it misses, are computed (maybe in parallel) in between.
	// With nothing to reuse (a first run), the keys serve only the next
	// run, and are computed after this one returns.
	cold := gen != nil && gen.prev == nil
	var keys [][32]byte
	if gen != nil && !cold {
		keys = gen.unitKeys(progs, workers(len(progs)))
	}
	units := make([]*unitResult, len(progs))
	var todo []unitJob
	for i, p := range progs {
		if keys != nil {
			units[i] = gen.lookup(keys[i])
		}
		if units[i] == nil {
			todo = append(todo, p)
		}
	}
	analyzeUnits(f, cl, todo, units, workers(len(todo)))
	if gen != nil {
		store := func() {
			if keys == nil {
				keys = gen.unitKeys(progs, workers(len(progs)))
			}
			for _, job := range todo {
				gen.units[keys[job.at]] = units[job.at]
			}
			c.commit(gen)
		}
		if cold {
			c.commitLater(store)
		} else {
			store()
		}
	}
	findings := cl.findings
	nHeld, nRefs := 0, 0
	for _, u := range units {
		nHeld, nRefs = nHeld+len(u.held), nRefs+len(u.refs)
	}
	held := make(map[cparse.Span]*HeldRange, nHeld)
	refs := make(map[cparse.Span]*Ref, nRefs)
	for _, u := range units {
		findings = append(findings, u.findings...)
		// Across programs, as across the paths of one, a statement is
		// under the locks held on all of them.
		for _, h := range u.held {
			if e, ok := held[h.Span]; ok {
				e.Locks = intersectLocks(e.Locks, h.Locks)
				continue
			}
			h.Locks = slices.Clone(h.Locks)
			held[h.Span] = &h
		}
		for _, ref := range u.refs {
			if e, ok := refs[ref.Span]; ok {
				e.Held = intersectLocks(e.Held, ref.Held)
				continue
			}
			ref.Held = slices.Clone(ref.Held)
			refs[ref.Span] = &ref
		}
		r.Stats.Explored += u.stats.Explored
		r.Stats.Pruned += u.stats.Pruned
		r.Stats.Summaries += u.stats.Summaries
		r.Stats.Reused += u.stats.Reused
		r.Stats.Programs++
		r.Stats.Cached += u.stats.Cached
	}
	r.Findings = applySuppressions(f, findings)
	sortFindings(r.Findings)
	r.Locks, r.Guarded = cl.locks, cl.guarded
	for _, ref := range refs {
		r.Refs = append(r.Refs, *ref)
	}
	slices.SortFunc(r.Refs, func(x, y Ref) int { return spanCompare(x.Span, y.Span) })
	for _, h := range held {
		if len(h.Locks) > 0 {
			r.Held = append(r.Held, *h)
		}
	}
	slices.SortFunc(r.Held, func(x, y HeldRange) int { return spanCompare(x.Span, y.Span) })
	return r
}

// unitResult is what the analysis of one program (or global function, or
// static function nobody calls) found, its static callees included: a
// function of its code, its callees' and the declarations, never of the
// other programs (each has its own summaries), so it can be reused.
type unitResult struct {
	findings []Finding   // before suppressions
	held     []HeldRange // by span; locks may be empty (they intersect others')
	refs     []Ref
	stats    Stats
}

// nodeMemo holds what is computed once per AST node for all the programs
// one goroutine analyses.
type nodeMemo struct {
	spans map[cc.Node]cparse.Span
	cfgs  map[*cparse.Func]*cfg
	forks map[cc.Node]bool
	ops   map[cc.ExpressionNode][]cc.ExpressionNode // see analyzer.operands
	// declPos memoises declarators' positions (see analyzer.declKey).
	declPos map[*cc.Declarator]declKey
}

func newNodeMemo() *nodeMemo {
	return &nodeMemo{spans: map[cc.Node]cparse.Span{}, cfgs: map[*cparse.Func]*cfg{}, forks: map[cc.Node]bool{}, ops: map[cc.ExpressionNode][]cc.ExpressionNode{}, declPos: map[*cc.Declarator]declKey{}}
}

// unitJob is a program to analyse, and where its result goes.
type unitJob struct {
	fn    *cparse.Func
	entry bool
	at    int
}

// analyzeUnits analyses the programs of jobs into units, with up to
// workers goroutines, each with its own memo (the other memos the
// programs share, the File's spans and cc/v4's types', are safe for
// concurrent use).
func analyzeUnits(f *cparse.File, cl *classes, jobs []unitJob, units []*unitResult, workers int) {
	memos := make([]*nodeMemo, max(1, min(workers, len(jobs))))
	forEach(len(jobs), len(memos), func(w, i int) {
		if memos[w] == nil {
			memos[w] = newNodeMemo()
		}
		units[jobs[i].at] = analyzeUnit(f, cl, memos[w], jobs[i].fn, jobs[i].entry)
	})
}

// forEach calls do(w, i) for every i < n, in order on the calling
// goroutine (w = 0) when workers < 2, else on up to workers goroutines
// (w numbers them) that each take the next i, as the work of each i
// varies. A panic is raised again here once all are done, the lowest i's,
// as the serial loop would raise it: the language server recovers it on
// this goroutine.
func forEach(n, workers int, do func(w, i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			do(0, i)
		}
		return
	}
	panics := make([]any, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				func() {
					defer func() { panics[i] = recover() }()
					do(w, i)
				}()
			}
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}

// analyzeUnit explores one program from its entry.
func analyzeUnit(f *cparse.File, cl *classes, memo *nodeMemo, fn *cparse.Func, entry bool) *unitResult {
	a := &analyzer{f: f, cl: cl, seen: map[string]bool{}, refs: map[cparse.Span]*Ref{}, held: map[cparse.Span]*HeldRange{},
		spans: memo.spans, cfgs: memo.cfgs, declPos: memo.declPos, declIdx: map[*cc.Declarator]int{}, ptrIdx: map[any]int{}, forks: memo.forks, ops: memo.ops, summaries: map[summaryKey]*summary{}}
	a.prog = fn
	a.checkProgType(fn)
	if inlineAsmOnly(fn) {
		if !a.checkAsm(fn) {
			a.findings = append(a.findings, Finding{Code: codeNotChecked, Severity: SevInfo, Span: fn.Span, Func: fn.Name,
				Message: fmt.Sprintf("%s is written in inline assembly that bpf-lsp cannot follow (bpf-lsp verify asks the kernel)", fn.Name)})
		}
	} else {
		in := newState()
		bindParams(in, fn, entryArgs(in, fn), a)
		a.analyzeFunc(fn, in, mode{entry: entry})
		if a.incomplete {
			a.reportIncomplete(fn)
		}
		a.stats.Explored += a.steps
	}
	a.stats.Pruned = a.pruned
	u := &unitResult{findings: a.findings, stats: a.stats}
	for _, h := range a.held {
		u.held = append(u.held, *h)
	}
	slices.SortFunc(u.held, func(x, y HeldRange) int { return spanCompare(x.Span, y.Span) })
	for _, ref := range a.refs {
		u.refs = append(u.refs, *ref)
	}
	slices.SortFunc(u.refs, func(x, y Ref) int { return spanCompare(x.Span, y.Span) })
	return u
}

// spanCompare orders spans by file, start and end.
func spanCompare(a, b cparse.Span) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Start.Offset, b.Start.Offset), cmp.Compare(a.End.Offset, b.End.Offset))
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
