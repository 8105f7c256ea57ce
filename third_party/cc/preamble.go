// bpf-lsp patch 10: translating a prefix of a translation unit once and
// resuming from it (see PATCHES.md).

package cc // import "modernc.org/cc/v4"

import (
	stderrors "errors"
	"fmt"
	"maps"
	"slices"
)

// ErrPreambleMismatch reports that a continuation completes what its
// Preamble left incomplete in a way a resumed translation cannot reproduce
// (a struct or union tag the preamble used only incompletely, defined by
// the continuation): only a full translation gives the right types.
var ErrPreambleMismatch = stderrors.New("the continuation completes a tag the preamble used incompletely; translate the whole unit")

// Preamble is an immutable, translated prefix of a translation unit: its
// macros, its file scope and its checked declarations. Any number of
// TranslateAfter calls, concurrent ones included, may resume from it.
//
// What is shared is never written again: the file-scope nodes, types and
// scanner sources of the preamble are frozen. A resumed translation records
// nothing in them: a preamble declarator's ReadCount, WriteCount,
// SizeofCount, AddressTaken and ResolvedIn count only the preamble's own
// uses, its type is the one the preamble's declarations gave it (a
// definition in the continuation of a function the preamble declares
// completes the continuation's declarator), and an implicitly declared
// function inside a preamble function body stays synthetic even when the
// continuation declares it.
type Preamble struct {
	ast        *AST
	ctx        *ctx
	fset       *fset
	tu         []*ExternalDeclaration
	incomplete map[string]bool // file-scope tags used but never defined in the preamble

	macros  map[string]*Macro
	mstack  map[string][]*Macro
	undefs  map[string]struct{}
	groups  map[string]group
	counter int

	seq    int32
	orderN int64
}

// Len is the number of external declarations pre holds (bpf-lsp patch
// 10): a continuation's AST lists them first, the same nodes every time,
// so what a caller derives from them can be kept with the preamble.
func (pre *Preamble) Len() int { return len(pre.tu) }

// Defines reports whether name is a macro at the end of pre (bpf-lsp patch
// 16): a caller reading a continuation's text can tell a macro from a
// name the C code declares.
func (pre *Preamble) Defines(name string) bool {
	_, ok := pre.macros[name]
	return ok
}

// TranslatePreamble translates sources, the prefix of a translation unit,
// as Translate does, for TranslateAfter to resume from. sources must be
// complete external declarations (the prefix ends between two of them) and
// include cc's builtin source. A prefix with errors gives no Preamble.
func TranslatePreamble(cfg *Config, sources []Source) (*Preamble, error) {
	p, ast, err := parse(cfg, sources)
	if err != nil {
		return nil, err
	}

	c, err := ast.check(cfg)
	if err != nil {
		return nil, err
	}

	return freeze(ast, p, c, nil), nil
}

// TranslatePreambleAfter translates sources as the continuation of pre (as
// TranslateAfter does) and makes the result a Preamble of its own, for
// further continuations: a preamble chained on a preamble (bpf-lsp patch
// 13: the main file's declarations on top of its headers). What pre shares
// stays shared and frozen; the new part is frozen the same way.
func TranslatePreambleAfter(cfg *Config, pre *Preamble, sources []Source) (*Preamble, *AST, error) {
	ast, p, c, err := resume(cfg, pre, sources)
	if err != nil {
		return nil, nil, err
	}
	return freeze(ast, p, c, pre), ast, nil
}

// freeze makes a translated prefix a Preamble (after is the Preamble it
// continued, if any): everything resumed translations share is frozen.
func freeze(ast *AST, p *parser, c *ctx, after *Preamble) *Preamble {
	pre := &Preamble{
		ast:        ast,
		ctx:        c,
		fset:       p.cpp.fset,
		macros:     p.cpp.macros,
		mstack:     p.cpp.mstack,
		undefs:     p.cpp.undefs,
		groups:     p.cpp.groups,
		counter:    p.cpp.counter,
		seq:        p.seq,
		orderN:     p.orderN,
		incomplete: map[string]bool{},
	}
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		pre.tu = append(pre.tu, l.ExternalDeclaration)
	}
	c.frozen = true
	c.cfg = nil
	for _, s := range p.cpp.fset.sources {
		s.frozen = true
	}
	for _, m := range p.cpp.macros {
		m.frozen = true
	}
	for _, ms := range p.cpp.mstack {
		for _, m := range ms {
			if m != nil {
				m.frozen = true
			}
		}
	}
	for nm, ns := range ast.Scope.Nodes {
		defined := false
		for _, n := range ns {
			switch x := n.(type) {
			case *Declarator:
				x.frozen = true
			case *Enumerator:
				x.frozen = true
			case *StructOrUnionSpecifier:
				defined = defined || x.Case == StructOrUnionSpecifierDef
				if t := x.Type(); t != nil && t.IsIncomplete() {
					pre.incomplete[nm] = true
				}
			}
		}
		if defined {
			delete(pre.incomplete, nm)
		}
	}
	if after != nil {
		// A tag the first preamble used incompletely stays incomplete in
		// its types even when this part defines it (resume reported that
		// as a mismatch): it is not defined for continuations either.
		for nm := range after.incomplete {
			pre.incomplete[nm] = true
		}
	}
	return pre
}

// allFrozen reports whether every node of ns belongs to a Preamble.
func allFrozen(ns []Node) bool {
	for _, n := range ns {
		switch x := n.(type) {
		case *Declarator:
			if !x.frozen {
				return false
			}
		case *Enumerator:
			if !x.frozen {
				return false
			}
		default:
			return false
		}
	}
	return len(ns) != 0
}

// TranslateAfter parses and type-checks sources as the continuation of pre,
// as Translate would the preamble's sources followed by these. cfg must
// describe the same target as the preamble's Config (ABI, keywords); its FS
// and handlers serve the continuation. sources are read afresh even when a
// preamble source had the same name (the rest of a file whose beginning was
// the preamble's last source). The AST's TranslationUnit lists the
// preamble's external declarations, then the new ones (a fresh list: the
// preamble's nodes are shared, never modified); AST.Macros and AST.Scope
// are the combined ones. An error wrapping ErrPreambleMismatch means the
// continuation needs a full translation.
func TranslateAfter(cfg *Config, pre *Preamble, sources []Source) (*AST, error) {
	ast, _, _, err := resume(cfg, pre, sources)
	return ast, err
}

// resume is TranslateAfter, also returning the parser and checker the
// continuation ended with.
func resume(cfg *Config, pre *Preamble, sources []Source) (*AST, *parser, *ctx, error) {
	// The continuation's fset knows the preamble's files too: a token from a
	// preamble header may be positioned anywhere.
	fs := &fset{items: slices.Clip(pre.fset.items), off: pre.fset.off}
	cpp, err := newCPP(cfg, fs, sources, nil)
	if err != nil {
		return nil, nil, nil, err
	}

	cpp.macros = maps.Clone(pre.macros)
	for _, nm := range []string{"__COUNTER__", "__FILE__", "__LINE__"} {
		// cpp.macro rewrites their replacement list in place.
		if m := cpp.macros[nm]; m != nil {
			m2 := *m
			m2.replacementList, m2.frozen = slices.Clone(m.replacementList), false
			cpp.macros[nm] = &m2
		}
	}
	cpp.mstack = map[string][]*Macro{}
	for k, v := range pre.mstack {
		cpp.mstack[k] = slices.Clip(v)
	}
	cpp.undefs = maps.Clone(pre.undefs)
	cpp.groups = maps.Clone(pre.groups)
	for _, src := range sources {
		delete(cpp.groups, src.Name) // read afresh, even when named like a preamble source
	}
	cpp.counter = pre.counter

	root := &Scope{Nodes: make(map[string][]Node, len(pre.ast.Scope.Nodes))}
	for k, v := range pre.ast.Scope.Nodes {
		root.Nodes[k] = slices.Clip(v)
	}
	if cfg.keywords == nil {
		cfg.keywords = defaultKeywords
	}
	p := &parser{
		cpp:        cpp,
		funcTokens: []Token{{Ch: rune(STATIC)}, {Ch: rune(CONST)}, {Ch: rune(CHAR)}, {Ch: rune(IDENTIFIER)}, {Ch: '['}, {Ch: ']'}, {Ch: '='}, {Ch: rune(STRINGLITERAL)}, {Ch: ';'}},
		scope:      root,
		keywords:   cfg.keywords,
		orderN:     pre.orderN,
		seq:        pre.seq,
	}
	p.funcTokens = slices.Clip(p.funcTokens)
	ast, err := p.parse()
	if err != nil {
		return nil, nil, nil, err
	}

	for nm := range pre.incomplete {
		for _, n := range root.Nodes[nm][len(pre.ast.Scope.Nodes[nm]):] {
			if x, ok := n.(*StructOrUnionSpecifier); ok && x.Case == StructOrUnionSpecifierDef {
				return nil, nil, nil, fmt.Errorf("%v: %w", x.Position(), ErrPreambleMismatch)
			}
		}
	}

	body := ast.TranslationUnit
	c := ast.checkAfter(cfg, pre)
	for l := body; l != nil; l = l.TranslationUnit {
		l.ExternalDeclaration.check(c)
	}
	c.fixSyntheticDeclarators(ast.Scope)
	c.checkScope(ast.Scope)
	ast.SizeT = c.sizeT(ast.EOF)
	c.cfg = nil
	if err := c.errors.err(); err != nil {
		return nil, nil, nil, err // as Translate
	}

	// The combined list: fresh links to the preamble's declarations.
	var first, last *TranslationUnit
	for _, ed := range pre.tu {
		l := &TranslationUnit{ExternalDeclaration: ed}
		if last == nil {
			first = l
		} else {
			last.TranslationUnit = l
		}
		last = l
	}
	if last == nil {
		first = body
	} else {
		last.TranslationUnit = body
	}
	ast.TranslationUnit = first
	return ast, p, c, nil
}

// checkAfter prepares the checking of a continuation of pre: a context
// sharing the preamble's predefined types (type identity matters to the
// checker) and the preamble's record types.
func (n *AST) checkAfter(cfg *Config, pre *Preamble) *ctx {
	c := *pre.ctx
	c.ast, c.cfg, c.errors, c.frozen = n, cfg, nil, false
	c.fnScope, c.inLoop, c.inSwitch, c.switchCases, c.checkingSizeof = nil, 0, 0, 0, false
	a := pre.ast
	n.Structs, n.Unions, n.kinds = maps.Clone(a.Structs), maps.Clone(a.Unions), a.kinds
	n.Char, n.Double, n.Float, n.Int, n.Long, n.LongDouble, n.LongLong = a.Char, a.Double, a.Float, a.Int, a.Long, a.LongDouble, a.LongLong
	n.PVoid, n.SChar, n.Short, n.UChar, n.UInt, n.ULong, n.ULongLong, n.UShort, n.Void = a.PVoid, a.SChar, a.Short, a.UChar, a.UInt, a.ULong, a.ULongLong, a.UShort, a.Void
	return &c
}
