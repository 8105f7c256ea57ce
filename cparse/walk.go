package cparse

import (
	"sync"

	"modernc.org/cc/v4"
)

//go:generate go run ./internal/walkgen/cmd ../third_party/cc/ast.go walk_gen.go

// Inspect calls fn for n and, while fn returns true, for every AST node
// below it (not necessarily in source order). cc/v4 has no walker of its
// own; this one follows the exported fields that hold nodes (eachField,
// generated from cc/v4's AST types).
func Inspect(n cc.Node, fn func(cc.Node) bool) {
	var visit func(cc.Node)
	visit = func(n cc.Node) {
		if isNode(n) && fn(n) {
			eachField(n, nil, visit)
		}
	}
	visit(n)
}

// isNode reports whether n is a non-nil pointer to an AST node.
func isNode(n cc.Node) bool {
	return n != nil && eachField(n, nil, func(cc.Node) {})
}

// tokenPair is the first and last real tokens below a node.
type tokenPair struct{ first, last cc.Token }

// spanMemo remembers the tokenPairs of postfix expressions (calls among
// them). Calls nest inside calls (macro expansions such as BPF_PROG's),
// and SpanOf on each of them walked every subtree again: building a file's
// model was quadratic in the nesting. Concurrent walks (the analysis'
// workers) lock it only to read or add an entry, never for a whole walk.
type spanMemo struct {
	mu    sync.RWMutex
	nodes map[*cc.PostfixExpression]tokenPair
}

// bounds returns the first and last real tokens (by sequence number) below
// n: what cc.NodeTokens would return first and last, without collecting
// and sorting them all.
func (m *spanMemo) bounds(n cc.Node) tokenPair {
	if m == nil { // a File not made by Parse
		m = &spanMemo{}
	}
	return m.walk(n)
}

func (m *spanMemo) walk(n cc.Node) (p tokenPair) {
	pe, call := n.(*cc.PostfixExpression)
	if call = call && pe != nil && pe.Case == cc.PostfixExpressionCall; call {
		m.mu.RLock()
		known, ok := m.nodes[pe]
		m.mu.RUnlock()
		if ok {
			return known
		}
		if pe.Token2.Seq() != 0 {
			// Tokens are numbered in stream order: a call's are its
			// callee's, then '(' ... ')'. Its arguments need no walk
			// (every call's span is wanted, and arguments are most of
			// the tree).
			p = m.walk(pe.PostfixExpression)
			p.add(pe.Token)
			p.add(pe.Token2)
			m.remember(pe, p)
			return p
		}
	}
	eachField(n, func(t *cc.Token) { p.add(*t) }, func(c cc.Node) {
		below := m.walk(c)
		p.add(below.first)
		p.add(below.last)
	})
	if call {
		m.remember(pe, p) // only calls: they are what nests, and SpanOf's main use
	}
	return p
}

func (m *spanMemo) remember(pe *cc.PostfixExpression, p tokenPair) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.nodes == nil {
		m.nodes = map[*cc.PostfixExpression]tokenPair{}
	}
	m.nodes[pe] = p
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
