package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// evalCtx says how an expression is used.
type evalCtx struct {
	write bool // assigned to
	addr  bool // its address is taken: no access happens
}

func (a *analyzer) eval(st *state, e cc.ExpressionNode, m mode) value {
	return a.evalx(st, e, m, evalCtx{})
}

// evalx interprets an expression: calls, assignments to locals, pointer
// dereferences and accesses to guarded data, and returns its abstract value.
func (a *analyzer) evalx(st *state, e cc.ExpressionNode, m mode, ctx evalCtx) value {
	switch x := e.(type) {
	case nil:
		return value{}
	case *cc.ExpressionList:
		var v value
		for l := x; l != nil; l = l.ExpressionList {
			v = a.evalx(st, l.AssignmentExpression, m, ctx)
		}
		return v
	case *cc.PrimaryExpression:
		switch x.Case {
		case cc.PrimaryExpressionIdent:
			return a.ident(st, x, m, ctx)
		case cc.PrimaryExpressionInt:
			return value{isNull: isZero(x)}
		case cc.PrimaryExpressionExpr:
			return a.evalx(st, x.ExpressionList, m, ctx)
		case cc.PrimaryExpressionStmt:
			return a.stmtExpr(st, x.CompoundStatement, m)
		}
		return value{}
	case *cc.PostfixExpression:
		switch x.Case {
		case cc.PostfixExpressionCall:
			return a.call(st, x, m)
		case cc.PostfixExpressionPSelect:
			base := a.eval(st, x.PostfixExpression, m)
			if !ctx.addr {
				a.deref(st, base, x.PostfixExpression, m)
				a.pointeeAccess(st, x.PostfixExpression, x, ctx.write, m)
			}
			a.fieldAccess(st, x, base, m, ctx)
			if ctx.addr {
				return base // &p->f points into the same object
			}
			return value{}
		case cc.PostfixExpressionSelect:
			a.evalx(st, x.PostfixExpression, m, evalCtx{addr: ctx.addr, write: ctx.write})
			return value{}
		case cc.PostfixExpressionIndex:
			base := a.evalx(st, x.PostfixExpression, m, evalCtx{})
			a.eval(st, x.ExpressionList, m)
			if !ctx.addr {
				a.deref(st, base, x.PostfixExpression, m)
				a.pointeeAccess(st, x.PostfixExpression, x, ctx.write, m)
			}
			return value{}
		case cc.PostfixExpressionInc, cc.PostfixExpressionDec:
			a.evalx(st, x.PostfixExpression, m, evalCtx{write: true})
			return value{}
		}
	case *cc.UnaryExpression:
		switch x.Case {
		case cc.UnaryExpressionAddrof:
			return a.evalx(st, x.CastExpression, m, evalCtx{addr: true})
		case cc.UnaryExpressionDeref:
			base := a.eval(st, x.CastExpression, m)
			if !ctx.addr {
				a.deref(st, base, x.CastExpression, m)
				a.pointeeAccess(st, x.CastExpression, x, ctx.write, m)
			}
			return base
		case cc.UnaryExpressionInc, cc.UnaryExpressionDec:
			a.evalx(st, x.UnaryExpression, m, evalCtx{write: true})
			return value{}
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType, cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return value{}
		}
	case *cc.CastExpression:
		if x.Case == cc.CastExpressionCast {
			v := a.evalx(st, x.CastExpression, m, ctx)
			if isZero(unparen(x.CastExpression)) {
				v.isNull = true
			}
			return v
		}
	case *cc.AssignmentExpression:
		if x.Case != cc.AssignmentExpressionCond {
			rhs := a.eval(st, x.AssignmentExpression, m)
			lhs := unparen(x.UnaryExpression)
			if d := localVar(lhs); d != nil && x.Case == cc.AssignmentExpressionAssign {
				a.bind(st, d, rhs)
				return rhs
			}
			a.evalx(st, lhs, m, evalCtx{write: true})
			return rhs
		}
	case *cc.AdditiveExpression:
		if x.Case != cc.AdditiveExpressionMul {
			l := a.eval(st, x.AdditiveExpression, m)
			r := a.eval(st, x.MultiplicativeExpression, m)
			if l.obj != noObj {
				return value{obj: l.obj}
			}
			if x.Case == cc.AdditiveExpressionAdd && r.obj != noObj {
				return value{obj: r.obj}
			}
			return value{}
		}
	case *cc.ConditionalExpression:
		if x.Case == cc.ConditionalExpressionCond {
			a.eval(st, x.LogicalOrExpression, m)
			t := a.eval(st, x.ExpressionList, m)
			f := a.eval(st, x.ConditionalExpression, m)
			if t.obj != noObj {
				return t
			}
			return f
		}
	}
	// Anything else: evaluate the operands for their effects.
	cparse.Inspect(e, func(n cc.Node) bool {
		if n == cc.Node(e) {
			return true
		}
		if sub, ok := n.(cc.ExpressionNode); ok {
			a.eval(st, sub, m)
			return false
		}
		return true
	})
	return value{}
}

// localVar returns the local variable an expression names, or nil.
func localVar(e cc.ExpressionNode) *cc.Declarator {
	p, ok := e.(*cc.PrimaryExpression)
	if !ok || p.Case != cc.PrimaryExpressionIdent {
		return nil
	}
	d, _ := p.ResolvedTo().(*cc.Declarator)
	if d == nil || d.StorageDuration() == cc.Static || d.IsExtern() {
		return nil
	}
	return d
}

// stmtExpr evaluates a GNU statement expression (container_of, bpf_printk):
// its declarations and expression statements in order; the value is the
// last expression's.
func (a *analyzer) stmtExpr(st *state, cs *cc.CompoundStatement, m mode) value {
	var v value
	if cs == nil {
		return v
	}
	for l := cs.BlockItemList; l != nil; l = l.BlockItemList {
		it := l.BlockItem
		if it == nil {
			continue
		}
		switch {
		case it.Declaration != nil:
			a.declaration(st, it.Declaration, m)
		case it.Statement != nil && it.Statement.ExpressionStatement != nil:
			v = a.eval(st, it.Statement.ExpressionStatement.ExpressionList, m)
		}
	}
	return v
}

// ident evaluates a name: a local pointer's object, or an access to a
// global that may be a lock or guarded data.
func (a *analyzer) ident(st *state, p *cc.PrimaryExpression, m mode, ctx evalCtx) value {
	d, _ := p.ResolvedTo().(*cc.Declarator)
	if d == nil {
		return value{}
	}
	if local := localVar(p); local != nil {
		if id, ok := st.vars[local]; ok {
			return value{obj: id, isNull: st.objs[id].isNull}
		}
		return value{}
	}
	name := d.Name()
	span := a.span(p)
	if l := a.cl.globalLock[name]; l != nil {
		a.ref(st, span, l, nil, m)
	}
	if g := a.cl.globalGuard[name]; g != nil {
		a.ref(st, span, nil, g, m)
		if !g.root && !g.pointee && !ctx.addr && g.Lock != nil {
			a.checkGuarded(st, g, lockKey{global: g.Lock.Name}, g.Lock.Name, span, ctx.write, m)
		}
	}
	return value{}
}

// fieldAccess checks p->f against the guard of field f.
func (a *analyzer) fieldAccess(st *state, pe *cc.PostfixExpression, base value, m mode, ctx evalCtx) {
	fd := pe.Field()
	if fd == nil {
		return
	}
	parent := structName(fd.ParentType())
	key := parent + "." + fd.Name()
	span := a.span(pe)
	if l := a.cl.fieldLock[key]; l != nil {
		a.ref(st, span, l, nil, m)
	}
	g := a.cl.fieldGuard[key]
	if g == nil {
		return
	}
	a.ref(st, span, nil, g, m)
	if g.root || g.pointee || ctx.addr || g.Lock == nil {
		return
	}
	lockText := replaceField(a.text(a.span(pe)), g.Lock.field)
	a.checkGuarded(st, g, lockKey{obj: base.obj, field: g.Lock.field}, lockText, span, ctx.write, m)
}

// pointeeAccess checks a dereference of a pointer whose pointee is guarded
// (`long *__guarded_by(lock) p`): *p, p->f and p[i] need the lock, reading p
// itself does not.
func (a *analyzer) pointeeAccess(st *state, ptr cc.ExpressionNode, whole cc.Node, write bool, m mode) {
	var g *Guarded
	var key lockKey
	lockText := ""
	switch x := unparen(ptr).(type) {
	case *cc.PrimaryExpression:
		if x.Case == cc.PrimaryExpressionIdent && localVar(x) == nil {
			if g = a.cl.globalGuard[x.Token.SrcStr()]; g != nil && g.Lock != nil {
				key, lockText = lockKey{global: g.Lock.Name}, g.Lock.Name
			}
		}
	case *cc.PostfixExpression:
		if x.Case == cc.PostfixExpressionPSelect && x.Field() != nil {
			fd := x.Field()
			if g = a.cl.fieldGuard[structName(fd.ParentType())+"."+fd.Name()]; g != nil && g.Lock != nil {
				key = lockKey{obj: a.quietEval(st, x.PostfixExpression).obj, field: g.Lock.field}
				lockText = replaceField(a.text(a.span(x)), g.Lock.field)
			}
		}
	}
	if g == nil || !g.pointee || g.Lock == nil {
		return
	}
	a.checkGuarded(st, g, key, lockText, a.span(whole), write, m)
}

// checkGuarded reports an access to guarded data without its lock.
func (a *analyzer) checkGuarded(st *state, g *Guarded, key lockKey, lockText string, span cparse.Span, write bool, m mode) {
	if a.holds(st, key, g.Lock) {
		return
	}
	verb := "reading"
	if write {
		verb = "writing"
	}
	a.report(codeGuardedUnlocked, span, fmt.Sprintf("%s '%s' requires holding '%s'", verb, a.text(span), lockText), m,
		related(g.Span, fmt.Sprintf("'%s' is guarded by '%s' (%s)", g.Name, g.Lock.Name, g.Reason)),
		a.fixWrap(span, lockText))
}

// holds reports whether key is held on every path. A field lock of an
// object the analysis cannot name matches any held lock of that field.
func (a *analyzer) holds(st *state, key lockKey, l *Lock) bool {
	if h, ok := st.held[key]; ok {
		return h.must && h.pending == nil && h.pendingVar == nil
	}
	if key.obj == noObj && key.global == "" {
		for k, h := range st.held {
			if k.field == key.field && h.lock == l && h.must && h.pending == nil && h.pendingVar == nil {
				return true
			}
		}
	}
	return false
}

// deref checks a dereference of the pointer expression e with value v.
func (a *analyzer) deref(st *state, v value, e cc.ExpressionNode, m mode) {
	if v.obj == noObj {
		return
	}
	o, ok := st.objs[v.obj]
	if !ok {
		return
	}
	span := a.span(e)
	switch {
	case o.invalid:
		a.report(codeUseAfterUnlock, span, fmt.Sprintf("'%s' (from %s) is used after the lock was released: the unlock invalidated it", a.text(span), o.from), m,
			related(o.unlockAt, "lock released here"), related(o.acquired, "obtained here"))
		o.invalid = false
	case o.maybeNull:
		a.report(codeRefUnchecked, span, fmt.Sprintf("'%s' (from %s) may be NULL here: check it before use", a.text(span), o.from), m,
			related(o.acquired, "obtained here"))
		o.maybeNull = false
	default:
		return
	}
	st.objs[v.obj] = o
}

// ref records, for the LSP, a use of a lock or guarded object.
func (a *analyzer) ref(st *state, span cparse.Span, l *Lock, g *Guarded, m mode) {
	if !m.report {
		return
	}
	r := Ref{Span: span, Lock: l, Guarded: g}
	for _, h := range st.held {
		if h.must && h.pending == nil && h.pendingVar == nil {
			r.Held = append(r.Held, h.lock)
		}
	}
	sortLocks(r.Held)
	a.refs = append(a.refs, r)
}

// text returns the source text of a span of the main file.
func (a *analyzer) text(s cparse.Span) string {
	if s.File != a.f.Path || s.Start.Offset < 0 || s.End.Offset > len(a.f.Src) || s.Start.Offset > s.End.Offset {
		return ""
	}
	return strings.Join(strings.Fields(string(a.f.Src[s.Start.Offset:s.End.Offset])), " ")
}

// replaceField turns "b->count" into "b->lock": the lock field of the same
// object.
func replaceField(expr, field string) string {
	for _, sep := range []string{"->", "."} {
		if i := strings.LastIndex(expr, sep); i >= 0 {
			return expr[:i+len(sep)] + field
		}
	}
	return field
}
