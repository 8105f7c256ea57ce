package analysis

import (
	"fmt"

	"modernc.org/cc/v4"
)

// specialTypes are the opaque kernel structs a program may only pass to
// kfuncs and helpers.
var specialTypes = map[string]bool{
	"bpf_spin_lock": true, "bpf_res_spin_lock": true, "bpf_list_head": true, "bpf_list_node": true,
	"bpf_rb_root": true, "bpf_rb_node": true, "bpf_refcount": true,
}

// checkSpecialField reports `*(T *)&p->lock`: a load or store on an opaque
// field through a cast of its address.
func (a *analyzer) checkSpecialField(st *state, deref *cc.UnaryExpression, m mode) {
	u, ok := unparen(deref.CastExpression).(*cc.UnaryExpression)
	if !ok || u.Case != cc.UnaryExpressionAddrof {
		return
	}
	pe, ok := unparen(u.CastExpression).(*cc.PostfixExpression)
	if !ok || pe.Case != cc.PostfixExpressionPSelect && pe.Case != cc.PostfixExpressionSelect || pe.Field() == nil {
		return
	}
	typ := structName(pe.Field().Type())
	if !specialTypes[typ] {
		return
	}
	kernel := fmt.Sprintf("%s cannot be accessed directly by load/store", typ)
	if pe.Case == cc.PostfixExpressionPSelect {
		if o, ok := st.objs[a.quietEval(st, pe.PostfixExpression).obj]; ok && o.ref != refNone {
			kernel = fmt.Sprintf("direct access to %s is disallowed", typ) // an allocated object
		}
	}
	span := a.span(deref)
	a.report(codeSpecialFieldAccess, span, fmt.Sprintf("'%s' reads or writes the %s '%s' directly: it is opaque, use the kfuncs and helpers that take it", a.text(span), typ, a.text(a.span(pe))), m, kernel)
}
