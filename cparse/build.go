package cparse

import (
	"bytes"
	"maps"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"modernc.org/cc/v4"
	"modernc.org/token"
)

// sources holds the text of every file positions may point into, so spans
// can be computed (and macro-expanded tokens recognised) after parsing.
type sources struct {
	// mu is read-locked by the lookups of every token's span, which
	// concurrent goroutines (the chunks of a parse, the analysis'
	// workers) make all the time: they must not queue behind each other.
	mu      sync.RWMutex
	maxSize int64
	files   map[string][]byte // by display path, as served to cc/v4
	lines   map[string]*lineTable
	names   map[string]servedName // by the name cc/v4 used
}

// servedName is where a file cc/v4 read under some name really is, and how
// many bytes the include markers put before its text. moves, sorted by
// offset, replace the shift from their offset on: the main file's
// declarations translated once while edits of function bodies move what
// follows them (see funcs.go).
type servedName struct {
	display string
	shift   int
	moves   []move
}

// move is the shift of a served text's positions from offset at on.
type move struct{ at, shift int }

// add records a file served to cc/v4 under name.
func (s *sources) add(name, display string, text []byte, shift int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names = map[string]servedName{}
	}
	s.names[name] = servedName{display: display, shift: shift}
	s.files[display] = text
}

// resolve returns the display path of a name cc/v4 used and the byte shift
// of its positions.
func (s *sources) resolve(name string) (string, int) {
	return s.resolveAt(name, 0)
}

// resolveAt is resolve for the position at offset off of name.
func (s *sources) resolveAt(name string, off int) (string, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.names[name]
	if !ok {
		return name, 0
	}
	shift := n.shift
	if i := sort.Search(len(n.moves), func(i int) bool { return n.moves[i].at > off }); i > 0 {
		shift = n.moves[i-1].shift
	}
	return n.display, shift
}

// lineTable maps byte offsets of one text to positions in O(log n): spans
// are computed for every call and argument, and counting newlines from the
// start of the file each time is quadratic in big files.
type lineTable struct {
	starts []int
	size   int

	mu          sync.Mutex
	invocations map[int]*invocation // by offset, see invocationAt
}

func newLineTable(text []byte) *lineTable {
	t := &lineTable{starts: []int{0}, size: len(text)}
	for i, c := range text {
		if c == '\n' {
			t.starts = append(t.starts, i+1)
		}
	}
	return t
}

func (t *lineTable) pos(off int) Pos {
	off = min(max(off, 0), t.size)
	i := sort.Search(len(t.starts), func(i int) bool { return t.starts[i] > off }) - 1
	return Pos{Line: i + 1, Col: off - t.starts[i] + 1, Offset: off}
}

// table returns the line table of path's text.
func (s *sources) table(path string, text []byte) *lineTable {
	s.mu.RLock()
	t, ok := s.lines[path]
	s.mu.RUnlock()
	if ok && t.size == len(text) {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.lines[path]; ok && t.size == len(text) {
		return t
	}
	if s.lines == nil {
		s.lines = map[string]*lineTable{}
	}
	t = newLineTable(text)
	s.lines[path] = t
	return t
}

func (s *sources) text(path string) []byte {
	s.mu.RLock()
	t, ok := s.files[path]
	s.mu.RUnlock()
	if ok {
		return t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.files[path]; ok {
		return t
	}
	t, _ = readRegular(path, s.maxSize) // a file that cannot be read gives invocation-less spans
	s.files[path] = t
	return t
}

// isProjectFile reports whether a declaration in path belongs to the user's
// project (main file or its own headers) rather than the system or the
// generated vmlinux.h.
// It is asked for every declaration of every header: the answers are kept
// per path (the system directories are found with a stat each).
func (f *File) isProjectFile(path string) bool {
	if path == f.Path {
		return true
	}
	if path == "" || strings.HasPrefix(path, "<") || filepath.Base(path) == "vmlinux.h" {
		return false
	}
	if known, ok := f.projectFiles[path]; ok {
		return known
	}
	project := true
	for _, d := range defaultSystemDirs("") {
		if strings.HasPrefix(path, d+"/") {
			project = false
		}
	}
	if f.projectFiles == nil {
		f.projectFiles = map[string]bool{}
	}
	f.projectFiles[path] = project
	return project
}

// buildModel fills the File's Vars, Structs, Funcs and Calls from its AST.
func buildModel(f *File) {
	f.calls = map[*cc.PostfixExpression]*Call{}
	tu := f.AST.TranslationUnit
	if e := f.pre; e != nil {
		// The AST starts with the preamble's declarations, the same nodes
		// in every parse resuming from it: their model is the preamble's,
		// built once (its spans point into the headers, whose texts every
		// such parse shares). Rebuilding it was a fifth of an edit's CPU
		// in a selftest.
		n := e.pre.Len()
		e.modelOnce.Do(func() {
			m := &File{Path: f.Path, Src: f.Src, src: f.src, spans: f.spans, Structs: map[string]*Struct{},
				calls: map[*cc.PostfixExpression]*Call{}}
			m.addExternals(tu, n)
			// Only the model is kept: the File it was built in holds this
			// parse's texts and span memo, which the preamble must not
			// keep alive.
			e.model = &preambleModel{vars: m.Vars, funcs: m.Funcs, structs: m.Structs, calls: m.calls}
		})
		m := e.model
		f.Vars = append(f.Vars, m.vars...)
		f.Funcs = append(f.Funcs, m.funcs...)
		maps.Copy(f.Structs, m.structs)
		maps.Copy(f.calls, m.calls)
		for range n {
			tu = tu.TranslationUnit
		}
	}
	f.addExternals(tu, -1)
	f.indexFuncs()
}

// addExternals adds the model of the first n external declarations of
// list (all of them when n < 0).
func (f *File) addExternals(list *cc.TranslationUnit, n int) {
	for tu := list; tu != nil && n != 0; tu, n = tu.TranslationUnit, n-1 {
		ed := tu.ExternalDeclaration
		if ed == nil || !f.isProjectFile(f.fileOf(ed.Position().Filename)) {
			continue
		}
		switch {
		case ed.FunctionDefinition != nil:
			f.addFunc(ed.FunctionDefinition)
		case ed.Declaration != nil:
			f.addDeclaration(ed.Declaration)
		}
	}
	f.argTexts = nil
}

func (f *File) addDeclaration(d *cc.Declaration) {
	f.addStructs(d)
	common := f.tagsIn(d.DeclarationSpecifiers, false)
	section := attrString(d.DeclarationSpecifiers, "section")
	var declSpan Span
	for l := d.InitDeclaratorList; l != nil; l = l.InitDeclaratorList {
		id := l.InitDeclarator
		if id == nil || id.Declarator == nil {
			continue
		}
		decl := id.Declarator
		if decl.IsTypename() || decl.Name() == "__bpf_lsp_eof" || decl.Type() == nil || decl.Type().Kind() == cc.Function {
			continue
		}
		if declSpan.File == "" {
			declSpan = f.SpanOf(d) // only now: most header declarations declare functions
		}
		v := &Var{
			Name: decl.Name(), Span: f.tokenSpan(decl.NameTok()), DeclSpan: declSpan, Decl: decl,
			Type: decl.Type(), TypeName: decl.Type().String(),
			Static: decl.IsStatic(), Extern: decl.IsExtern(),
			Section: section,
		}
		if s := attrString(id, "section"); s != "" {
			v.Section = s
		}
		v.Tags = append(append(v.Tags, common...), f.tagsIn(id.AttributeSpecifierList, false)...)
		v.Tags = append(v.Tags, f.declaratorTags(decl)...)
		f.Vars = append(f.Vars, v)
	}
}

// addStructs records every tagged struct/union defined inside n.
func (f *File) addStructs(n cc.Node) {
	Inspect(n, func(n cc.Node) bool {
		s, ok := n.(*cc.StructOrUnionSpecifier)
		if !ok || s.Case != cc.StructOrUnionSpecifierDef || s.StructDeclarationList == nil {
			return true
		}
		name := s.Token.SrcStr()
		st, _ := s.Type().(*cc.StructType)
		if name == "" || st == nil || f.Structs[name] != nil || !f.isProjectFile(f.fileOf(s.Token.Position().Filename)) {
			return true
		}
		str := &Struct{Name: name, Union: s.StructOrUnion != nil && s.StructOrUnion.Case == cc.StructOrUnionUnion,
			Span: f.tokenSpan(s.Token), Type: s.Type()}
		for l := s.StructDeclarationList; l != nil; l = l.StructDeclarationList {
			sd := l.StructDeclaration
			if sd == nil {
				continue
			}
			common := append(f.tagsIn(sd.SpecifierQualifierList, false), f.tagsIn(sd.AttributeSpecifierList, false)...)
			for dl := sd.StructDeclaratorList; dl != nil; dl = dl.StructDeclaratorList {
				if dl.StructDeclarator == nil || dl.StructDeclarator.Declarator == nil {
					continue
				}
				decl := dl.StructDeclarator.Declarator
				fd := &Field{Name: decl.Name(), Span: f.tokenSpan(decl.NameTok()), DeclSpan: f.SpanOf(sd),
					Type: decl.Type(), Parent: str}
				if fd.Type != nil {
					fd.TypeName = fd.Type.String()
				}
				if cf := st.FieldByName(fd.Name); cf != nil {
					fd.Offset = cf.Offset()
				}
				fd.Tags = append(append([]Tag{}, common...), f.declaratorTags(decl)...)
				str.Fields = append(str.Fields, fd)
			}
		}
		f.Structs[name] = str
		return true
	})
}

func (f *File) addFunc(fd *cc.FunctionDefinition) {
	if fn := f.reuse[fd]; fn != nil { // unchanged since the last parse (funcs.go)
		for _, c := range fn.Calls {
			f.calls[c.Expr] = c
		}
		f.Funcs = append(f.Funcs, fn)
		return
	}
	decl := fd.Declarator
	if decl == nil || fd.CompoundStatement == nil {
		return
	}
	fn := &Func{Name: decl.Name(), Span: f.tokenSpan(decl.NameTok()), Def: fd, Static: decl.IsStatic(),
		Section: attrString(fd.DeclarationSpecifiers, "section")}
	body := fd.CompoundStatement
	// In the body's file: a header's inline function is not the main
	// file's (and a preamble's model serves every file resuming from it).
	open := f.tokenSpan(body.Token)
	fn.BodySpan = Span{File: open.File, Start: open.Start, End: f.tokenSpan(body.Token2).End}
	Inspect(body, func(n cc.Node) bool {
		switch n := n.(type) {
		case *cc.PostfixExpression:
			if n.Case == cc.PostfixExpressionCall {
				if c := f.newCall(n); c != nil {
					fn.Calls = append(fn.Calls, c)
					f.calls[n] = c
				}
			}
		case *cc.PrimaryExpression:
			if n.Case == cc.PrimaryExpressionIdent {
				fn.Idents = append(fn.Idents, n)
			}
		}
		return true
	})
	sort.SliceStable(fn.Calls, func(i, j int) bool { return fn.Calls[i].Span.Start.Offset < fn.Calls[j].Span.Start.Offset })
	sort.SliceStable(fn.Idents, func(i, j int) bool { return fn.Idents[i].Token.Seq() < fn.Idents[j].Token.Seq() })
	f.Funcs = append(f.Funcs, fn)
}

func (f *File) newCall(pe *cc.PostfixExpression) *Call {
	c := &Call{Expr: pe, Span: f.SpanOf(pe)}
	if pr, ok := pe.PostfixExpression.(*cc.PrimaryExpression); ok && pr.Case == cc.PrimaryExpressionIdent {
		c.Name = pr.Token.SrcStr()
		c.Callee, _ = pr.ResolvedTo().(*cc.Declarator)
		c.NameSpan = f.tokenSpan(pr.Token)
	} else {
		c.NameSpan = f.SpanOf(pe.PostfixExpression)
	}
	c.Spelled = c.Name
	text := f.src.text(c.NameSpan.File)
	if c.NameSpan.File == f.Path {
		text = f.Src
	}
	if s := identAt(text, c.NameSpan.Start.Offset); s != "" && s != c.Name {
		c.Spelled = s // written through a macro such as bpf_rbtree_add
	}
	var inv *invocation
	expanded := c.Spelled != c.Name
	if expanded {
		inv = f.src.table(c.NameSpan.File, text).invocationAt(text, c.NameSpan.Start.Offset, c.NameSpan.File)
	}
	for l := pe.ArgumentExpressionList; l != nil; l = l.ArgumentExpressionList {
		if l.AssignmentExpression == nil {
			continue
		}
		a := Arg{Expr: l.AssignmentExpression}
		if expanded {
			a.Span = matchMacroArg(inv, l.AssignmentExpression, c.NameSpan)
		} else {
			a.Span = f.SpanOf(l.AssignmentExpression)
		}
		a.Text = f.argText(text, a.Span)
		c.Args = append(c.Args, a)
	}
	return c
}

// matchMacroArg finds the macro argument whose text (squeezed: white space
// removed) is the call argument's (bpf_rbtree_add(r, n, less) passes r, n,
// less on to the _impl kfunc); an argument the macro made up itself spans
// the whole invocation. The argument's text is only gathered up to the
// longest macro argument: a macro such as BPF_PROG nests expansions whose
// full text, rebuilt for every call inside them, would cost quadratic time.
func matchMacroArg(inv *invocation, arg cc.Node, whole Span) Span {
	want, ok := squeezedWithin(arg, inv.longest)
	if !ok {
		return whole
	}
	for i, a := range inv.squeezed {
		if a == want {
			return inv.args[i]
		}
	}
	return whole
}

// squeezedWithin returns the text of n's tokens without white space, or
// false as soon as it is longer than limit.
func squeezedWithin(n cc.Node, limit int) (string, bool) {
	var toks []*cc.Token
	var scratch []byte
	size := 0
	over := false
	var walk func(n cc.Node)
	walk = func(n cc.Node) {
		if over {
			return
		}
		eachField(n, func(t *cc.Token) { // no copy: this runs for every argument of every call
			if over || t.Seq() == 0 {
				return
			}
			scratch = appendSqueezed(scratch[:0], t.Src())
			if size += len(scratch); size > limit {
				over = true
			}
			toks = append(toks, t)
		}, walk)
	}
	if walk(n); over {
		return "", false
	}
	sort.Slice(toks, func(i, j int) bool { return toks[i].Seq() < toks[j].Seq() })
	b := make([]byte, 0, size)
	for _, t := range toks {
		b = appendSqueezed(b, t.Src())
	}
	return string(b), true
}

func squeeze(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// appendSqueezed appends src without white space to b, as squeeze would;
// ASCII text (every token, nearly) without allocating.
func appendSqueezed(b, src []byte) []byte {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			return append(b, squeeze(string(src))...)
		}
	}
	for _, c := range src {
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r':
		default:
			b = append(b, c)
		}
	}
	return b
}

// argText is spanText for a call argument, one string per span: the
// calls a macro such as BPF_PROG2 expands to (thousands in one program)
// would each copy the invocation's text.
func (f *File) argText(text []byte, s Span) string {
	if t, ok := f.argTexts[s]; ok {
		return t
	}
	if f.argTexts == nil {
		f.argTexts = map[Span]string{}
	}
	t := spanText(text, s)
	f.argTexts[s] = t
	return t
}

func spanText(text []byte, s Span) string {
	if s.Start.Offset < 0 || s.End.Offset > len(text) || s.Start.Offset > s.End.Offset {
		return ""
	}
	return string(text[s.Start.Offset:s.End.Offset])
}

// SpanOf returns the source span of an AST node. Tokens produced by a macro
// expansion are placed at the macro invocation (cc/v4 reports them there).
func (f *File) SpanOf(n cc.Node) Span {
	tokens := f.spans.bounds(n)
	first, last := tokens.first, tokens.last
	if first.Seq() == 0 || first.Position().Filename == "" {
		return Span{File: f.Path}
	}
	a, b := f.tokenSpan(first), f.tokenSpan(last)
	if a.File != b.File || b.End.Offset < a.Start.Offset {
		return a
	}
	return Span{File: a.File, Start: a.Start, End: b.End}
}

// tokenSpan is the span of one token; a macro-expanded token gets the span
// of the invocation that produced it.
func (f *File) tokenSpan(t cc.Token) Span {
	pos := t.Position()
	if pos.Filename == "" {
		return Span{File: f.Path}
	}
	path, shift := f.src.resolveAt(pos.Filename, pos.Offset)
	text := f.Src
	if path != f.Path {
		text = f.src.text(path)
	}
	off := pos.Offset - shift
	src := t.Src()
	if off < 0 || off > len(text) {
		p := Pos{Line: pos.Line, Col: pos.Column, Offset: -1}
		return Span{File: path, Start: p, End: p}
	}
	lt := f.src.table(path, text)
	if off+len(src) <= len(text) && bytes.Equal(text[off:off+len(src)], src) {
		return Span{File: path, Start: lt.pos(off), End: lt.pos(off + len(src))}
	}
	return Span{File: path, Start: lt.pos(off), End: lt.pos(lt.invocationAt(text, off, path).end)}
}

// fileOf returns the display path of a file cc/v4 names in positions.
func (f *File) fileOf(name string) string {
	path, _ := f.src.resolve(name)
	return path
}

// identAt returns the identifier starting at off in text, or "".
func identAt(text []byte, off int) string {
	if off < 0 || off >= len(text) {
		return ""
	}
	end := off
	for end < len(text) && isIdentByte(text[end]) {
		end++
	}
	return string(text[off:end])
}

// invocation is a macro invocation in a text: where it ends, the spans of
// its arguments and their text without white space (see matchMacroArg).
type invocation struct {
	end      int
	args     []Span
	squeezed []string
	longest  int // of squeezed
}

// invocationAt returns the invocation at off in text (the text t was made
// from), re-lexed once: every call and token a macro such as BPF_PROG
// expands to is placed at its invocation, and re-lexing it for each of
// them was quadratic. The result is shared: read only.
func (t *lineTable) invocationAt(text []byte, off int, path string) *invocation {
	t.mu.Lock()
	defer t.mu.Unlock()
	if inv, ok := t.invocations[off]; ok {
		return inv
	}
	inv := &invocation{}
	inv.end, inv.args = invocationArgs(text, off, path, t)
	for _, a := range inv.args {
		inv.squeezed = append(inv.squeezed, squeeze(spanText(text, a)))
		inv.longest = max(inv.longest, len(inv.squeezed[len(inv.squeezed)-1]))
	}
	if t.invocations == nil {
		t.invocations = map[int]*invocation{}
	}
	t.invocations[off] = inv
	return inv
}

// invocationArgs re-lexes a macro invocation `NAME(a, b)` at off: it returns
// the end offset of the invocation (after ')', or after NAME when no
// argument list follows) and the spans of its top-level arguments.
func invocationArgs(text []byte, off int, path string, lt *lineTable) (int, []Span) {
	i := off
	for i < len(text) && isIdentByte(text[i]) {
		i++
	}
	if i == off {
		return min(off+1, len(text)), nil
	}
	nameEnd := i
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
		i++
	}
	if i >= len(text) || text[i] != '(' {
		return nameEnd, nil
	}
	var args []Span
	depth := 0
	start := i + 1
	add := func(lo, hi int) {
		for lo < hi && isSpace(text[lo]) {
			lo++
		}
		for hi > lo && isSpace(text[hi-1]) {
			hi--
		}
		args = append(args, Span{File: path, Start: lt.pos(lo), End: lt.pos(hi)})
	}
	for ; i < len(text); i++ {
		switch c := text[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				add(start, i)
				return i + 1, args
			}
		case ',':
			if depth == 1 {
				add(start, i)
				start = i + 1
			}
		case '"', '\'':
			i = literalEnd(text, i) - 1
		}
	}
	return nameEnd, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tagsIn collects btf_decl_tag/btf_type_tag attributes below n, without
// entering nested struct bodies, parameter lists or initializers (their
// attributes belong to other declarations).
func (f *File) tagsIn(n cc.Node, pointee bool) []Tag {
	var tags []Tag
	Inspect(n, func(n cc.Node) bool {
		switch x := n.(type) {
		case *cc.StructDeclarationList, *cc.ParameterTypeList, *cc.Initializer:
			return false
		case *cc.AttributeValue:
			name := x.Token.SrcStr()
			if name != "btf_decl_tag" && name != "btf_type_tag" {
				return false
			}
			if v, ok := firstStringArg(x); ok {
				tags = append(tags, Tag{Kind: name, Value: v, Span: f.tokenSpan(x.Token), Pointee: pointee})
			}
			return false
		}
		return true
	})
	return tags
}

// declaratorTags returns the tags of a declarator: those among its pointer
// qualifiers apply to the pointee.
func (f *File) declaratorTags(d *cc.Declarator) []Tag {
	tags := f.tagsIn(d.Pointer, true)
	return append(tags, f.tagsIn(d.DirectDeclarator, false)...)
}

// attrString returns the string argument of the first attribute called name
// below n (e.g. "section").
func attrString(n cc.Node, name string) string {
	var out string
	Inspect(n, func(n cc.Node) bool {
		switch x := n.(type) {
		case *cc.StructDeclarationList, *cc.ParameterTypeList, *cc.Initializer, *cc.CompoundStatement:
			return false
		case *cc.AttributeValue:
			if out == "" && x.Token.SrcStr() == name {
				out, _ = firstStringArg(x)
			}
			return false
		}
		return out == ""
	})
	return out
}

// firstStringArg returns the (concatenated, unquoted) string literal that is
// the attribute's first argument.
func firstStringArg(a *cc.AttributeValue) (string, bool) {
	if a.ArgumentExpressionList == nil {
		return "", false
	}
	l := a.ArgumentExpressionList
	for l.ArgumentExpressionList != nil {
		l = l.ArgumentExpressionList
	}
	var b strings.Builder
	found := false
	for _, t := range cc.NodeTokens(l.AssignmentExpression) {
		s := t.SrcStr()
		if !strings.HasPrefix(s, `"`) {
			continue
		}
		u, err := strconv.Unquote(s)
		if err != nil {
			continue
		}
		b.WriteString(u)
		found = true
	}
	return strings.TrimSuffix(b.String(), "\x00"), found
}

// CallOf returns the call recorded for a call expression, or nil.
func (f *File) CallOf(e *cc.PostfixExpression) *Call { return f.calls[e] }

// Func returns the function definition called name, or nil.
func (f *File) Func(name string) *Func {
	if f.funcs != nil {
		return f.funcs[name]
	}
	for _, fn := range f.Funcs {
		if fn.Name == name {
			return fn
		}
	}
	return nil
}

// indexFuncs indexes f.Funcs by name for Func (the first of a name, as
// the scan finds it): the analysis asks for every identifier of every
// body, which scanning took quadratic time in the number of functions.
func (f *File) indexFuncs() {
	f.funcs = make(map[string]*Func, len(f.Funcs))
	for _, fn := range f.Funcs {
		if _, dup := f.funcs[fn.Name]; !dup {
			f.funcs[fn.Name] = fn
		}
	}
}

// Var returns the file-scope variable called name, or nil.
func (f *File) Var(name string) *Var {
	for _, v := range f.Vars {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Place returns the display path and byte offset of a position cc/v4
// reported: the main file's offset for a token of a function translated
// on its own (see funcs.go), whose positions are relative to its start.
func (f *File) Place(pos token.Position) (string, int) {
	path, shift := f.src.resolveAt(pos.Filename, pos.Offset)
	return path, pos.Offset - shift
}
