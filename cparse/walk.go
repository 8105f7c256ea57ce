package cparse

import (
	"reflect"
	"sync"

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

// tokenBounds finds the first and last real tokens (by sequence number)
// below v: what cc.NodeTokens would return first and last, without
// collecting and sorting them all.
func tokenBounds(v reflect.Value, first, last *cc.Token) {
	for v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	s := v.Elem()
	p := planOf(s.Type())
	for _, i := range p.tokens {
		t := s.Field(i).Interface().(cc.Token)
		if t.Seq() == 0 {
			continue
		}
		if first.Seq() == 0 || t.Seq() < first.Seq() {
			*first = t
		}
		if t.Seq() > last.Seq() {
			*last = t
		}
	}
	for _, i := range p.nodes {
		tokenBounds(s.Field(i), first, last)
	}
}
