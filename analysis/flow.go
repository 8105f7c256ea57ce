package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// analyzer runs the flow-sensitive checks over every function of a file.
type analyzer struct {
	f        *cparse.File
	cl       *classes
	ids      map[any]objID
	findings []Finding
	seen     map[string]bool // dedupe: code + position
	refs     []Ref
	held     []HeldRange
	heldSeen map[cparse.Span]bool
	depth    int
	curStmt  cparse.Span // the statement being interpreted (fixes wrap it)
	spans    map[cc.Node]cparse.Span
}

// span memoises File.SpanOf: the fixpoint visits each node many times, and
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
	report   bool // the final pass: report findings
}

// value is the abstract value of an expression.
type value struct {
	obj    objID
	isNull bool
	res    *lockKey // the result of bpf_res_spin_lock on this lock
}

func (a *analyzer) id(key any) objID {
	if id, ok := a.ids[key]; ok {
		return id
	}
	id := objID(len(a.ids) + 1)
	a.ids[key] = id
	return id
}

type phiKey struct {
	fn    *cparse.Func
	block int
	decl  *cc.Declarator
}

// analyzeFunc runs the dataflow over fn's CFG from the entry state in and
// returns the joined state at its exits and the value it returns.
func (a *analyzer) analyzeFunc(fn *cparse.Func, in *state, m mode) (*state, value) {
	g := buildCFG(fn.Def.CompoundStatement)
	m.fn = fn
	ins := make([]*state, len(g.blocks))
	ins[g.entry.index] = in
	var exitState *state
	var ret value
	// Fixpoint: iterate until the block entry states stop changing. The
	// domain is finite (object IDs come from AST nodes), the bound is a
	// safety net.
	for iter := 0; iter < 20*len(g.blocks)+20; iter++ {
		changed := false
		outs := make([]*state, len(g.blocks))
		for _, bl := range g.blocks {
			st := ins[bl.index]
			if st == nil || bl == g.exit {
				continue
			}
			out := st.clone()
			for _, at := range bl.atoms {
				if v, isRet := a.atom(out, at, m.quiet()); isRet {
					ret = v
				}
			}
			outs[bl.index] = out
			for _, e := range bl.succs {
				next := out.clone()
				if !a.refine(next, e) {
					continue // cannot be taken (a NULL pointer tested non-NULL)
				}
				if ins[e.to.index] == nil {
					ins[e.to.index] = next
					changed = true
					continue
				}
				joined := ins[e.to.index].clone()
				joined.join(next, func(d *cc.Declarator) objID { return a.id(phiKey{fn, e.to.index, d}) })
				if !joined.equal(ins[e.to.index]) {
					ins[e.to.index] = joined
					changed = true
				}
			}
		}
		if !changed {
			break
		}
	}
	exitState = ins[g.exit.index]
	if m.report {
		for _, bl := range g.blocks {
			if st := ins[bl.index]; st != nil && bl != g.exit {
				out := st.clone()
				for _, at := range bl.atoms {
					a.atom(out, at, m)
				}
			}
		}
	}
	if exitState == nil {
		exitState = in.clone() // never returns (e.g. an infinite loop): keep the caller going
	}
	return exitState, ret
}

func (m mode) quiet() mode { m.report = false; return m }

// atom applies one atom's effects; for a return it also checks the exit and
// reports whether it was one (with the returned value).
func (a *analyzer) atom(st *state, at atom, m mode) (value, bool) {
	a.curStmt = a.span(at.node)
	switch at.kind {
	case atomDecl:
		a.declaration(st, at.node.(*cc.Declaration), m)
	case atomExpr:
		a.recordHeld(st, at.node, m)
		a.eval(st, at.node.(cc.ExpressionNode), m)
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
		if id.Initializer == nil || id.Initializer.AssignmentExpression == nil {
			delete(st.vars, id.Declarator)
			continue
		}
		a.recordHeld(st, id, m)
		v := a.eval(st, id.Initializer.AssignmentExpression, m)
		a.bind(st, id.Declarator, v)
	}
}

// bind makes a local variable hold v.
func (a *analyzer) bind(st *state, d *cc.Declarator, v value) {
	if v.res != nil {
		if h, ok := st.held[*v.res]; ok {
			h.pendingVar = d
			st.held[*v.res] = h
		}
	}
	switch {
	case v.isNull:
		st.vars[d] = a.id(nullKey{})
		st.objs[a.id(nullKey{})] = objState{isNull: true}
	case v.obj != noObj:
		st.vars[d] = v.obj
	default:
		delete(st.vars, d)
	}
}

type nullKey struct{}

// exit checks what must be true when a function returns: no lock held (for
// programs) and no owning reference left unreleased.
func (a *analyzer) exit(st *state, span cparse.Span, ret value, m mode, fallOff bool) {
	if !m.report || m.callback {
		return
	}
	at := span
	where := "return"
	if fallOff {
		// Falling off the end: point at the closing brace.
		at = cparse.Span{File: span.File, Start: posBefore(span.End), End: span.End}
		where = "the end of '" + m.fn.Name + "'"
	}
	if m.entry {
		for _, h := range st.held {
			if h.pendingVar != nil || h.pending != nil {
				continue // a bpf_res_spin_lock result nobody tested: see BL213
			}
			msg := fmt.Sprintf("'%s' is still held at %s", h.lock.Name, where)
			if !h.must {
				msg = fmt.Sprintf("'%s' may still be held at %s (it is taken on some paths)", h.lock.Name, where)
			}
			a.report(codeLockHeldAtExit, at, msg, m, related(h.takenAt, fmt.Sprintf("'%s' taken here", h.lock.Name)),
				a.fixUnlockBefore(at, h, fallOff))
		}
	}
	for id, o := range st.objs {
		if o.ref != refOwning || o.released || o.isNull || o.escaped || id == ret.obj || o.fn != m.fn.Name {
			continue
		}
		msg := fmt.Sprintf("the object from %s is not released at %s: bpf_obj_drop it, or hand it to a list or tree", o.from, where)
		a.report(codeRefLeak, at, msg, m, related(o.acquired, "acquired here"))
	}
}

// refine applies what taking edge e implies: a NULL check or the result of
// bpf_res_spin_lock. It reports false when the edge cannot be taken.
func (a *analyzer) refine(st *state, e edge) bool {
	if e.cond == nil {
		return true
	}
	subj, nonZero := condSubject(e.cond, e.when)
	switch x := subj.(type) {
	case *cc.PostfixExpression:
		for k, h := range st.held {
			if h.pending == x {
				a.resolvePending(st, k, h, nonZero)
			}
		}
	case *cc.PrimaryExpression:
		d, _ := x.ResolvedTo().(*cc.Declarator)
		if d == nil {
			return true
		}
		for k, h := range st.held {
			if h.pendingVar == d {
				a.resolvePending(st, k, h, nonZero)
			}
		}
		id, ok := st.vars[d]
		if !ok {
			return true
		}
		o := st.objs[id]
		if o.isNull {
			return !nonZero
		}
		if nonZero {
			o.maybeNull, o.isNull = false, false
		} else if o.maybeNull {
			o.isNull, o.maybeNull = true, false
		}
		st.objs[id] = o
	}
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
// `0 == x`, `x < 0` (an error code).
func condSubject(e cc.ExpressionNode, when bool) (cc.ExpressionNode, bool) {
	e = unparen(e)
	switch x := e.(type) {
	case *cc.EqualityExpression:
		l, r := unparen(x.EqualityExpression), unparen(x.RelationalExpression)
		var subj cc.ExpressionNode
		switch {
		case isZero(r):
			subj = l
		case isZero(l):
			subj = r
		default:
			return nil, false
		}
		if x.Case == cc.EqualityExpressionEq {
			return unparen(subj), !when
		}
		return unparen(subj), when
	case *cc.RelationalExpression:
		if x.Case == cc.RelationalExpressionLt && isZero(unparen(x.ShiftExpression)) {
			return unparen(x.RelationalExpression), when
		}
		return nil, false
	}
	return e, when
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

// recordHeld remembers, for the LSP, that a statement runs with locks held.
func (a *analyzer) recordHeld(st *state, n cc.Node, m mode) {
	if !m.report || len(st.held) == 0 {
		return
	}
	span := a.span(n)
	if a.heldSeen[span] {
		return
	}
	a.heldSeen[span] = true
	hr := HeldRange{Func: m.fn.Name, Span: span}
	var newest heldLock
	for _, h := range st.held {
		if h.must && h.pending == nil && h.pendingVar == nil {
			hr.Locks = append(hr.Locks, h.lock)
			if h.order >= newest.order {
				newest = h
			}
		}
	}
	if len(hr.Locks) > 0 {
		sortLocks(hr.Locks)
		hr.TakenAt = newest.takenAt
		a.held = append(a.held, hr)
	}
}

func (a *analyzer) report(code string, span cparse.Span, msg string, m mode, extra ...any) {
	if !m.report {
		return
	}
	k := fmt.Sprintf("%s@%s:%d", code, span.File, span.Start.Offset)
	if a.seen[k] {
		return
	}
	a.seen[k] = true
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
