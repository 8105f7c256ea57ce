package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
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

// checkNodeType reports a push or add of a node that is not the member the
// root's __contains names (another struct, or another member).
func (a *analyzer) checkNodeType(st *state, c *cparse.Call, op graphOp, m mode) {
	g, _ := a.rootArg(st, c.Args[op.root])
	if g == nil || g.Contains == "" {
		return
	}
	pe, ok := unparen(stripAddr(c.Args[op.node].Expr)).(*cc.PostfixExpression)
	if !ok || pe.Case != cc.PostfixExpressionPSelect || pe.Field() == nil {
		return
	}
	fd := pe.Field()
	gotStruct, gotOff := structName(fd.ParentType()), fd.Offset()
	wantStruct, wantMember, _ := strings.Cut(strings.TrimPrefix(g.Contains, "struct "), ".")
	st2 := a.f.Structs[wantStruct]
	if st2 == nil || gotStruct == "" {
		return
	}
	var want *cparse.Field
	for _, f := range st2.Fields {
		if f.Name == wantMember {
			want = f
		}
	}
	if want == nil || gotStruct == wantStruct && fd.Name() == wantMember {
		return
	}
	rootType, nodeType := g.Kind, structName(want.Type)
	kernel := fmt.Sprintf("operation on %s expects arg#1 %s at offset=%d in struct %s, but arg is at offset=%d in struct %s", rootType, nodeType, want.Offset, wantStruct, gotOff, gotStruct)
	if gotStruct == wantStruct {
		kernel = fmt.Sprintf("arg#1 offset=%d, but expected %s at offset=%d in struct %s", gotOff, nodeType, want.Offset, wantStruct)
	}
	a.report(codeNodeTypeMismatch, c.Args[op.node].Span, fmt.Sprintf("'%s' holds struct %s through '%s' (__contains), but %s gets '%s' of struct %s", g.Name, wantStruct, wantMember, displayName(c), fd.Name(), gotStruct), m,
		related(g.Span, fmt.Sprintf("'%s' declared with __contains(%s, %s)", g.Name, wantStruct, wantMember)), kernel)
}

// stripAddr removes a leading & (and parentheses) from an argument.
func stripAddr(e cc.ExpressionNode) cc.ExpressionNode {
	if u, ok := unparen(e).(*cc.UnaryExpression); ok && u.Case == cc.UnaryExpressionAddrof {
		return u.CastExpression
	}
	return e
}
