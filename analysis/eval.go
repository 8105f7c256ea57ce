package analysis

import (
	"fmt"
	"strconv"
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
	if e == nil {
		return value{}
	}
	if arithmetic(e) && e.Pure() {
		if n, ok := constValue(e); ok {
			// Integer arithmetic cc/v4's checker computed: walking it
			// on every path was much of the analysis of packet code
			// (sizeof and offset arithmetic).
			return value{isNull: n == 0, num: scalar{known: true, v: n}}
		}
	}
	switch x := e.(type) {
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
			if n, ok := a.literal(x); ok {
				return value{isNull: n == 0, num: scalar{known: true, v: n}}
			}
			return value{}
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
				a.offsetOfMaybeNull(st, base, x, m)
				return base // &p->f points into the same object
			}
			return value{}
		case cc.PostfixExpressionSelect:
			a.evalx(st, x.PostfixExpression, m, evalCtx{addr: ctx.addr, write: ctx.write})
			return a.slot(st, x, ctx)
		case cc.PostfixExpressionIndex:
			a.eval(st, x.ExpressionList, m)
			if _, local := a.placeOf(st, x.PostfixExpression); local {
				return a.slot(st, x, ctx) // an element of a local array
			}
			base := a.evalx(st, x.PostfixExpression, m, evalCtx{})
			if !ctx.addr {
				a.deref(st, base, x.PostfixExpression, m)
				a.pointeeAccess(st, x.PostfixExpression, x, ctx.write, m)
			}
			return value{}
		case cc.PostfixExpressionInc, cc.PostfixExpressionDec:
			old := a.evalx(st, x.PostfixExpression, m, evalCtx{write: true})
			a.step(st, x.PostfixExpression, old, x.Case == cc.PostfixExpressionInc)
			return old
		}
	case *cc.UnaryExpression:
		switch x.Case {
		case cc.UnaryExpressionAddrof:
			if d := localVar(unparen(x.CastExpression)); d != nil {
				delete(st.nums, d) // whoever gets its address may change it
			}
			v := a.evalx(st, x.CastExpression, m, evalCtx{addr: true})
			if fa, ok := a.fieldAddrOf(st, x.CastExpression); ok {
				v.addr = &fa
			}
			return v
		case cc.UnaryExpressionNot:
			v := a.eval(st, x.CastExpression, m)
			if t, known := v.truth(st); known {
				return boolValue(!t)
			}
			return value{}
		case cc.UnaryExpressionMinus:
			if v := a.eval(st, x.CastExpression, m); v.num.known {
				return value{num: scalar{known: true, v: -v.num.v}}
			}
			return value{}
		case cc.UnaryExpressionDeref:
			a.checkSpecialField(st, x, m)
			base := a.eval(st, x.CastExpression, m)
			if !ctx.addr {
				a.deref(st, base, x.CastExpression, m)
				a.pointeeAccess(st, x.CastExpression, x, ctx.write, m)
			}
			return base
		case cc.UnaryExpressionInc, cc.UnaryExpressionDec:
			old := a.evalx(st, x.UnaryExpression, m, evalCtx{write: true})
			return a.step(st, x.UnaryExpression, old, x.Case == cc.UnaryExpressionInc)
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType, cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return value{}
		}
	case *cc.CastExpression:
		if x.Case == cc.CastExpressionCast {
			v := a.evalx(st, x.CastExpression, m, ctx)
			if isZero(unparen(x.CastExpression)) {
				v.isNull = true
			}
			a.typeAllocation(st, x, v)
			return v
		}
	case *cc.AssignmentExpression:
		if x.Case != cc.AssignmentExpressionCond {
			rhs := a.eval(st, x.AssignmentExpression, m)
			lhs := unparen(x.UnaryExpression)
			if p, ok := a.placeOf(st, lhs); ok {
				if x.Case != cc.AssignmentExpressionAssign {
					old := a.evalx(st, lhs, m, evalCtx{write: true})
					rhs = arith(x.Token.SrcStr(), old, rhs)
				}
				a.bind(st, p, rhs)
				return rhs
			}
			// Stored where the analysis cannot follow (a field of an object,
			// an element at an unknown index): stop tracking the object, and
			// forget what the array held.
			a.escape(st, rhs)
			if d := rootLocal(lhs); d != nil {
				for p := range st.ptrs {
					if p.d == d && p.path != "" {
						delete(st.ptrs, p)
					}
				}
			}
			a.evalx(st, lhs, m, evalCtx{write: true})
			return rhs
		}
	case *cc.AdditiveExpression:
		if x.Case != cc.AdditiveExpressionMul {
			l := a.eval(st, x.AdditiveExpression, m)
			r := a.eval(st, x.MultiplicativeExpression, m)
			if l.obj != noObj {
				if off, ok := constValue(x.MultiplicativeExpression); ok && off != 0 {
					a.arithOnMaybeNull(st, l, x.AdditiveExpression, m)
				}
				return value{obj: l.obj}
			}
			if x.Case == cc.AdditiveExpressionAdd && r.obj != noObj {
				return value{obj: r.obj}
			}
			return arith(x.Token.SrcStr(), l, r)
		}
	case *cc.MultiplicativeExpression:
		if x.Case != cc.MultiplicativeExpressionCast {
			l := a.eval(st, x.MultiplicativeExpression, m)
			r := a.eval(st, x.CastExpression, m)
			return arith(x.Token.SrcStr(), l, r)
		}
	case *cc.RelationalExpression:
		if x.Case != cc.RelationalExpressionShift {
			l := a.eval(st, x.RelationalExpression, m)
			r := a.eval(st, x.ShiftExpression, m)
			return compare(x.Token.SrcStr(), l, r)
		}
	case *cc.EqualityExpression:
		if x.Case != cc.EqualityExpressionRel {
			l := a.eval(st, x.EqualityExpression, m)
			r := a.eval(st, x.RelationalExpression, m)
			if l.obj != noObj || r.obj != noObj {
				return a.comparePointers(st, x.Case == cc.EqualityExpressionEq, l, r)
			}
			return compare(x.Token.SrcStr(), l, r)
		}
	case *cc.ConditionalExpression:
		if x.Case == cc.ConditionalExpressionCond {
			// Each outcome of the condition is its own path.
			c := a.eval(st, x.LogicalOrExpression, m)
			when := a.choose(2) == 0
			if !a.assume(st, x.LogicalOrExpression, when, c) {
				a.infeasible()
				return value{}
			}
			if when {
				return a.eval(st, x.ExpressionList, m)
			}
			return a.eval(st, x.ConditionalExpression, m)
		}
	case *cc.LogicalAndExpression:
		if x.Case == cc.LogicalAndExpressionLAnd {
			return a.logical(st, x.LogicalAndExpression, x.InclusiveOrExpression, false, m)
		}
	case *cc.LogicalOrExpression:
		if x.Case == cc.LogicalOrExpressionLOr {
			return a.logical(st, x.LogicalOrExpression, x.LogicalAndExpression, true, m)
		}
	}
	// Anything else: evaluate the operands for their effects.
	for _, sub := range a.operands(e) {
		a.eval(st, sub, m)
	}
	return value{}
}

// operands returns the outermost expressions below e, in the order
// cparse.Inspect meets them, memoised: exploration evaluates the same
// expressions on many paths, and walking the AST each time dominated
// macro-heavy bodies.
func (a *analyzer) operands(e cc.ExpressionNode) []cc.ExpressionNode {
	if ops, ok := a.ops[e]; ok {
		return ops
	}
	var ops []cc.ExpressionNode
	cparse.Inspect(e, func(n cc.Node) bool {
		if n == cc.Node(e) {
			return true
		}
		if sub, ok := n.(cc.ExpressionNode); ok {
			ops = append(ops, sub)
			return false
		}
		return true
	})
	a.ops[e] = ops
	return ops
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
		if id, ok := st.ptrs[place{d: local}]; ok {
			return value{obj: id, isNull: st.objs[id].isNull}
		}
		if fa, ok := st.addrs[place{d: local}]; ok {
			return value{addr: &fa}
		}
		return value{num: st.nums[local]}
	}
	name := d.Name()
	if fn := a.f.Func(name); fn != nil && fn.Def != nil {
		return value{addr: &fieldAddr{fn: fn}}
	}
	if t := d.Type(); t != nil && t.Kind() == cc.Function {
		return value{addr: &fieldAddr{callee: name}}
	}
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

// holds reports whether key is held on this path. A field lock of an
// object the analysis cannot name matches any held lock of that field.
func (a *analyzer) holds(st *state, key lockKey, l *Lock) bool {
	if h, ok := st.held[key]; ok {
		return h.taken()
	}
	if key.obj == noObj && key.global == "" {
		for k, h := range st.held {
			if k.field == key.field && h.lock == l && h.taken() {
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
	case o.droppedAt.File != "":
		a.report(codeUseAfterUnlock, span, fmt.Sprintf("'%s' (from %s) is used after bpf_obj_drop freed it", a.text(span), o.from), m,
			related(o.droppedAt, "dropped here"), related(o.acquired, "obtained here"))
		o.droppedAt = cparse.Span{}
	case o.invalid:
		a.report(codeUseAfterUnlock, span, fmt.Sprintf("'%s' (from %s) is used after the lock was released: the unlock invalidated it", a.text(span), o.from), m,
			related(o.unlockAt, "lock released here"), related(o.acquired, "obtained here"))
		o.invalid = false
	case o.maybeNull:
		a.report(codeRefUnchecked, span, fmt.Sprintf("'%s' (from %s) may be NULL here: check it before use", a.text(span), o.from), m,
			related(o.acquired, "obtained here"), o.nullKernel())
		o.maybeNull = false
	default:
		return
	}
	st.objs[v.obj] = o
}

// ref records, for the LSP, a use of a lock or guarded object and the
// locks held at it on every path.
func (a *analyzer) ref(st *state, span cparse.Span, l *Lock, g *Guarded, m mode) {
	if m.quiet {
		return
	}
	locks, _ := takenLocks(st)
	if r, ok := a.refs[span]; ok {
		r.Held = intersectLocks(r.Held, locks)
		return
	}
	a.refs[span] = &Ref{Span: span, Lock: l, Guarded: g, Held: locks}
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

// placeOf resolves an lvalue the analysis tracks: a local variable, or an
// element (at a known index) or member of a local array or struct.
func (a *analyzer) placeOf(st *state, e cc.ExpressionNode) (place, bool) {
	switch x := unparen(e).(type) {
	case *cc.PrimaryExpression:
		if d := localVar(x); d != nil {
			return place{d: d}, true
		}
	case *cc.PostfixExpression:
		switch x.Case {
		case cc.PostfixExpressionIndex:
			base, ok := a.placeOf(st, x.PostfixExpression)
			if !ok || !isArray(x.PostfixExpression) {
				return place{}, false
			}
			i := a.quietEval(st, x.ExpressionList)
			if !i.num.known {
				return place{}, false
			}
			return place{d: base.d, path: fmt.Sprintf("%s[%d]", base.path, i.num.v)}, true
		case cc.PostfixExpressionSelect:
			base, ok := a.placeOf(st, x.PostfixExpression)
			if !ok || x.Token2.SrcStr() == "" {
				return place{}, false
			}
			return place{d: base.d, path: base.path + "." + x.Token2.SrcStr()}, true
		}
	}
	return place{}, false
}

// isArray reports whether e names an array (not a pointer: p[i] is memory
// the analysis does not track).
func isArray(e cc.ExpressionNode) bool {
	t := e.Type()
	if d := localVar(unparen(e)); d != nil {
		t = d.Type()
	}
	return t != nil && t.Kind() == cc.Array
}

// rootLocal returns the local variable at the root of an element or member
// access (f in f[i].g), or nil.
func rootLocal(e cc.ExpressionNode) *cc.Declarator {
	for {
		switch x := unparen(e).(type) {
		case *cc.PrimaryExpression:
			return localVar(x)
		case *cc.PostfixExpression:
			if x.Case != cc.PostfixExpressionIndex && x.Case != cc.PostfixExpressionSelect {
				return nil
			}
			e = x.PostfixExpression
		default:
			return nil
		}
	}
}

// slot reads a tracked element or member of a local aggregate.
func (a *analyzer) slot(st *state, e cc.ExpressionNode, ctx evalCtx) value {
	p, ok := a.placeOf(st, e)
	if !ok || ctx.addr {
		return value{}
	}
	if id, ok := st.ptrs[p]; ok {
		return value{obj: id, isNull: st.objs[id].isNull}
	}
	return value{}
}

// escape stops leak tracking of an object stored where the analysis cannot
// follow it.
func (a *analyzer) escape(st *state, v value) {
	if o, ok := st.objs[v.obj]; ok && o.ref == refOwning {
		o.escaped = true
		st.objs[v.obj] = o
	}
}

// step applies ++ or -- to a tracked local and returns the new value.
func (a *analyzer) step(st *state, e cc.ExpressionNode, old value, inc bool) value {
	p, ok := a.placeOf(st, e)
	if !ok {
		return value{}
	}
	if old.obj != noObj {
		return old // pointer arithmetic stays in the object
	}
	op := "-"
	if inc {
		op = "+"
	}
	v := arith(op, old, value{num: scalar{known: true, v: 1}})
	a.bind(st, p, v)
	return v
}

// arith folds an operation on known scalars (op is the operator's token,
// "+" or "+=").
func arith(op string, l, r value) value {
	if l.obj != noObj && (op == "+=" || op == "-=") {
		return l
	}
	if !l.num.known || !r.num.known {
		return value{}
	}
	x, y := l.num.v, r.num.v
	var v int64
	switch strings.TrimSuffix(op, "=") {
	case "+":
		v = x + y
	case "-":
		v = x - y
	case "*":
		v = x * y
	case "/", "%":
		if y == 0 {
			return value{}
		}
		if op[0] == '/' {
			v = x / y
		} else {
			v = x % y
		}
	case "&":
		v = x & y
	case "|":
		v = x | y
	case "^":
		v = x ^ y
	case "<<":
		v = x << uint(y&63)
	case ">>":
		v = x >> uint(y&63)
	default:
		return value{}
	}
	return value{num: scalar{known: true, v: v}}
}

// compare folds a comparison of known scalars.
func compare(op string, l, r value) value {
	if !l.num.known || !r.num.known {
		return value{}
	}
	x, y := l.num.v, r.num.v
	switch op {
	case "<":
		return boolValue(x < y)
	case "<=":
		return boolValue(x <= y)
	case ">":
		return boolValue(x > y)
	case ">=":
		return boolValue(x >= y)
	case "==":
		return boolValue(x == y)
	case "!=":
		return boolValue(x != y)
	}
	return value{}
}

// comparePointers folds p == NULL / p != NULL when p's NULL-ness is known.
func (a *analyzer) comparePointers(st *state, eq bool, l, r value) value {
	var p value
	switch {
	case r.isNull || r.num.known && r.num.v == 0:
		p = l
	case l.isNull || l.num.known && l.num.v == 0:
		p = r
	default:
		return value{}
	}
	if t, known := p.truth(st); known {
		return boolValue(t != eq)
	}
	return value{}
}

// logical evaluates && (or || when or is set) in a value context: each
// outcome of the left operand is its own path, and the right operand runs
// only where C runs it.
func (a *analyzer) logical(st *state, left, right cc.ExpressionNode, or bool, m mode) value {
	l := a.eval(st, left, m)
	when := a.choose(2) == 0
	if !a.assume(st, left, when, l) {
		a.infeasible()
		return value{}
	}
	if when == or {
		return boolValue(or) // short-circuited
	}
	r := a.eval(st, right, m)
	if t, known := r.truth(st); known {
		return boolValue(t)
	}
	return value{}
}

func boolValue(b bool) value {
	if b {
		return value{num: scalar{known: true, v: 1}}
	}
	return value{num: scalar{known: true, v: 0}, isNull: true}
}

// intLiteral parses an integer constant (decimal, hex, octal, with
// suffixes).
// literal is an integer literal's value: the constant cc/v4's checker
// gave it, else its text parsed. Exploration evaluates a literal on every
// path through it, and parsing its text each time was a seventh of the
// analysis of a program with many paths (test_tc_tunnel.c).
func (a *analyzer) literal(p *cc.PrimaryExpression) (int64, bool) {
	if n, ok := constValue(p); ok {
		return n, true
	}
	return intLiteral(p)
}

// arithmetic reports whether e is a sum, product, shift or sizeof:
// expressions whose constant value, when cc/v4 computed one and they are
// pure, says all there is to them (an assignment or a comma expression has
// a value and effects).
func arithmetic(e cc.ExpressionNode) bool {
	switch x := e.(type) {
	case *cc.AdditiveExpression, *cc.MultiplicativeExpression, *cc.ShiftExpression:
		return true
	case *cc.UnaryExpression:
		switch x.Case {
		case cc.UnaryExpressionSizeofExpr, cc.UnaryExpressionSizeofType, cc.UnaryExpressionAlignofExpr, cc.UnaryExpressionAlignofType:
			return true
		}
	}
	return false
}

func intLiteral(p *cc.PrimaryExpression) (int64, bool) {
	s := p.Token.SrcStr()
	// strings.TrimRight(s, "uUlL") without building its byte set: literals
	// are evaluated on every path.
	for len(s) > 0 && strings.IndexByte("uUlL", s[len(s)-1]) >= 0 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		u, err := strconv.ParseUint(s, 0, 64)
		return int64(u), err == nil
	}
	return n, true
}

// offsetOfMaybeNull reports &p->f with f at a non-zero offset while p may be
// NULL: the verifier refuses arithmetic on a pointer it has not checked.
func (a *analyzer) offsetOfMaybeNull(st *state, base value, pe *cc.PostfixExpression, m mode) {
	if pe.Field() != nil && pe.Field().Offset() != 0 {
		a.arithOnMaybeNull(st, base, pe.PostfixExpression, m)
	}
}

// arithOnMaybeNull reports pointer arithmetic (a field's address,
// container_of) on a pointer that may be NULL.
func (a *analyzer) arithOnMaybeNull(st *state, v value, ptr cc.ExpressionNode, m mode) {
	o, ok := st.objs[v.obj]
	if !ok || !o.maybeNull {
		return
	}
	span := a.span(ptr)
	a.report(codeRefUnchecked, span, fmt.Sprintf("'%s' (from %s) may be NULL: pointer arithmetic on it (a field's address, container_of) needs the NULL check first", a.text(span), o.from), m,
		related(o.acquired, "obtained here"), "pointer arithmetic on ptr_or_null_ prohibited, null-check it first")
	o.maybeNull = false
	st.objs[v.obj] = o
}

// constValue returns the value of an integer constant expression.
func constValue(e cc.ExpressionNode) (int64, bool) {
	switch v := e.Value().(type) {
	case cc.Int64Value:
		return int64(v), true
	case cc.UInt64Value:
		return int64(v), true
	}
	return 0, false
}

// typeAllocation records the struct type of a bpf_obj_new object from the
// cast around the allocation (the macro's `(type *)bpf_obj_new_impl(...)`):
// the kernel knows the object by that type whatever pointer holds it later.
func (a *analyzer) typeAllocation(st *state, x *cc.CastExpression, v value) {
	o, ok := st.objs[v.obj]
	if !ok || o.typ != nil {
		return
	}
	call, ok := unparen(x.CastExpression).(*cc.PostfixExpression)
	if !ok || call.Case != cc.PostfixExpressionCall {
		return
	}
	if c := a.f.CallOf(call); c == nil || !allocators[c.Name] {
		return
	}
	if pt, ok := x.Type().(*cc.PointerType); ok && pt.Elem().Kind() == cc.Struct {
		o.typ = pt.Elem()
		st.objs[v.obj] = o
	}
}
