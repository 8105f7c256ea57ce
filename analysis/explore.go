package analysis

import (
	"fmt"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Exploration limits. The verifier explores up to a million instructions;
// a source-level state is coarser, so far fewer suffice for real programs.
const (
	// stepBudget bounds the block states explored for one program (its
	// static callees included); past it the analysis stops with an info
	// finding instead of guessing.
	stepBudget = 20000
	// widenAfter is how often a loop head is entered before the known
	// values of scalars are forgotten there, so loops with a constant trip
	// count unroll (as the verifier does) and the others converge.
	widenAfter = 12
	// forkBudget bounds the paths one statement may split into (conditional
	// expressions and static calls with several outcomes).
	forkBudget = 256
)

// exitState is one way a function returns: its state and returned value.
type exitState struct {
	st  *state
	ret value
}

// replay enumerates the paths through one statement: a choice point (a
// conditional expression, a static call with several outcomes) takes the
// choice scripted for it, and the statement is re-run from the same state
// for every combination of choices.
type replay struct {
	script []int // choices to take, by choice point
	made   []int // choices taken in this run
	alts   []int // alternatives at each choice point of this run
	dead   bool  // this run took a choice that cannot happen
}

// choose picks one of n alternatives at a choice point.
func (a *analyzer) choose(n int) int {
	r := a.rp
	if r == nil || n <= 1 {
		return 0
	}
	c := 0
	if i := len(r.made); i < len(r.script) {
		c = r.script[i]
	}
	r.made = append(r.made, c)
	r.alts = append(r.alts, n)
	return c
}

// infeasible marks the current run as a path that cannot happen.
func (a *analyzer) infeasible() {
	if a.rp != nil {
		a.rp.dead = true
	}
}

// nextScript returns the script for the next combination of choices, or
// false when all were run.
func (r *replay) nextScript() ([]int, bool) {
	for i := len(r.made) - 1; i >= 0; i-- {
		if r.made[i]+1 < r.alts[i] {
			s := append([]int(nil), r.made[:i]...)
			return append(s, r.made[i]+1), true
		}
	}
	return nil, false
}

// pathState is one path at a statement boundary.
type pathState struct {
	st       *state
	last     value // value of the last expression (a branch condition)
	ret      value
	returned bool
}

// runAtom runs one atom on every path through it.
func (a *analyzer) runAtom(in pathState, at atom, m mode) []pathState {
	saved := a.rp
	defer func() { a.rp = saved }()
	if !a.mayFork(at.node) {
		// One path through it: no need to keep the state it started from.
		a.rp = &replay{}
		v, isRet := a.atom(in.st, at, m)
		if a.rp.dead {
			return nil
		}
		out := pathState{st: in.st, last: v, ret: in.ret, returned: in.returned}
		if isRet {
			out.ret, out.returned = v, true
		}
		return []pathState{out}
	}
	var outs []pathState
	r := &replay{}
	for runs := 0; ; runs++ {
		if runs == forkBudget {
			a.incomplete = true
			break
		}
		a.rp = r
		st := in.st.clone()
		v, isRet := a.atom(st, at, m)
		if !r.dead {
			out := pathState{st: st, last: v, ret: in.ret, returned: in.returned}
			if isRet {
				out.ret, out.returned = v, true
			}
			outs = append(outs, out)
		}
		next, ok := r.nextScript()
		if !ok {
			break
		}
		r = &replay{script: next}
	}
	return outs
}

// analyzeFunc explores fn's paths from the entry state in, the way the
// verifier does: each path keeps its own state, a state equal (modulo id
// renaming) to one already explored at the same block is pruned, and the
// work is bounded. It returns the distinct ways the function returns.
func (a *analyzer) analyzeFunc(fn *cparse.Func, in *state, m mode) []exitState {
	g := a.cfgOf(fn)
	m.fn = fn
	type item struct {
		bl   *block
		path pathState
	}
	work := []item{{g.entry, pathState{st: in}}}
	seen := make([]map[string]bool, len(g.blocks))
	visits := make([]int, len(g.blocks))
	var exits []exitState
	exitSeen := map[string]bool{}
	for len(work) > 0 {
		it := work[len(work)-1]
		work = work[:len(work)-1]
		st := it.path.st
		if it.bl == g.exit {
			key, ren := a.canonical(st)
			key += fmt.Sprintf("|ret#%d/%d%t/%t%d", ren[it.path.ret.obj], it.path.ret.obj, it.path.ret.isNull, it.path.ret.num.known, it.path.ret.num.v)
			if !exitSeen[key] {
				exitSeen[key] = true
				exits = append(exits, exitState{st: st, ret: it.path.ret})
			}
			continue
		}
		if a.steps >= stepBudget {
			a.incomplete = true
			break
		}
		i := it.bl.index
		visits[i]++
		if g.loopHead[i] && visits[i] > widenAfter {
			widen(st)
		}
		key, ren := a.canonical(st)
		if seen[i] == nil {
			seen[i] = map[string]bool{}
		}
		if seen[i][key] {
			a.pruned++
			continue
		}
		seen[i][key] = true
		st.gc(ren)
		a.steps++
		paths := []pathState{it.path}
		for _, at := range it.bl.atoms {
			var next []pathState
			for _, p := range paths {
				next = append(next, a.runAtom(p, at, m)...)
			}
			paths = next
		}
		for _, p := range paths {
			for j, e := range it.bl.succs {
				st := p.st
				if j < len(it.bl.succs)-1 {
					st = st.clone()
				}
				if !a.refine(st, e, p.last) {
					continue // cannot be taken on this path
				}
				work = append(work, item{e.to, pathState{st: st, ret: p.ret, returned: p.returned}})
			}
		}
	}
	return exits
}

// widen forgets what a loop cannot keep: known scalar values (so a loop
// with an unknown trip count converges), and the duty to release objects
// nothing names any more (each iteration would add one).
func widen(st *state) {
	clear(st.nums)
	named := map[objID]bool{}
	for _, id := range st.ptrs {
		named[id] = true
	}
	for id, o := range st.objs {
		if o.owes() && !named[id] {
			o.escaped = true
			st.objs[id] = o
		}
	}
}

// cfgOf returns fn's control-flow graph, built once per function.
func (a *analyzer) cfgOf(fn *cparse.Func) *cfg {
	if g, ok := a.cfgs[fn]; ok {
		return g
	}
	g := buildCFG(fn.Def.CompoundStatement)
	a.cfgs[fn] = g
	return g
}

// reportIncomplete says that a program's analysis hit its budget.
func (a *analyzer) reportIncomplete(fn *cparse.Func) {
	a.findings = append(a.findings, Finding{Code: codeNotChecked, Severity: SevInfo, Span: fn.Span, Func: fn.Name,
		Message: fmt.Sprintf("analysis of %s stopped after %d steps; findings in %s may be incomplete", fn.Name, a.steps, fn.Name)})
}

// mayFork reports whether an atom can split the path: a conditional
// expression, && or || used as a value, or a call of a static function
// (which may return in several ways).
func (a *analyzer) mayFork(n cc.Node) bool {
	if v, ok := a.forks[n]; ok {
		return v
	}
	fork := false
	cparse.Inspect(n, func(x cc.Node) bool {
		switch e := x.(type) {
		case *cc.ConditionalExpression:
			fork = fork || e.Case == cc.ConditionalExpressionCond
		case *cc.LogicalAndExpression:
			fork = fork || e.Case == cc.LogicalAndExpressionLAnd
		case *cc.LogicalOrExpression:
			fork = fork || e.Case == cc.LogicalOrExpressionLOr
		case *cc.PostfixExpression:
			if e.Case == cc.PostfixExpressionCall {
				if c := a.f.CallOf(e); c == nil || classify(a.f, c) == callStatic || c.Name == "" || localVar(unparen(e.PostfixExpression)) != nil {
					fork = true
				}
			}
		}
		return !fork
	})
	a.forks[n] = fork
	return fork
}
