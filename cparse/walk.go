package cparse

import (
	"reflect"

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
	t := s.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous || f.Type == tokenType {
			continue
		}
		if f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface && f.Type.Implements(nodeType) {
			inspect(s.Field(i), fn)
		}
	}
}

// reflectNil reports whether an interface holds a nil pointer.
func reflectNil(n cc.Node) bool {
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
