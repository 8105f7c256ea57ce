package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// The kernel finds a graph call's root and node by the argument's offset
// in its allocation (btf_record_find on the register's offset), before it
// looks at locks or ownership: a pointer moved off the field with
// arithmetic, or an object whose type has no such field there, is refused
// with "%s not found at offset=%u".

// argPlace is where a root or node argument points: an offset in a global
// section, or in an object of a struct type.
type argPlace struct {
	section string  // a global data section, or
	typ     cc.Type // the object's struct type
	off     int64
	// anywhere: the offset is not known (a local pointer that may have
	// been moved into the object); only a type with no such field at all
	// can be judged.
	anywhere bool
}

// checkGraphArgOffsets reports a root or node argument of a graph call
// that does not point at a field of the kind the kfunc takes.
func (a *analyzer) checkGraphArgOffsets(st *state, c *cparse.Call, op graphOp, m mode) {
	rootKind, nodeKind := "bpf_rb_root", "bpf_rb_node"
	if strings.HasPrefix(c.Name, "bpf_list_") {
		rootKind, nodeKind = "bpf_list_head", "bpf_list_node"
	}
	for _, arg := range []struct {
		i    int
		kind string
	}{{op.root, rootKind}, {op.node, nodeKind}} {
		if arg.i < 0 || arg.i >= len(c.Args) {
			continue
		}
		p, ok := a.argPlace(st, c.Args[arg.i].Expr)
		if !ok {
			continue
		}
		found, known := a.fieldAt(p, arg.kind)
		if !known || found {
			continue
		}
		where := a.placeName(p)
		text := strings.Join(strings.Fields(c.Args[arg.i].Text), " ")
		msg := fmt.Sprintf("%s takes a %s here, but '%s' is at offset %d of %s, where there is none", displayName(c), arg.kind, text, p.off, where)
		if p.anywhere {
			msg = fmt.Sprintf("%s takes a %s here, but '%s' points into %s, which has none", displayName(c), arg.kind, text, where)
		}
		a.report(codeGraphArgOffset, c.Args[arg.i].Span, msg, m, fmt.Sprintf("%s not found at offset=%d", arg.kind, p.off))
		return // the kernel stops at the first argument it refuses
	}
}

// placeName names the allocation of a place for a message.
func (a *analyzer) placeName(p argPlace) string {
	if p.section != "" {
		return "section " + p.section
	}
	if n := structName(p.typ); n != "" {
		return "struct " + n
	}
	return "an unnamed struct"
}

// argPlace resolves an argument to its allocation and offset: &global,
// &p->f, &v.f[i], with constant pointer arithmetic on top, or a local
// pointer to an object from bpf_obj_new.
func (a *analyzer) argPlace(st *state, e cc.ExpressionNode) (argPlace, bool) {
	switch x := e.(type) {
	case *cc.PrimaryExpression:
		switch x.Case {
		case cc.PrimaryExpressionExpr:
			return a.argPlace(st, x.ExpressionList)
		case cc.PrimaryExpressionIdent:
			if localVar(x) == nil {
				break
			}
			// A local holds the object's address, or the address of one
			// of its fields (&p->f is the same object to the analysis).
			o, ok := st.objs[a.quietEval(st, x).obj]
			if !ok || o.typ == nil {
				break
			}
			return argPlace{typ: o.typ, anywhere: true}, true
		}
	case *cc.ExpressionList:
		if x.ExpressionList == nil {
			return a.argPlace(st, x.AssignmentExpression)
		}
	case *cc.CastExpression:
		if x.Case == cc.CastExpressionCast {
			return a.argPlace(st, x.CastExpression)
		}
	case *cc.AdditiveExpression:
		k, ok := constValue(x.MultiplicativeExpression)
		pt, isPtr := x.AdditiveExpression.Type().(*cc.PointerType)
		if !ok || !isPtr {
			break
		}
		p, ok := a.argPlace(st, x.AdditiveExpression)
		size := pt.Elem().Size()
		if pt.Elem().Kind() == cc.Void {
			size = 1 // GNU C: arithmetic on void * counts bytes
		}
		if !ok || p.anywhere || size <= 0 {
			break
		}
		if x.Case == cc.AdditiveExpressionSub {
			k = -k
		}
		p.off += k * size
		return p, true
	case *cc.UnaryExpression:
		if x.Case == cc.UnaryExpressionAddrof {
			return a.lvaluePlace(st, x.CastExpression)
		}
	}
	return argPlace{}, false
}

// lvaluePlace resolves an lvalue to its allocation and offset.
func (a *analyzer) lvaluePlace(st *state, e cc.ExpressionNode) (argPlace, bool) {
	switch x := unparen(e).(type) {
	case *cc.PrimaryExpression:
		if x.Case != cc.PrimaryExpressionIdent || localVar(x) != nil {
			break
		}
		if g, ok := a.cl.globalAt[x.Token.SrcStr()]; ok {
			return argPlace{section: g.section, off: g.off}, true
		}
	case *cc.PostfixExpression:
		switch x.Case {
		case cc.PostfixExpressionPSelect:
			fd := x.Field()
			pt, ok := x.PostfixExpression.Type().(*cc.PointerType)
			if fd == nil || !ok || pt.Elem().Kind() != cc.Struct {
				break
			}
			// The object's own type decides; a pointer cast to another
			// struct is left alone.
			if o, ok := st.objs[a.quietEval(st, x.PostfixExpression).obj]; ok && o.typ != nil && o.typ != pt.Elem() && structName(o.typ) != structName(pt.Elem()) {
				break
			}
			return argPlace{typ: pt.Elem(), off: fd.Offset()}, true
		case cc.PostfixExpressionSelect:
			fd := x.Field()
			p, ok := a.lvaluePlace(st, x.PostfixExpression)
			if fd == nil || !ok {
				break
			}
			p.off += fd.Offset()
			return p, true
		case cc.PostfixExpressionIndex:
			k, ok := constValue(x.ExpressionList)
			at, isArr := x.PostfixExpression.Type().(*cc.ArrayType)
			if !ok || !isArr {
				break
			}
			p, ok := a.lvaluePlace(st, x.PostfixExpression)
			if !ok {
				break
			}
			p.off += k * at.Elem().Size()
			return p, true
		}
	}
	return argPlace{}, false
}

// fieldAt reports whether a field of the kind is at the place (nested
// structs and arrays included, as the kernel's record flattens them);
// known is false where the layout cannot be judged (unions, incomplete
// types, an offset outside every global).
func (a *analyzer) fieldAt(p argPlace, kind string) (found, known bool) {
	if p.anywhere {
		if hasField(p.typ, kind) {
			return true, true
		}
		return false, true
	}
	if p.section == "" {
		return typeFieldAt(p.typ, p.off, kind)
	}
	for _, v := range a.cl.sections[p.section] {
		g := a.cl.globalAt[v.Name]
		if v.Type != nil && p.off >= g.off && p.off < g.off+v.Type.Size() {
			return typeFieldAt(v.Type, p.off-g.off, kind)
		}
	}
	return false, true // between globals: padding
}

// typeFieldAt reports whether t has a field of the kind at byte offset off.
func typeFieldAt(t cc.Type, off int64, kind string) (found, known bool) {
	if structName(t) == kind {
		return off == 0, true
	}
	switch t.Kind() {
	case cc.Struct:
		st := t.(*cc.StructType)
		if st.IsIncomplete() {
			return false, false
		}
		for i := range st.NumFields() {
			f := st.FieldByIndex(i)
			if f == nil || f.Type() == nil {
				return false, false
			}
			if off >= f.Offset() && off < f.Offset()+f.Type().Size() {
				return typeFieldAt(f.Type(), off-f.Offset(), kind)
			}
		}
		return false, true
	case cc.Array:
		at := t.(*cc.ArrayType)
		if size := at.Elem().Size(); size > 0 && off < at.Len()*size {
			return typeFieldAt(at.Elem(), off%size, kind)
		}
		return false, true
	case cc.Union:
		return false, false
	}
	return false, true
}

// hasField reports whether t has a field of the kind anywhere.
func hasField(t cc.Type, kind string) bool {
	if structName(t) == kind {
		return true
	}
	switch t.Kind() {
	case cc.Struct:
		st := t.(*cc.StructType)
		for i := range st.NumFields() {
			if f := st.FieldByIndex(i); f == nil || f.Type() == nil || hasField(f.Type(), kind) {
				return true // an unknown field may be one
			}
		}
	case cc.Array:
		return hasField(t.(*cc.ArrayType).Elem(), kind)
	case cc.Union:
		return true // not judged
	}
	return false
}
