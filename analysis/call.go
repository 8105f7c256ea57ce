package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// call interprets a call: lock operations, graph kfuncs, allocation and
// release, helpers under a lock, and static functions (analysed in the
// caller's state, so lock state flows through them).
func (a *analyzer) call(st *state, pe *cc.PostfixExpression, m mode) value {
	c := a.f.CallOf(pe)
	if c == nil {
		a.evalArgs(st, pe, m)
		return value{}
	}
	if c.Name == "" || localVar(unparen(pe.PostfixExpression)) != nil {
		// Through a function pointer: a local holding &f calls f.
		if fa, ok := st.addrs[place{d: localVar(unparen(pe.PostfixExpression))}]; ok && (fa.callee != "" || fa.fn != nil) {
			resolved := *c
			resolved.Name = fa.callee
			if fa.fn != nil {
				resolved.Name = fa.fn.Name
			}
			resolved.Spelled = resolved.Name
			c = &resolved
		}
	}
	args := make([]value, len(c.Args))
	for i, arg := range c.Args {
		args[i] = a.eval(st, arg.Expr, m)
	}
	name := displayName(c)
	held, holding := st.anyHeld()
	kind := classify(a.f, c)
	switch kind {
	case callLock, callResLock:
		return a.lock(st, c, pe, kind == callResLock, m)
	case callUnlock, callResUnlock:
		a.unlock(st, c, kind == callResUnlock, m)
		return value{}
	case callGraph:
		return a.graph(st, c, pe, args, m)
	case callStatic:
		return a.callStatic(st, a.f.Func(c.Name), args, c.Span, m, false)
	case callGlobal:
		if holding {
			a.report(codeCallUnderLock, c.NameSpan, fmt.Sprintf("calling global function %s while holding '%s': only static functions may be called in a critical section", name, held.lock.Name), m,
				related(held.takenAt, fmt.Sprintf("'%s' taken here", held.lock.Name)),
				kernelGlobalCallUnderLock)
		}
		return value{}
	case callHelper, callKfunc:
		if holding {
			what := "helper"
			if kind == callKfunc {
				what = "kfunc"
			}
			msg := fmt.Sprintf("%s (a %s) is not allowed while holding '%s'", name, what, held.lock.Name)
			if m.callback {
				msg = fmt.Sprintf("%s is called from the rbtree callback '%s', which runs while holding '%s': a %s is not allowed there", name, m.fn.Name, held.lock.Name, what)
			}
			a.report(codeCallUnderLock, c.NameSpan, msg, m, related(held.takenAt, fmt.Sprintf("'%s' taken here", held.lock.Name)))
		}
		a.checkThrow(st, c, m)
		switch {
		case allocators[c.Name]:
			return value{obj: st.fresh(objState{ref: refOwning, maybeNull: true, acquired: c.Span, from: name, fn: m.fn.Name})}
		case releasers[c.Name] && len(args) > 0:
			a.release(st, args[0], c.Args[0].Expr, m)
		case c.Name == "bpf_kptr_xchg" && len(args) == 2:
			// The object moves into the kptr field; the old one comes out.
			a.escape(st, args[1])
			return value{obj: st.fresh(objState{ref: refOwning, maybeNull: true, acquired: c.Span, from: name, fn: m.fn.Name})}
		case c.Name == "bpf_map_lookup_elem":
			return value{obj: st.fresh(objState{maybeNull: true, acquired: c.Span, from: name, fn: m.fn.Name})}
		default:
			// An object handed to a call the analysis does not model is
			// no longer tracked.
			for _, v := range args {
				a.escape(st, v)
			}
		}
	}
	return value{}
}

func (a *analyzer) evalArgs(st *state, pe *cc.PostfixExpression, m mode) {
	for l := pe.ArgumentExpressionList; l != nil; l = l.ArgumentExpressionList {
		a.eval(st, l.AssignmentExpression, m)
	}
}

// fieldAddrOf resolves the lock or graph root an lvalue names: glock,
// v->lock, groot, v->head.
func (a *analyzer) fieldAddrOf(st *state, e cc.ExpressionNode) (fieldAddr, bool) {
	switch x := unparen(e).(type) {
	case *cc.PrimaryExpression:
		if x.Case != cc.PrimaryExpressionIdent || localVar(x) != nil {
			break
		}
		name := x.Token.SrcStr()
		if l := a.cl.globalLock[name]; l != nil {
			return fieldAddr{key: lockKey{global: l.Name}, lock: l}, true
		}
		if g := a.cl.globalGuard[name]; g != nil && g.root && g.Lock != nil {
			return fieldAddr{key: lockKey{global: g.Lock.Name}, root: g}, true
		}
	case *cc.PostfixExpression:
		if x.Case != cc.PostfixExpressionPSelect || x.Field() == nil {
			break
		}
		fd := x.Field()
		key := structName(fd.ParentType()) + "." + fd.Name()
		if l := a.cl.fieldLock[key]; l != nil {
			return fieldAddr{key: lockKey{obj: a.quietEval(st, x.PostfixExpression).obj, field: l.field}, lock: l}, true
		}
		if g := a.cl.fieldGuard[key]; g != nil && g.root && g.Lock != nil {
			return fieldAddr{key: lockKey{obj: a.quietEval(st, x.PostfixExpression).obj, field: g.Lock.field}, root: g}, true
		}
	}
	return fieldAddr{}, false
}

// argAddr resolves a lock or root argument: &glock, &v->head, or a local
// (a helper's parameter) holding such an address.
func (a *analyzer) argAddr(st *state, arg cparse.Arg) (fieldAddr, bool) {
	e := unparen(arg.Expr)
	if u, ok := e.(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionAddrof {
		return a.fieldAddrOf(st, u.CastExpression)
	}
	if d := localVar(e); d != nil {
		fa, ok := st.addrs[place{d: d}]
		return fa, ok
	}
	return fieldAddr{}, false
}

// lockArg resolves the lock an argument names. An expression the analysis
// cannot resolve gets an identity of its own text (an "unknown" lock, on
// which no finding depends).
func (a *analyzer) lockArg(st *state, arg cparse.Arg) (lockKey, *Lock) {
	if fa, ok := a.argAddr(st, arg); ok && fa.lock != nil {
		return fa.key, fa.lock
	}
	text := strings.TrimPrefix(strings.Join(strings.Fields(arg.Text), ""), "&")
	return lockKey{global: "?" + text}, &Lock{Name: text, Span: arg.Span, Kind: "bpf_spin_lock", Allocation: unknownAllocation}
}

// unknownAllocation marks a lock the analysis could not resolve.
const unknownAllocation = "unknown"

// quietEval evaluates an expression for its value only.
func (a *analyzer) quietEval(st *state, e cc.ExpressionNode) value {
	saved := a.rp
	a.rp = nil // a look, not a path: no choices
	defer func() { a.rp = saved }()
	return a.eval(st.clone(), e, mode{fn: &cparse.Func{}, quiet: true})
}

func lockDisplay(arg cparse.Arg) string {
	return strings.TrimPrefix(strings.Join(strings.Fields(arg.Text), ""), "&")
}

func (a *analyzer) lock(st *state, c *cparse.Call, pe *cc.PostfixExpression, res bool, m mode) value {
	if len(c.Args) == 0 {
		return value{}
	}
	key, l := a.lockArg(st, c.Args[0])
	name := displayName(c)
	if m.callback {
		a.report(codeLockInCallback, c.NameSpan, fmt.Sprintf("%s inside the rbtree callback '%s', which already runs with the tree's lock held", name, m.fn.Name), m,
			kernelCallUnderLock)
		return value{}
	}
	if h, ok := st.held[key]; ok && res && h.res {
		a.report(codeResLockMisuse, c.NameSpan, fmt.Sprintf("'%s' is taken again while held: AA deadlock", l.Name), m,
			related(h.takenAt, "taken here"), "Acquiring the same lock again, AA deadlock detected")
		// At run time the call fails with -EDEADLK and the lock stays the
		// caller's: follow that path so this one bug is reported once.
		return value{num: scalar{known: true, v: -35}}
	} else if held, holding := st.anyHeld(); holding && !res {
		what := "another lock"
		if held.lock == l {
			what = "it"
		}
		a.report(codeDoubleLock, c.NameSpan, fmt.Sprintf("%s(&%s) while '%s' is held: a program may hold one bpf_spin_lock at a time, and taking %s again deadlocks", name, lockDisplay(c.Args[0]), held.lock.Name, what), m,
			related(held.takenAt, fmt.Sprintf("'%s' taken here", held.lock.Name)))
	}
	st.seq++
	h := heldLock{lock: l, expr: lockDisplay(c.Args[0]), takenAt: c.Span, order: st.seq, res: res}
	if res {
		h.pending = pe // held only where the result is known to be 0
	}
	st.held[key] = h
	if res {
		return value{res: &key}
	}
	return value{}
}

func (a *analyzer) unlock(st *state, c *cparse.Call, res bool, m mode) {
	if len(c.Args) == 0 {
		return
	}
	key, l := a.lockArg(st, c.Args[0])
	name := displayName(c)
	if m.callback {
		// Unlock passes the call-under-lock check; its argument check
		// refuses it (the braces are in the kernel's text).
		a.report(codeLockInCallback, c.NameSpan, fmt.Sprintf("%s inside the rbtree callback '%s', which must return with the tree's lock still held", name, m.fn.Name), m,
			"can't spin_{lock,unlock} in rbtree cb")
		return
	}
	h, ok := st.held[key]
	switch {
	case ok && !h.taken():
		a.report(codeResLockMisuse, c.NameSpan, fmt.Sprintf("%s of '%s', but the result of bpf_res_spin_lock was not checked: it returns non-zero when it did not take the lock", name, l.Name), m,
			related(h.takenAt, "taken here"), strings.TrimSuffix(name, "_unlock")+"_unlock without taking a lock")
	case ok && res:
		for _, o := range st.held {
			if o.res && o.order > h.order {
				a.report(codeResLockMisuse, c.NameSpan, fmt.Sprintf("'%s' is released before '%s', which was taken after it: resilient locks unlock in reverse order", l.Name, o.lock.Name), m,
					related(o.takenAt, fmt.Sprintf("'%s' taken here", o.lock.Name)), "bpf_res_spin_unlock cannot be out of order")
				break
			}
		}
	case !ok && len(st.held) > 0 && (l.Allocation == unknownAllocation || holdsUnknown(st)):
		// One side cannot be resolved: assume the program releases what it
		// holds, and say nothing.
		if held, holding := st.anyHeld(); holding {
			for k, h := range st.held {
				if h == held {
					key = k
				}
			}
		}
	case !ok:
		held, holding := st.anyHeld()
		if !holding {
			a.report(codeUnlockWithoutLock, c.NameSpan, fmt.Sprintf("%s of '%s', which is not held", name, l.Name), m,
				strings.TrimSuffix(name, "_unlock")+"_unlock without taking a lock")
		} else {
			msg := fmt.Sprintf("%s of '%s', but the lock held is '%s'", name, l.Name, held.lock.Name)
			if held.lock == l {
				msg = fmt.Sprintf("%s of '%s', but the lock held is '%s': the same field of another allocation (every lookup or allocation is its own)", name, lockDisplay(c.Args[0]), held.expr)
			}
			a.report(codeUnlockDifferent, c.NameSpan, msg, m,
				related(held.takenAt, fmt.Sprintf("'%s' taken here", held.lock.Name)), strings.TrimSuffix(name, "_unlock")+"_unlock of different lock")
			// The program meant to release the lock it holds: carry on as if
			// it had, so this one bug is reported once.
			for k, h := range st.held {
				if h == held {
					key = k
				}
			}
		}
	}
	delete(st.held, key)
	// The kernel turns every non-owning reference into a scalar at unlock.
	for id, o := range st.objs {
		if o.ref == refNonOwning && !o.invalid {
			o.invalid, o.unlockAt = true, c.Span
			st.objs[id] = o
		}
	}
}

// graph checks a graph kfunc: the root's lock must be held, the node must
// be an owned, checked reference, and the result is a new reference.
func (a *analyzer) graph(st *state, c *cparse.Call, pe *cc.PostfixExpression, args []value, m mode) value {
	op := graphOps[c.Name]
	name := displayName(c)
	if m.callback && !op.inCallback {
		a.report(codeLockInCallback, c.NameSpan, fmt.Sprintf("%s is not allowed in the rbtree callback '%s'", name, m.fn.Name), m,
			c.Name+" not allowed in rbtree cb") // older wording: the rule's KernelSince
	}
	if op.root >= 0 && op.root < len(c.Args) {
		a.checkGraphArgOffsets(st, c, op, m)
		a.checkRoot(st, c, op, m)
		if op.consumes && op.node < len(c.Args) {
			a.checkNodeType(st, c, op, m)
		}
	}
	owning := false
	if op.node >= 0 && op.node < len(args) {
		v := args[op.node]
		if o, ok := st.objs[v.obj]; ok {
			owning = o.ref == refOwning && !o.released
			switch {
			case o.maybeNull:
				a.report(codeRefUnchecked, c.Args[op.node].Span, fmt.Sprintf("'%s' (from %s) may be NULL when passed to %s: check it first", strings.TrimPrefix(c.Args[op.node].Text, "&"), o.from, name), m,
					related(o.acquired, "obtained here"), o.nullKernel())
				o.maybeNull = false
			case o.invalid:
				// The kfunc's own argument check sees the scalar first.
				kernel := "arg#1 expected pointer to allocated object"
				if !op.consumes {
					kernel = c.Name + " can only take non-owning or refcounted bpf_rb_node pointer"
				}
				a.report(codeUseAfterUnlock, c.Args[op.node].Span, fmt.Sprintf("'%s' (from %s) is passed to %s after the lock was released", strings.TrimPrefix(c.Args[op.node].Text, "&"), o.from, name), m,
					related(o.unlockAt, "lock released here"), kernel)
				o.invalid = false
			}
			if op.consumes && !o.maybeNull && !o.invalid && (o.ref == refNonOwning || o.released) {
				a.report(codeNodeNotOwned, c.Args[op.node].Span, fmt.Sprintf("'%s' (from %s) is not owned here: %s takes ownership of the node, and this pointer gave it up already", strings.TrimPrefix(c.Args[op.node].Text, "&"), o.from, name), m,
					related(o.acquired, "obtained here"))
			}
			if op.consumes && o.ref == refOwning {
				// The collection owns it now; the pointer stays usable,
				// as a non-owning reference, until the unlock.
				o.ref, o.released = refNonOwning, true
			}
			st.objs[v.obj] = o
		}
	}
	if op.callback >= 0 && op.callback < len(c.Args) {
		a.callback(st, c.Args[op.callback], m)
	}
	if op.result == refNone {
		return value{}
	}
	res := objState{ref: op.result, maybeNull: true, acquired: c.Span, from: name, fn: m.fn.Name}
	if op.result == refOwning && op.root < 0 && op.node < len(args) && owning {
		// bpf_refcount_acquire of an owning reference cannot fail.
		res.maybeNull = false
	}
	return value{obj: st.fresh(res)}
}

// checkRoot reports a graph call whose root's lock is not held.
func (a *analyzer) checkRoot(st *state, c *cparse.Call, op graphOp, m mode) {
	arg := c.Args[op.root]
	g, key := a.rootArg(st, arg)
	if g == nil || g.Lock == nil {
		return // an unknown root, or one without a lock (reported at its declaration)
	}
	if a.holds(st, key, g.Lock) {
		return
	}
	name := displayName(c)
	root := strings.TrimPrefix(lockDisplay(arg), "&")
	lockText := g.Lock.Name
	if key.global == "" {
		lockText = replaceField(root, g.Lock.field)
	}
	rootDesc := "'" + root + "'"
	if localVar(unparen(arg.Expr)) != nil {
		rootDesc = fmt.Sprintf("'%s' (passed as '%s')", g.Name, root)
	}
	rel := related(g.Span, fmt.Sprintf("'%s' is guarded by '%s' (%s)", g.Name, g.Lock.Name, g.Reason))
	var stmt cparse.Span
	if a.curStmt != nil {
		stmt = a.span(a.curStmt)
	}
	fix := a.fixWrap(stmt, lockText)
	if h, ok := st.held[key]; ok {
		a.report(codeGraphUnlocked, c.NameSpan, fmt.Sprintf("%s on %s requires holding '%s', but the result of %s was not checked: it may not have taken the lock", name, rootDesc, lockText, "bpf_res_spin_lock"), m,
			rel, related(h.takenAt, fmt.Sprintf("'%s' taken here", lockText)), g.Kernel, fix)
		return
	}
	if holdsUnknown(st) {
		return // the lock held could not be resolved: it may be the right one
	}
	if held, holding := st.anyHeld(); holding {
		a.report(codeGraphWrongLock, c.NameSpan, fmt.Sprintf("%s on %s requires holding '%s', but the lock held is '%s' (another allocation)", name, rootDesc, lockText, held.lock.Name), m,
			rel, related(held.takenAt, fmt.Sprintf("'%s' taken here", held.lock.Name)))
		return
	}
	a.report(codeGraphUnlocked, c.NameSpan, fmt.Sprintf("%s on %s requires holding '%s'", name, rootDesc, lockText), m, rel, g.Kernel, fix)
}

// rootArg resolves a root argument (&groot, &v->head, a parameter) to its
// Guarded and the key of the lock that must be held.
func (a *analyzer) rootArg(st *state, arg cparse.Arg) (*Guarded, lockKey) {
	if fa, ok := a.argAddr(st, arg); ok && fa.root != nil {
		return fa.root, fa.key
	}
	return nil, lockKey{}
}

// release handles bpf_obj_drop.
func (a *analyzer) release(st *state, v value, e cc.ExpressionNode, m mode) {
	o, ok := st.objs[v.obj]
	if !ok {
		return
	}
	if o.maybeNull {
		span := a.span(e)
		a.report(codeRefUnchecked, span, fmt.Sprintf("'%s' (from %s) may be NULL when dropped: check it first", a.text(span), o.from), m,
			related(o.acquired, "obtained here"), o.nullKernel())
	}
	o.released, o.maybeNull = true, false
	if o.ref == refOwning {
		o.droppedAt = a.span(e) // every alias is now a dangling pointer
	}
	st.objs[v.obj] = o
}

func bindParams(st *state, fn *cparse.Func, args []value, a *analyzer) {
	ft, ok := fn.Def.Declarator.Type().(*cc.FunctionType)
	if !ok {
		return
	}
	for i, p := range ft.Parameters() {
		if p.Declarator == nil {
			continue
		}
		st.forget(p.Declarator)
		if i < len(args) {
			a.bind(st, place{d: p.Declarator}, args[i])
		}
	}
}

// callback analyses the less() callback of bpf_rbtree_add with the lock
// held, as the kernel does.
func (a *analyzer) callback(st *state, arg cparse.Arg, m mode) {
	v := a.quietEval(st, arg.Expr)
	if v.addr == nil || v.addr.fn == nil {
		return
	}
	// Its two arguments are nodes already in the tree: non-owning.
	st = st.clone()
	var args []value
	for range 2 {
		args = append(args, value{obj: st.fresh(objState{ref: refNonOwning, from: "the rbtree callback's argument", fn: v.addr.fn.Name})})
	}
	a.callStatic(st, v.addr.fn, args, arg.Span, m, true)
}

// holdsUnknown reports whether a held lock could not be resolved.
func holdsUnknown(st *state) bool {
	for _, h := range st.held {
		if h.lock.Allocation == unknownAllocation {
			return true
		}
	}
	return false
}
