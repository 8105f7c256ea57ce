package cparse

import (
	"reflect"
	"sync"
	"unsafe"

	"modernc.org/cc/v4"
)

var (
	tokenType = reflect.TypeOf(cc.Token{})
	nodeType  = reflect.TypeOf((*cc.Node)(nil)).Elem()
)

// Inspect calls fn for n and, while fn returns true, for every AST node
// below it (not necessarily in source order). cc/v4 has no walker of its
// own; this one follows the exported fields that hold nodes.
func Inspect(n cc.Node, fn func(cc.Node) bool) {
	inspect(reflect.ValueOf(n), fn)
}

func inspect(v reflect.Value, fn func(cc.Node) bool) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		inspect(v.Elem(), fn)
		return
	case reflect.Pointer:
		if v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return
		}
	default:
		return
	}
	if n, ok := v.Interface().(cc.Node); ok {
		if !fn(n) {
			return
		}
	}
	s := v.Elem()
	for _, i := range planOf(s.Type()).nodes {
		inspect(s.Field(i), fn)
	}
}

// reflectNil reports whether an interface holds a nil pointer.
func reflectNil(n cc.Node) bool {
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// fieldPlan lists, for one AST struct type, which exported fields hold
// tokens and which hold child nodes, so walks need no per-field reflection
// lookups after the first visit of a type.
type fieldPlan struct {
	tokens, nodes []int
}

var plans sync.Map // reflect.Type -> *fieldPlan

func planOf(t reflect.Type) *fieldPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*fieldPlan)
	}
	p := &fieldPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch {
		case !f.IsExported() || f.Anonymous:
		case f.Type == tokenType:
			p.tokens = append(p.tokens, i)
		case f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface && f.Type.Implements(nodeType):
			p.nodes = append(p.nodes, i)
		}
	}
	plans.Store(t, p)
	return p
}

// tokenPair is the first and last real tokens below a node.
type tokenPair struct{ first, last cc.Token }

// spanMemo remembers the tokenPairs of postfix expressions (calls among
// them). Calls nest inside calls (macro expansions such as BPF_PROG's),
// and SpanOf on each of them walked every subtree again: building a file's
// model was quadratic in the nesting.
type spanMemo struct {
	mu    sync.Mutex
	nodes map[unsafe.Pointer]tokenPair
}

// bounds returns the first and last real tokens (by sequence number) below
// v: what cc.NodeTokens would return first and last, without collecting
// and sorting them all.
func (m *spanMemo) bounds(v reflect.Value) tokenPair {
	if m == nil { // a File not made by Parse
		m = &spanMemo{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes == nil {
		m.nodes = map[unsafe.Pointer]tokenPair{}
	}
	return m.walk(v)
}

func (m *spanMemo) walk(v reflect.Value) (p tokenPair) {
	for v.Kind() == reflect.Interface {
		if v.IsNil() {
			return p
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return p
	}
	key := v.UnsafePointer()
	if known, ok := m.nodes[key]; ok {
		return known
	}
	if pe, ok := v.Interface().(*cc.PostfixExpression); ok && pe.Case == cc.PostfixExpressionCall && pe.Token2.Seq() != 0 {
		// Tokens are numbered in stream order: a call's are its callee's,
		// then '(' ... ')'. Its arguments need no walk (every call's span
		// is wanted, and arguments are most of the tree).
		p = m.walk(reflect.ValueOf(pe.PostfixExpression))
		p.add(pe.Token)
		p.add(pe.Token2)
		m.nodes[key] = p
		return p
	}
	s := v.Elem()
	plan := planOf(s.Type())
	for _, i := range plan.tokens {
		// Through its address: Interface() would copy each token to the heap.
		p.add(*(*cc.Token)(s.Field(i).Addr().UnsafePointer()))
	}
	for _, i := range plan.nodes {
		below := m.walk(s.Field(i))
		p.add(below.first)
		p.add(below.last)
	}
	if _, call := v.Interface().(*cc.PostfixExpression); call {
		m.nodes[key] = p // only calls: they are what nests, and SpanOf's main use
	}
	return p
}

// add widens p to include t (a zero token is no token).
func (p *tokenPair) add(t cc.Token) {
	if t.Seq() == 0 {
		return
	}
	if p.first.Seq() == 0 || t.Seq() < p.first.Seq() {
		p.first = t
	}
	if t.Seq() > p.last.Seq() {
		p.last = t
	}
}
