package analysis

import (
	"bytes"
	"sort"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// emissionOrder predicts the order in which clang emits the file's globals,
// which is their order (and so their offsets) inside a section. Measured
// with clang 19: a global with an initializer is emitted where it is
// defined; a tentative definition (no initializer) is emitted when a
// function body that clang generates first refers to it, else at the end
// of the file in declaration order. Static functions are generated after
// the function that first refers to them.
func emissionOrder(f *cparse.File) map[*cparse.Var]int {
	byDecl := map[*cc.Declarator]*cparse.Var{}
	for _, v := range f.Vars {
		byDecl[v.Decl] = v
	}
	order := map[*cparse.Var]int{}
	emit := func(v *cparse.Var) {
		if _, done := order[v]; !done {
			order[v] = len(order)
		}
	}
	visited := map[*cparse.Func]bool{}
	var genFunc func(fn *cparse.Func)
	genFunc = func(fn *cparse.Func) {
		if visited[fn] {
			return
		}
		visited[fn] = true
		type use struct {
			v  *cparse.Var
			fn *cparse.Func
		}
		var uses []use
		for _, p := range fn.Idents { // in source order
			if v := byDecl[declOf(p)]; v != nil {
				uses = append(uses, use{v: v})
			} else if callee := f.Func(p.Token.SrcStr()); callee != nil && callee.Static {
				uses = append(uses, use{fn: callee})
			}
		}
		var deferred []*cparse.Func
		for _, u := range uses {
			if u.v != nil && !u.v.Decl.HasInitializer() {
				emit(u.v)
			}
			if u.fn != nil && !alwaysInline(f, u.fn) {
				deferred = append(deferred, u.fn)
			}
		}
		for _, d := range deferred {
			genFunc(d)
		}
	}
	type top struct {
		file string
		off  int
		v    *cparse.Var
		fn   *cparse.Func
	}
	var tops []top
	for _, v := range f.Vars {
		tops = append(tops, top{file: v.Span.File, off: v.Span.Start.Offset, v: v})
	}
	for _, fn := range f.Funcs {
		tops = append(tops, top{file: fn.Span.File, off: fn.Span.Start.Offset, fn: fn})
	}
	sort.SliceStable(tops, func(i, j int) bool {
		a, b := tops[i], tops[j]
		if (a.file == f.Path) != (b.file == f.Path) {
			return b.file == f.Path // headers come before the main file's body
		}
		if a.file != b.file {
			return a.file < b.file
		}
		return a.off < b.off
	})
	for _, t := range tops {
		switch {
		case t.v != nil && t.v.Decl.HasInitializer():
			emit(t.v)
		case t.fn != nil && !t.fn.Static:
			genFunc(t.fn)
		}
	}
	for _, t := range tops {
		if t.v != nil {
			emit(t.v)
		}
	}
	return order
}

// alwaysInline reports whether fn is declared always_inline: clang never
// generates its body on its own, so it emits nothing (measured: the globals
// it alone uses keep their declaration order).
func alwaysInline(f *cparse.File, fn *cparse.Func) bool { return declaredWith(f, fn, "always_inline") }

// declaredWith reports whether the text declaring fn (after the previous
// declaration) names attr, e.g. "noinline" (macros included: __noinline).
func declaredWith(f *cparse.File, fn *cparse.Func, attr string) bool {
	if fn.Span.File != f.Path || fn.Span.Start.Offset > len(f.Src) {
		return false
	}
	head := f.Src[:fn.Span.Start.Offset]
	if i := bytes.LastIndexAny(head, ";}"); i >= 0 { // not string(head): a copy of the file per function
		head = head[i+1:]
	}
	return bytes.Contains(head, []byte(attr))
}

func declOf(p *cc.PrimaryExpression) *cc.Declarator {
	d, _ := p.ResolvedTo().(*cc.Declarator)
	return d
}

// sectionLayout computes each global's offset in its section: clang's
// emission order, each aligned (private() asks for 8).
func sectionLayout(vars []*cparse.Var, order map[*cparse.Var]int) map[*cparse.Var]int64 {
	sorted := append([]*cparse.Var{}, vars...)
	sort.SliceStable(sorted, func(i, j int) bool { return order[sorted[i]] < order[sorted[j]] })
	out := map[*cparse.Var]int64{}
	var off int64
	for _, v := range sorted {
		align := int64(v.Type.Align())
		if strings.HasPrefix(v.Section, ".data.") || strings.HasPrefix(v.Section, ".bss.") {
			align = max(align, 8)
		}
		if align > 0 {
			off = (off + align - 1) / align * align
		}
		out[v] = off
		off += v.Type.Size()
	}
	return out
}
