package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// analyzer explores every program and global function of a file path by
// path (static callees in their callers' states, through summaries).
type analyzer struct {
	f        *cparse.File
	cl       *classes
	findings []Finding
	seen     map[string]bool // dedupe: code + position
	refs     map[cparse.Span]*Ref
	held     map[cparse.Span]*HeldRange
	depth    int
	curStmt  cc.Node // the statement being interpreted (fixes wrap it; its span is wanted only then)
	spans    map[cc.Node]cparse.Span
	cfgs     map[*cparse.Func]*cfg
	declPos  map[*cc.Declarator]declKey
	declIdx  map[*cc.Declarator]int
	lastNums []*cc.Declarator // see sortedNums
	ptrIdx   map[any]int      // identities of pointers in state descriptions
	forks    map[cc.Node]bool
	ops      map[cc.ExpressionNode][]cc.ExpressionNode
	// summaries of static callees by entry state (see summary.go), and
	// those being computed (they collect the findings of their paths).
	summaries map[summaryKey]*summary
	computing []*summary
	rp        *replay
	// per program: the program, the call sites leading to the function
	// being analysed, the work done and whether it was cut short.
	prog       *cparse.Func
	callSites  []cparse.Span
	steps      int
	pruned     int
	incomplete bool
	stats      Stats
}

// span memoises File.SpanOf: exploration visits each node many times, and
// computing a span walks the node's tokens.
func (a *analyzer) span(n cc.Node) cparse.Span {
	if s, ok := a.spans[n]; ok {
		return s
	}
	s := a.f.SpanOf(n)
	a.spans[n] = s
	return s
}

// mode says how a function body is being analysed.
type mode struct {
	fn       *cparse.Func
	entry    bool // a program or global function: exits must be clean
	callback bool // an rbtree less() callback (runs under the caller's lock)
	quiet    bool // evaluating for a value only: report nothing
}

// value is the abstract value of an expression.
type value struct {
	obj    objID
	addr   *fieldAddr // the address of a lock or root
	isNull bool
	num    scalar
	res    *lockKey // the result of bpf_res_spin_lock on this lock
}

// truth says whether v is known to be zero or non-zero on this path.
func (v value) truth(st *state) (truth, known bool) {
	if v.isNull {
		return false, true
	}
	if v.obj != noObj {
		o, ok := st.objs[v.obj]
		switch {
		case !ok:
		case o.isNull:
			return false, true
		case !o.maybeNull && o.from != "":
			return true, true // a checked result; parameters may still be NULL
		}
		return false, false
	}
	return v.num.isTrue()
}

// atom applies one atom's effects and returns the value of its expression;
// for a return it also checks the exit and reports that it was one.
func (a *analyzer) atom(st *state, at atom, m mode) (value, bool) {
	a.curStmt = at.node
	switch at.kind {
	case atomDecl:
		a.declaration(st, at.node.(*cc.Declaration), m)
	case atomExpr:
		a.recordHeld(st, at.node, m)
		return a.eval(st, at.node.(cc.ExpressionNode), m), false
	case atomReturn:
		js := at.node.(*cc.JumpStatement)
		var v value
		if js.ExpressionList != nil {
			v = a.eval(st, js.ExpressionList, m)
		}
		a.exit(st, a.span(js), v, m, false)
		return v, true
	case atomEnd:
		body := at.node.(*cc.CompoundStatement)
		a.exit(st, a.span(body), value{}, m, true)
		return value{}, true
	}
	return value{}, false
}

func (a *analyzer) declaration(st *state, d *cc.Declaration, m mode) {
	for l := d.InitDeclaratorList; l != nil; l = l.InitDeclaratorList {
		id := l.InitDeclarator
		if id == nil || id.Declarator == nil {
			continue
		}
		st.forget(id.Declarator)
		if id.Initializer == nil {
			continue
		}
		a.recordHeld(st, id, m)
		a.initialize(st, place{d: id.Declarator}, id.Initializer, m)
	}
}

// initialize binds an initializer to a place: a value, or the elements of
// a brace list by position (`= {NULL, NULL}`).
func (a *analyzer) initialize(st *state, p place, in *cc.Initializer, m mode) {
	if in.AssignmentExpression != nil {
		a.bind(st, p, a.eval(st, in.AssignmentExpression, m))
		return
	}
	i := 0
	for l := in.InitializerList; l != nil; l = l.InitializerList {
		if l.Designation != nil || l.Initializer == nil {
			continue // designated members: not tracked
		}
		a.initialize(st, place{d: p.d, path: fmt.Sprintf("%s[%d]", p.path, i)}, l.Initializer, m)
		i++
	}
}

// bind makes a place hold v.
func (a *analyzer) bind(st *state, p place, v value) {
	if v.res != nil {
		if h, ok := st.held[*v.res]; ok && p.path == "" {
			h.pendingVar = p.d
			st.held[*v.res] = h
		}
	}
	delete(st.ptrs, p)
	delete(st.addrs, p)
	if p.path == "" {
		delete(st.nums, p.d)
	}
	if v.addr != nil {
		st.addrs[p] = *v.addr
	}
	switch {
	case p.path == "" && !isPointer(p.d):
		if v.num.known || v.num.nonZero {
			st.nums[p.d] = v.num
		}
	case v.obj != noObj:
		st.ptrs[p] = v.obj
	case v.isNull:
		st.ptrs[p] = st.fresh(objState{isNull: true})
	}
}

// isPointer reports whether a local holds a pointer (elements and members
// of aggregates are taken as pointers: only pointers are stored there).
func isPointer(d *cc.Declarator) bool {
	t := d.Type()
	return t == nil || t.Kind() == cc.Ptr || t.Kind() == cc.Array
}

// exit checks what must be true when a function returns: no lock held (for
// programs) and no owning reference left unreleased.
func (a *analyzer) exit(st *state, span cparse.Span, ret value, m mode, fallOff bool) {
	if m.quiet || m.callback {
		return
	}
	at := span
	where := "return"
	if fallOff {
		// Falling off the end: point at the closing brace.
		at = cparse.Span{File: span.File, Start: posBefore(span.End), End: span.End}
		where = "the end of '" + m.fn.Name + "'"
	}
	// Reports are deduplicated by place, so the first one wins: go through
	// locks and objects in a fixed order (acquisition), not map order.
	if m.entry {
		held := slices.Collect(maps.Values(st.held))
		slices.SortFunc(held, func(x, y heldLock) int { return x.order - y.order })
		for _, h := range held {
			if !h.taken() || h.lock.Allocation == unknownAllocation {
				continue // a bpf_res_spin_lock result nobody tested (see BL213), or a lock not resolved
			}
			msg := fmt.Sprintf("'%s' is still held at %s", h.lock.Name, where)
			a.report(codeLockHeldAtExit, at, msg, m, related(h.takenAt, fmt.Sprintf("'%s' taken here", h.lock.Name)),
				a.fixUnlockBefore(at, h, fallOff))
		}
	}
	ids := slices.Collect(maps.Keys(st.objs))
	slices.SortFunc(ids, func(x, y objID) int {
		if c := cmp.Compare(st.objs[x].acquired.Start.Offset, st.objs[y].acquired.Start.Offset); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for _, id := range ids {
		o := st.objs[id]
		if !o.owes() || id == ret.obj || o.fn != m.fn.Name {
			continue
		}
		msg := fmt.Sprintf("the object from %s is not released at %s: bpf_obj_drop it, or hand it to a list or tree", o.from, where)
		a.report(codeRefLeak, at, msg, m, related(o.acquired, "acquired here"))
	}
}

// refine applies what taking edge e implies, given the value last of its
// condition: a NULL check, a known scalar, the result of bpf_res_spin_lock.
// It reports false when the edge cannot be taken on this path.
func (a *analyzer) refine(st *state, e edge, last value) bool {
	if e.cond == nil {
		return true
	}
	return a.assume(st, e.cond, e.when, last)
}

// assume narrows st by cond having truth value when (v is cond's value on
// this path); false means it cannot.
func (a *analyzer) assume(st *state, cond cc.ExpressionNode, when bool, v value) bool {
	if t, known := v.truth(st); known && t != when {
		return false
	}
	subj, nonZero, exact := condSubject(cond, when)
	if x, ok := subj.(*cc.PostfixExpression); ok && x.Case == cc.PostfixExpressionCall {
		for k, h := range st.held {
			if h.pending == x {
				a.resolvePending(st, k, h, nonZero)
			}
		}
		return true
	}
	p, ok := a.placeOf(st, subj)
	if !ok {
		return true
	}
	if p.path == "" {
		for k, h := range st.held {
			if h.pendingVar == p.d {
				a.resolvePending(st, k, h, nonZero)
			}
		}
	}
	if !exact {
		return true // x >= 0 says nothing about x being zero
	}
	id, ok := st.ptrs[p]
	if !ok {
		if p.path == "" {
			n := st.nums[p.d]
			if t, known := n.isTrue(); known {
				return t == nonZero
			}
			if nonZero {
				st.nums[p.d] = scalar{nonZero: true}
			} else {
				st.nums[p.d] = scalar{known: true}
			}
		}
		return true
	}
	o := st.objs[id]
	if o.isNull {
		return !nonZero
	}
	if nonZero {
		o.maybeNull = false
	} else if o.maybeNull {
		// NULL owns nothing: the reference is gone on this branch.
		o.isNull, o.maybeNull = true, false
	}
	st.objs[id] = o
	return true
}

// resolvePending settles a bpf_res_spin_lock: a non-zero result means the
// lock was not taken.
func (a *analyzer) resolvePending(st *state, k lockKey, h heldLock, nonZero bool) {
	if nonZero {
		delete(st.held, k)
		return
	}
	h.pending, h.pendingVar = nil, nil
	st.held[k] = h
}

// condSubject reduces a condition to the expression it tests and whether
// the edge means that expression is non-zero: `x`, `x != 0`, `x == NULL`,
// `0 == x`, `x < 0` (an error code: for a bpf_res_spin_lock result, which is
// 0 or negative, false means 0). exact is false when the edge implies less
// for any other value (x >= 0 does not make x zero).
func condSubject(e cc.ExpressionNode, when bool) (subj cc.ExpressionNode, nonZero, exact bool) {
	e = unparen(e)
	switch x := e.(type) {
	case *cc.EqualityExpression:
		l, r := unparen(x.EqualityExpression), unparen(x.RelationalExpression)
		switch {
		case isZero(r):
			subj = l
		case isZero(l):
			subj = r
		default:
			return nil, false, false
		}
		if x.Case == cc.EqualityExpressionEq {
			return unparen(subj), !when, true
		}
		return unparen(subj), when, true
	case *cc.RelationalExpression:
		if x.Case == cc.RelationalExpressionLt && isZero(unparen(x.ShiftExpression)) {
			return unparen(x.RelationalExpression), when, when
		}
		return nil, false, false
	}
	return e, when, true
}

func unparen(e cc.ExpressionNode) cc.ExpressionNode {
	for {
		switch x := e.(type) {
		case *cc.PrimaryExpression:
			if x.Case == cc.PrimaryExpressionExpr {
				e = x.ExpressionList
				continue
			}
		case *cc.CastExpression:
			if x.Case == cc.CastExpressionCast {
				e = x.CastExpression
				continue
			}
		case *cc.ExpressionList:
			if x.ExpressionList == nil {
				e = x.AssignmentExpression
				continue
			}
		}
		return e
	}
}

func isZero(e cc.ExpressionNode) bool {
	switch x := e.(type) {
	case *cc.PrimaryExpression:
		return x.Case == cc.PrimaryExpressionInt && strings.TrimRight(x.Token.SrcStr(), "uUlL") == "0"
	}
	return false
}

// takenLocks lists the locks known to be held on this path, and the
// newest of them.
func takenLocks(st *state) ([]*Lock, heldLock) {
	var locks []*Lock
	var newest heldLock
	for _, h := range st.held {
		if h.taken() {
			locks = append(locks, h.lock)
			if h.order >= newest.order {
				newest = h
			}
		}
	}
	sortLocks(locks)
	return locks, newest
}

// recordHeld remembers, for the LSP, that a statement runs with locks held
// (on every path that reaches it).
func (a *analyzer) recordHeld(st *state, n cc.Node, m mode) {
	if m.quiet {
		return
	}
	span := a.span(n)
	locks, newest := takenLocks(st)
	if hr, ok := a.held[span]; ok {
		hr.Locks = intersectLocks(hr.Locks, locks)
		return
	}
	a.held[span] = &HeldRange{Func: m.fn.Name, Span: span, Locks: locks, TakenAt: newest.takenAt}
}

// intersectLocks keeps the locks of x that are also in y.
func intersectLocks(x, y []*Lock) []*Lock {
	var out []*Lock
	for _, l := range x {
		if slices.Contains(y, l) {
			out = append(out, l)
		}
	}
	return out
}

func (a *analyzer) report(code string, span cparse.Span, msg string, m mode, extra ...any) {
	if m.quiet || a.rp != nil && a.rp.dead {
		return
	}
	r := ruleByCode[code]
	fd := Finding{Code: code, Severity: r.Severity, Span: span, Message: msg, Kernel: r.Kernel, Func: m.fn.Name}
	for _, e := range extra {
		switch x := e.(type) {
		case Related:
			if x.Span.File != "" {
				fd.Related = append(fd.Related, x)
			}
		case []Fix:
			fd.Fixes = append(fd.Fixes, x...)
		case string:
			fd.Kernel = x
		}
	}
	for _, sum := range a.computing {
		sum.findings = append(sum.findings, fd)
	}
	var site cparse.Span
	if len(a.callSites) > 0 {
		site = a.callSites[0]
	}
	a.emit(fd, site)
}

// emit adds a finding once per program. A finding inside a static helper
// belongs to the program whose path reaches it: it says so, with the call
// site in that program (site) as related information.
func (a *analyzer) emit(fd Finding, site cparse.Span) {
	prog := ""
	if a.prog != nil {
		prog = a.prog.Name
	}
	// Programs generated by one macro invocation share a position: the
	// program tells them apart.
	k := fmt.Sprintf("%s@%s:%d@%s@%s", fd.Code, fd.Span.File, fd.Span.Start.Offset, fd.Func, prog)
	if a.seen[k] {
		return
	}
	a.seen[k] = true
	if prog != "" && fd.Func != prog && site.File != "" {
		fd.Related = append(slices.Clone(fd.Related), related(site, fmt.Sprintf("in program '%s', called here", prog)))
	}
	a.findings = append(a.findings, fd)
}

// posBefore is the position of the byte before p (the closing brace when p
// is the end of a body).
func posBefore(p cparse.Pos) cparse.Pos {
	if p.Offset > 0 {
		p.Offset--
		p.Col--
	}
	return p
}
