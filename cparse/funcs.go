package cparse

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/cc/v4"
)

// Per-function translation of an open document. The main file's
// declarations (its text with every function body blanked, the '{' made a
// ';': every global, type, macro and a prototype of every function, at
// their exact positions) are translated once as a preamble chained on the
// headers' (cc.TranslatePreambleAfter); each function definition is then a
// continuation of it, as a source of its own whose positions are relative
// to the function's start. Every function's AST refers to the same
// declarators and types (the analysis keys maps by *cc.Declarator), and an
// edit inside one body translates that function only, reusing the others'
// ASTs: a big file's edit no longer translates every body.
//
// It is used only where it gives what a whole translation gives:
//   - no #if, #include, #line or #error after the first function (each
//     function would see the end of the file's conditionals and includes);
//   - a #define or #undef after a function's start only when no function
//     that starts before it uses the name, directly or through a macro:
//     every function is translated with the macros of the end of the file;
//   - no directive inside a body but #pragma (the bodies are blanked in the
//     declarations), and no push_macro/pop_macro;
//   - no function uses __COUNTER__, __LINE__ or __FILE__ (through macros
//     too): their values depend on where and in what order text is
//     translated; nor does a declaration use __LINE__ (an edit moves
//     declarations without translating them again);
//   - the declarations and the functions translate without errors, panics
//     or cc.ErrPreambleMismatch.
// Anything else (and the trimming retries of a vmlinux.h program, which
// need errors) takes the whole-file path.

// funcDoc is what per-function translation keeps of a document's last
// parse: the declarations' preamble and each function's AST.
type funcDoc struct {
	header  *preamble    // the headers' preamble the declarations continue
	decl    *cc.Preamble // the declarations
	declEDs []*cc.ExternalDeclaration
	users   map[string][]string // macro names by the identifiers their replacement lists use
	late    []declaredAt        // file-scope names the main file declares first, by offset in the declarations
	text    []byte              // the main text of the last parse
	regions []region            // its top-level regions
	dRegion []region            // the regions as the declarations were translated
	funcs   map[int]*funcUnit   // by index in regions
	base    *cc.AST             // the last translation's (scope, types)
	// skeleton is the text without function bodies, when this parse
	// translated the declarations.
	skeleton []byte
	moves    []move // of the declarations' positions in text
	chunks   int    // how many translations the last functions took
	// failing are the regions whose functions cc/v4 reported errors in:
	// the doc is kept without them (and without the functions of their
	// translation), so that an edit of the one in error translates only
	// what is missing, not the declarations and every function again.
	failing []int
	// unnamed are the functions, by region, whose names nothing else in
	// the file uses: the declarations leave their prototypes out (see
	// unnamedFuncs).
	unnamed map[int]string
}

// funcUnit is one translated function region: its external declarations
// (a macro such as BPF_PROG writes declarations and definitions), and,
// once a File's model was built from them, the models of its definitions
// (read only: Files share them).
type funcUnit struct {
	name string // the source name cc/v4 knows it by
	eds  []*cc.ExternalDeclaration
	fns  []*Func
	at   int // where the region started in the File of fns
}

// movedFunc returns a copy of the model fn0 for the File f, in which its
// function starts delta bytes later.
func movedFunc(f *File, fn0 *Func, delta int) *Func {
	if delta == 0 {
		return fn0
	}
	lt := f.src.table(f.Path, f.Src)
	move := func(s Span) Span {
		if s.File != f.Path || s.Start.Offset < 0 {
			return s
		}
		s.Start, s.End = lt.pos(s.Start.Offset+delta), lt.pos(s.End.Offset+delta)
		return s
	}
	fn := *fn0
	fn.Span, fn.BodySpan = move(fn.Span), move(fn.BodySpan)
	fn.Calls = make([]*Call, len(fn0.Calls))
	for i, c := range fn0.Calls {
		c2 := *c
		c2.Span, c2.NameSpan = move(c.Span), move(c.NameSpan)
		c2.Args = slices.Clone(c.Args)
		for j := range c2.Args {
			c2.Args[j].Span = move(c2.Args[j].Span)
		}
		fn.Calls[i] = &c2
	}
	return &fn
}

// keepFuncDoc keeps the per-function translation f was made from, with the
// model of each function, for the next parse of the document.
func (p *Parser) keepFuncDoc(f *File) {
	doc := f.funcDoc
	if doc == nil {
		return
	}
	byDef := make(map[*cc.FunctionDefinition]*Func, len(f.Funcs))
	for _, fn := range f.Funcs {
		byDef[fn.Def] = fn
	}
	for i, u := range doc.funcs {
		var fns []*Func
		for _, ed := range u.eds {
			if fn := byDef[ed.FunctionDefinition]; ed.FunctionDefinition != nil && fn != nil {
				fns = append(fns, fn)
			}
		}
		if !slices.Equal(fns, u.fns) || u.at != doc.regions[i].start {
			doc.funcs[i] = &funcUnit{name: u.name, eds: u.eds, fns: fns, at: doc.regions[i].start}
		}
	}
	f.funcDoc = nil
	p.funcDocs.put(f.Path, doc)
}

// funcDocs keeps the funcDoc of recently parsed open documents, and the
// declarations that could not be translated per function: the next parses
// with the same declarations go straight to the whole file (a failed cold
// attempt costs about a whole translation).
type funcDocs struct {
	mu       sync.Mutex
	docs     []funcDocEntry // most recent last
	failures map[string]failure
}

type funcDocEntry struct {
	path string
	doc  *funcDoc
}

// failure is why the declarations on the header preamble header were not
// translated per function; decl is their text without the function
// bodies (see skeleton): the same after any edit inside a body. When
// functions had errors, funcs holds their texts: an edit elsewhere fails
// the same way (a member a kernel's vmlinux.h lacks, as in a selftest of
// another release), an edit of one of them may not.
type failure struct {
	header *preamble
	decl   []byte
	funcs  [][]byte
	why    string
}

// fail remembers why path's declarations decl (or its functions funcs)
// failed; it returns why.
func (d *funcDocs) fail(path string, header *preamble, decl []byte, funcs [][]byte, why string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failures == nil || len(d.failures) >= maxFuncDocs {
		d.failures = map[string]failure{}
	}
	d.failures[path] = failure{header, decl, funcs, why}
	return why
}

// failed returns why path's declarations decl failed before, or why its
// functions did when text still has each of them, or "".
func (d *funcDocs) failed(path string, header *preamble, decl, text []byte, regions []region) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	x, ok := d.failures[path]
	if !ok || x.header != header || !bytes.Equal(x.decl, decl) {
		return ""
	}
	for _, fn := range x.funcs {
		if !slices.ContainsFunc(regions, func(r region) bool { return bytes.Equal(text[r.start:r.end], fn) }) {
			return ""
		}
	}
	return x.why
}

// maxFuncDocs bounds the documents whose function ASTs are kept: each
// holds a translated copy of its file (40 MB for a selftest whose
// signatures expand big macros), the server's budget is 150 MB, and the
// documents being edited are few.
const maxFuncDocs = 2

// Forget drops what the Parser keeps of path's last parse for the next
// one (an editor closed the document): its function ASTs and the
// preambles built for it.
func (p *Parser) Forget(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	p.preambles.forget(path)
	p.funcDocs.mu.Lock()
	defer p.funcDocs.mu.Unlock()
	p.funcDocs.docs = slices.DeleteFunc(p.funcDocs.docs, func(e funcDocEntry) bool { return e.path == path })
	delete(p.funcDocs.failures, path)
}

func (d *funcDocs) get(path string) *funcDoc {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.docs {
		if e.path == path {
			return e.doc
		}
	}
	return nil
}

func (d *funcDocs) put(path string, doc *funcDoc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs = slices.DeleteFunc(d.docs, func(e funcDocEntry) bool { return e.path == path })
	d.docs = append(d.docs, funcDocEntry{path, doc})
	if len(d.docs) > maxFuncDocs {
		d.docs = d.docs[1:]
	}
}

// funcSeq numbers function sources: a reused function keeps its name while
// its position changes.
var funcSeq atomic.Int64

// FuncStats count how parses of open documents went (tests read them).
type FuncStats struct {
	Cold, Edits, Fallbacks int64
	Reasons                map[string]int64 // why parses fell back to the whole file
	Remembered             int64            // fallbacks known from an earlier failure, without translating
	Chunked                int64            // translations of many functions split across cores
}

// translateFuncs fills f.AST from a per-function translation of text when
// one applies (see above) and reports whether it did.
func (p *Parser) translateFuncs(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool) (done bool) {
	if _, open := overlay[f.Path]; !open || p.opts.NoPreamble || p.opts.WholeFile {
		return false
	}
	g := *f // f is left alone unless this succeeds
	defer func() {
		// A panic here (cc/v4's are recovered inside) is this code's: the
		// whole-file path still gives the file its AST.
		if r := recover(); r != nil {
			p.fallback(fmt.Sprintf("internal error: %v", r))
			done = false
		}
	}()
	regions := topLevelRegions(text)
	why := funcEligible(text, regions)
	if why == "" {
		why = p.translateFuncsWith(ctx, &g, flags, overlay, text, seeds, regions)
	}
	if why != "" {
		p.fallback(why)
		return false
	}
	*f = g
	return true
}

// remembered counts a fallback known from an earlier failure; it returns
// why.
func (p *Parser) remembered(why string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.funcStats.Remembered++
	return why
}

func (p *Parser) fallback(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.funcStats.Fallbacks++
	if p.funcStats.Reasons == nil {
		p.funcStats.Reasons = map[string]int64{}
	}
	p.funcStats.Reasons[why]++
}

// FuncStats returns how the per-function translation of open documents
// went so far.
func (p *Parser) FuncStats() FuncStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.funcStats
	s.Reasons = make(map[string]int64, len(p.funcStats.Reasons))
	for k, v := range p.funcStats.Reasons {
		s.Reasons[k] = v
	}
	return s
}

// translateFuncsWith translates text per function, reusing the last
// parse's functions when only one body changed; it returns why it could
// not ("" when f.AST is set).
func (p *Parser) translateFuncsWith(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool, regions []region) string {
	e, cut, cfg, inc, ok := p.resumeFrom(ctx, f, flags, overlay, text, seeds)
	if !ok {
		return "no preamble"
	}
	prev := p.funcDocs.get(f.Path)
	var doc *funcDoc
	k, moves := editedBody(prev, e, text, regions)
	if k >= 0 && k < len(regions) && prev.namesUndeclared(text, regions, k) {
		k = -1 // the declarations must now declare a function they left out
	}
	if k >= 0 {
		doc = &funcDoc{header: e, decl: prev.decl, declEDs: prev.declEDs, users: prev.users, late: prev.late, text: text, regions: regions,
			dRegion: prev.dRegion, funcs: maps.Clone(prev.funcs), skeleton: prev.skeleton, moves: moves, unnamed: prev.unnamed,
			failing: slices.DeleteFunc(slices.Clone(prev.failing), func(i int) bool { return i == k })}
		f.reuse = map[*cc.FunctionDefinition]*Func{}
		for i, u := range prev.funcs {
			for _, fn := range u.fns {
				if i != k {
					f.reuse[fn.Def] = movedFunc(f, fn, regions[i].start-u.at)
				}
			}
		}
		delete(doc.funcs, k)
		if len(doc.failing) > 0 {
			// Another function still has its errors: the whole file it is.
			doc.text = bytes.Clone(text)
			p.funcDocs.put(f.Path, doc)
			return p.remembered(whyFuncErrors)
		}
	} else {
		unnamed := unnamedFuncs(text, regions, e.pre.Defines)
		decl := declarationsText(text, cut, regions, unnamed)
		skel := skeleton(text, regions)
		if why := p.funcDocs.failed(f.Path, e, skel, text, regions); why != "" {
			return p.remembered(why)
		}
		pre, ast, pv, err := translateDecls(cfg, e.pre, f.Path, decl)
		switch {
		case pv != nil:
			return p.funcDocs.fail(f.Path, e, skel, nil, "the declarations panic")
		case err != nil:
			return p.funcDocs.fail(f.Path, e, skel, nil, "errors in the declarations")
		}
		doc = &funcDoc{header: e, decl: pre, users: macroUsers(ast), late: declaredIn(ast, f.Path+mainSuffix), text: text, regions: regions,
			dRegion: regions, funcs: map[int]*funcUnit{}, skeleton: skel, unnamed: unnamed}
		for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
			doc.declEDs = append(doc.declEDs, l.ExternalDeclaration)
		}
	}
	var todo []int // every function not kept: all of them, or the edited one (and any a failure left out)
	for i, r := range regions {
		if _, kept := doc.funcs[i]; r.bodyStart >= 0 && !kept {
			todo = append(todo, i)
		}
	}
	if why := lateMacros(text, regions, doc); why != "" {
		if doc.skeleton != nil {
			p.funcDocs.fail(f.Path, e, doc.skeleton, nil, why)
		}
		return why
	}
	if len(todo) == 0 {
		doc.base = prev.base // the same text again
	} else if why, failing := doc.translate(cfg, f, todo); why != "" {
		if len(failing) > 0 {
			var texts [][]byte
			for _, i := range failing {
				// A copy: the whole-file path blanks the text in place.
				texts = append(texts, bytes.Clone(text[regions[i].start:regions[i].end]))
			}
			p.funcDocs.fail(f.Path, e, doc.skeleton, texts, why)
			doc.failing = failing
			doc.text = bytes.Clone(text) // as the remembered texts
			p.funcDocs.put(f.Path, doc)
		}
		return why
	}
	tu, why := doc.unit(f.Path)
	if why != "" {
		return why
	}
	combined := *doc.base
	combined.TranslationUnit = tu
	f.AST, f.pre = &combined, e // it starts with the headers' declarations, as a resumed translation
	f.src.mu.Lock()
	f.src.names[f.Path+mainSuffix] = servedName{display: f.Path, moves: doc.moves}
	for i, u := range doc.funcs {
		f.src.names[u.name] = servedName{display: f.Path, shift: -regions[i].start}
	}
	f.src.mu.Unlock()
	f.Errors = append(f.Errors, dedupeErrors(inc.errs)...)
	f.funcDoc = doc // kept once the model is built (keepFuncDoc)
	p.mu.Lock()
	if doc.chunks > 1 {
		p.funcStats.Chunked++
	}
	if prev != nil && doc.decl == prev.decl {
		p.funcStats.Edits++
	} else {
		p.funcStats.Cold++
	}
	p.mu.Unlock()
	return ""
}

// translate translates the function definitions of the regions todo as
// continuations of the declarations; it returns why it could not, or "",
// and the regions of the functions cc/v4 reported errors in (the
// functions of the other chunks are in doc.funcs even then). Many functions
// (a cold parse) are translated in parallel chunks, one per core:
// continuations of one preamble share nothing they write.
func (doc *funcDoc) translate(cfg *cc.Config, f *File, todo []int) (string, []int) {
	names := map[string]int{}
	var srcs []cc.Source
	f.src.mu.Lock()
	for _, i := range todo {
		r := doc.regions[i]
		name := fmt.Sprintf("%s#bpf-lsp-fn%d", f.Path, funcSeq.Add(1))
		names[name] = i
		srcs = append(srcs, cc.Source{Name: name, Value: append(bytes.Clone(doc.text[r.start:r.end]), '\n')})
		// Known before the chunks build the functions' models.
		f.src.names[name] = servedName{display: f.Path, shift: -r.start}
	}
	f.src.mu.Unlock()
	chunks := splitSources(srcs, runtime.GOMAXPROCS(0))
	type result struct {
		ast *cc.AST
		fns []*Func
		pv  *panicked
		err error
	}
	doc.chunks = len(chunks)
	results := make([]result, len(chunks))
	shared := lockedCallbacks(cfg, len(chunks))
	var wg sync.WaitGroup
	for k, chunk := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var fns []*Func
			ast, pv, err := recovering(func() (*cc.AST, error) {
				ast, err := cc.TranslateAfter(shared, doc.decl, chunk)
				if err == nil {
					fns = doc.models(f, ast)
				}
				return ast, err
			})
			results[k] = result{ast, fns, pv, err}
		}()
	}
	wg.Wait()
	// Any chunk's AST serves as the base: its header and declaration
	// nodes are the preamble's, the same in every continuation.
	doc.base = results[0].ast
	var failing []int
	for _, r := range results {
		switch {
		case r.pv != nil:
			return "a function panics", nil
		case r.err != nil:
			for name, i := range names {
				if strings.Contains(r.err.Error(), name+":") {
					failing = append(failing, i)
				}
			}
		}
	}
	slices.Sort(failing)
	for _, r := range results {
		if r.err != nil {
			continue
		}
		n := 0
		for l := r.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
			if n++; n <= len(doc.declEDs) {
				continue
			}
			ed := l.ExternalDeclaration
			i, ok := names[ed.Position().Filename]
			if !ok {
				return "a function region declares outside its text", nil
			}
			if doc.funcs[i] == nil {
				doc.funcs[i] = &funcUnit{name: ed.Position().Filename}
			}
			doc.funcs[i].eds = append(doc.funcs[i].eds, ed)
		}
	}
	if slices.ContainsFunc(results, func(r result) bool { return r.err != nil }) {
		return whyFuncErrors, failing
	}
	for _, i := range todo {
		if u := doc.funcs[i]; u == nil || u.eds[len(u.eds)-1].FunctionDefinition == nil {
			return "a function region does not end with a definition", nil
		}
	}
	if f.reuse == nil {
		f.reuse = map[*cc.FunctionDefinition]*Func{}
	}
	for _, r := range results {
		for _, fn := range r.fns {
			f.reuse[fn.Def] = fn
		}
	}
	return "", nil
}

// models builds the models of the function definitions ast adds to the
// declarations, for buildModel to take as they are: built beside their
// translation, they are spread across the chunks too.
func (doc *funcDoc) models(f *File, ast *cc.AST) []*Func {
	g := &File{Path: f.Path, Src: f.Src, src: f.src, spans: &spanMemo{}, calls: map[*cc.PostfixExpression]*Call{}}
	n := 0
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		if n++; n > len(doc.declEDs) && l.ExternalDeclaration.FunctionDefinition != nil {
			g.addFunc(l.ExternalDeclaration.FunctionDefinition)
		}
	}
	return g.Funcs
}

const whyFuncErrors = "errors in a function"

// minChunkBytes is the least function text worth a translation of its
// own: each continuation first resumes the preamble.
const minChunkBytes = 8 << 10

// splitSources cuts srcs, in order, into at most n chunks of about equal
// text, none (but a lone one) under minChunkBytes.
func splitSources(srcs []cc.Source, n int) [][]cc.Source {
	total := 0
	for _, s := range srcs {
		total += len(s.Value.([]byte))
	}
	n = min(n, len(srcs), max(1, total/minChunkBytes))
	var chunks [][]cc.Source
	from, size := 0, 0
	for i, s := range srcs {
		size += len(s.Value.([]byte))
		// Close the chunk once it holds its share of the text so far.
		if len(chunks) < n-1 && size*n >= total*(len(chunks)+1) {
			chunks = append(chunks, srcs[from:i+1])
			from = i + 1
		}
	}
	if from < len(srcs) {
		chunks = append(chunks, srcs[from:])
	}
	return chunks
}

// lockedCallbacks returns cfg, or when n translations run at once a copy
// whose pragma handler and file system (shared parse state: #pragma once,
// failed reads) take turns. Function bodies seldom reach either (a
// directive in a body makes a file translate whole), but _Pragma and
// __has_include can.
func lockedCallbacks(cfg *cc.Config, n int) *cc.Config {
	if n < 2 {
		return cfg
	}
	var mu sync.Mutex
	c := *cfg
	if h := cfg.PragmaHandler; h != nil {
		c.PragmaHandler = func(toks []cc.Token) error {
			mu.Lock()
			defer mu.Unlock()
			return h(toks)
		}
	}
	if cfg.FS != nil {
		c.FS = lockedFS{mu: &mu, fs: cfg.FS}
	}
	return &c
}

// lockedFS serialises Open on a file system.
type lockedFS struct {
	mu *sync.Mutex
	fs fs.FS
}

func (l lockedFS) Open(name string) (fs.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fs.Open(name)
}

// translateDecls translates the declarations' text as a preamble chained
// on the headers'.
func translateDecls(cfg *cc.Config, header *cc.Preamble, path string, decl []byte) (pre *cc.Preamble, ast *cc.AST, pv *panicked, err error) {
	type both struct {
		pre *cc.Preamble
		ast *cc.AST
	}
	r, pv, err := recovering(func() (both, error) {
		pre, ast, err := cc.TranslatePreambleAfter(cfg, header, []cc.Source{{Name: path + mainSuffix, Value: decl}})
		return both{pre, ast}, err
	})
	return r.pre, r.ast, pv, err
}

// declarationsText is text with the preamble region (the headers', already
// translated) and every function body blanked, the body's '{' made a ';'
// and the EOF guard appended.
func declarationsText(text []byte, cut int, regions []region, unnamed map[int]string) []byte {
	d := afterPreamble(text, cut)
	for i, r := range regions {
		switch _, gone := unnamed[i]; {
		case gone:
			blank(d[r.start:r.end])
		case r.bodyStart >= 0:
			blank(d[r.bodyStart-1 : r.end])
			d[r.bodyStart-1] = ';'
		}
	}
	return d
}

// unnamedFuncs finds the function definitions whose name nothing else in
// text uses (outside their own region: no other function, initializer or
// #define names it), by region. Their prototypes can stay out of the
// declarations, which every cold parse waits for: a program's definition
// declares it, and no other function refers to it (most programs). A name
// that cannot be told for sure keeps its prototype: a macro (BPF_PROG
// spells a definition; headerMacro tells the headers' ones), one followed
// by attributes, any file whose #defines paste tokens (## could spell any
// name).
func unnamedFuncs(text []byte, regions []region, headerMacro func(string) bool) map[int]string {
	uses := map[string][]int{} // offsets of each identifier
	macros := map[string]bool{}
	addUse := func(text []byte, p piece, base int) {
		if p.kind == word && isIdentStart(text[p.start]) {
			name := string(withoutSplices(text[p.start:p.end]))
			uses[name] = append(uses[name], base+p.start)
		}
	}
	for p := range pieces(text, true) {
		if p.kind != directiveLine {
			addUse(text, p, 0)
			continue
		}
		line := text[p.start:p.end]
		if bytes.Contains(line, []byte("##")) {
			return nil
		}
		var words []string
		for q := range pieces(line, false) {
			addUse(line, q, p.start)
			if q.kind == word {
				words = append(words, string(withoutSplices(line[q.start:q.end])))
			}
		}
		if len(words) >= 2 && words[0] == "define" {
			macros[words[1]] = true
		}
	}
	out := map[int]string{}
	for i, r := range regions {
		if r.bodyStart < 0 {
			continue
		}
		name, at := declaredName(text[r.start : r.bodyStart-1])
		if name == "" || macros[name] || headerMacro(name) {
			continue
		}
		if offs := uses[name]; len(offs) > 0 && !slices.ContainsFunc(offs, func(off int) bool {
			return off < r.start || off >= r.end || off < r.bodyStart && off != r.start+at
		}) {
			out[i] = name
		}
	}
	return out
}

// namesUndeclared reports whether region k of text uses the name of a
// function whose prototype doc's declarations left out, other than its
// own: an edit that makes a function call a program the declarations do
// not declare needs them translated again.
func (doc *funcDoc) namesUndeclared(text []byte, regions []region, k int) bool {
	if len(doc.unnamed) == 0 {
		return false
	}
	names := map[string]string{}
	for i, name := range doc.unnamed {
		if i != k {
			names[name] = "named"
		}
	}
	return usesAny(text[regions[k].start:regions[k].end], names) != ""
}

// declaredName is the identifier just before the last '(' at nesting depth
// 0 of a function definition's text before its body, and its offset, or
// "": the declarator's name when that '(' opens the parameters.
func declaredName(head []byte) (string, int) {
	name, at, depth := "", -1, 0
	var prev piece // the last token
	for p := range pieces(head, false) {
		if p.kind.trivia() {
			continue
		}
		switch c := head[p.start]; {
		case p.kind == punct && c == '(':
			if depth == 0 {
				name, at = "", -1
				if prev.kind == word && isIdentStart(head[prev.start]) {
					name, at = string(withoutSplices(head[prev.start:prev.end])), prev.start
				}
			}
			depth++
		case p.kind == punct && c == ')':
			depth--
		}
		prev = p
	}
	if depth != 0 || at < 0 || !bytes.HasSuffix(bytes.TrimRight(head, " \t\r\n"), []byte(")")) {
		return "", -1
	}
	return name, at
}

// skeleton is text without its function bodies.
func skeleton(text []byte, regions []region) []byte {
	var b []byte
	from := 0
	for _, r := range regions {
		if r.bodyStart >= 0 {
			b = append(append(b, text[from:r.bodyStart]...), '}')
			from = r.bodyEnd
		}
	}
	return append(b, text[from:]...)
}

// unit is the translation unit as one translation would give it: the
// headers' and the declarations' external declarations in order, those of
// each function region (its prototype) replaced by the region's own.
func (doc *funcDoc) unit(path string) (*cc.TranslationUnit, string) {
	var first, last *cc.TranslationUnit
	add := func(ed *cc.ExternalDeclaration) {
		l := &cc.TranslationUnit{ExternalDeclaration: ed}
		if last == nil {
			first = l
		} else {
			last.TranslationUnit = l
		}
		last = l
	}
	done := map[int]bool{}
	next := 0 // regions before it whose prototypes were left out are placed
	placeBefore := func(off int) {
		for ; next < len(doc.dRegion) && doc.dRegion[next].start < off; next++ {
			if _, gone := doc.unnamed[next]; gone && doc.funcs[next] != nil {
				done[next] = true
				for _, ed := range doc.funcs[next].eds {
					add(ed)
				}
			}
		}
	}
	for _, ed := range doc.declEDs {
		pos := ed.Position()
		if pos.Filename != path+mainSuffix {
			add(ed)
			continue
		}
		placeBefore(pos.Offset)
		i, ok := regionAt(doc.dRegion, pos.Offset)
		if !ok || doc.dRegion[i].bodyStart < 0 {
			add(ed)
			continue
		}
		if !done[i] {
			done[i] = true
			for _, ed := range doc.funcs[i].eds {
				add(ed)
			}
		}
	}
	placeBefore(math.MaxInt)
	if len(done) != len(doc.funcs) {
		return nil, "a function has no prototype among the declarations"
	}
	return first, ""
}

// regionAt returns the index of the region holding off.
func regionAt(regions []region, off int) (int, bool) {
	i, _ := slices.BinarySearchFunc(regions, off, func(r region, off int) int {
		switch {
		case r.end <= off:
			return -1
		case r.start > off:
			return 1
		}
		return 0
	})
	return i, i < len(regions) && regions[i].start <= off && off < regions[i].end
}

// editedBody returns the index of the only function whose body differs
// between prev's text and text, when nothing else changed (what follows
// the edit may have moved), and the moves of the declarations' positions;
// len(regions) when only white space, comments or nothing changed
// between top-level declarations; -1 when the declarations must be
// translated again.
func editedBody(prev *funcDoc, header *preamble, text []byte, regions []region) (int, []move) {
	if prev == nil || prev.header != header || len(prev.regions) != len(regions) {
		return -1, nil
	}
	old := prev.text
	pre := 0
	for pre < len(old) && pre < len(text) && old[pre] == text[pre] {
		pre++
	}
	suf := 0
	for suf < len(old)-pre && suf < len(text)-pre && old[len(old)-1-suf] == text[len(text)-1-suf] {
		suf++
	}
	lo, hi, delta := pre, len(old)-suf, len(text)-len(old)
	k := len(regions)
	for i, r := range prev.regions {
		want := r
		switch {
		case r.end <= lo: // before the edit
		case r.start >= hi: // after it
			want.start += delta
			want.end += delta
			if r.bodyStart >= 0 {
				want.bodyStart += delta
				want.bodyEnd += delta
			}
		case r.bodyStart >= 0 && lo >= r.bodyStart && hi <= r.bodyEnd: // inside its body
			k = i
			want.end += delta
			want.bodyEnd += delta
		default:
			return -1, nil
		}
		if regions[i] != want {
			return -1, nil
		}
	}
	if k == len(regions) && !sameDirectives(old, text, lo, hi, len(text)-suf) {
		return -1, nil
	}
	// The declarations' positions from each region on.
	var moves []move
	cur := 0
	for i, r := range prev.dRegion {
		if s := -(regions[i].start - r.start); s != cur {
			moves = append(moves, move{at: r.start, shift: s})
			cur = s
		}
	}
	return k, moves
}

// sameDirectives reports whether an edit between top-level declarations
// (old[lo:hi] became text[lo:newHi]) left the preprocessor's view alone:
// no line splice in what changed (it could join a line to a comment) and
// the same directives.
func sameDirectives(old, text []byte, lo, hi, newHi int) bool {
	if bytes.IndexByte(old[lo:hi], '\\') >= 0 || bytes.IndexByte(text[lo:newHi], '\\') >= 0 {
		return false
	}
	a, b := directivesFrom(old, 0), directivesFrom(text, 0)
	return slices.EqualFunc(a, b, func(x, y mainDirective) bool { return bytes.Equal(x.text, y.text) })
}

// funcEligible returns why text cannot be translated per function by what
// its directives are, or "".
func funcEligible(text []byte, regions []region) string {
	first := -1
	for _, r := range regions {
		if r.bodyStart < 0 {
			continue
		}
		if first < 0 {
			first = r.start
		}
		// cc/v4 may loop forever on a text that ends inside a declarator;
		// the whole file's has the EOF guard.
		if r.bodyEnd >= len(text) || text[r.bodyEnd] != '}' {
			return "a function body is not closed"
		}
	}
	if first < 0 {
		return "no function"
	}
	for _, d := range directivesFrom(text, first) {
		inBody := false
		if i, ok := regionAt(regions, d.at); ok {
			r := regions[i]
			inBody = r.bodyStart >= 0 && d.at >= r.bodyStart && d.at < r.bodyEnd
		}
		switch {
		case d.name == "pragma":
			if bytes.Contains(d.text, []byte("push_macro")) || bytes.Contains(d.text, []byte("pop_macro")) {
				return "#pragma push_macro or pop_macro after a function"
			}
		case inBody:
			return "a directive inside a function body"
		case d.name == "define" || d.name == "undef":
		default:
			return "#" + d.name + " after a function"
		}
	}
	return ""
}

// mainDirective is a preprocessor line of the main file.
type mainDirective struct {
	at   int
	name string // "define", "if", ...
	text []byte
	arg  string // the macro a #define or #undef names
}

// directivesFrom returns the directives at or after offset from.
func directivesFrom(text []byte, from int) []mainDirective {
	var out []mainDirective
	for p := range pieces(text, true) {
		if p.kind != directiveLine || p.start < from {
			continue
		}
		d := mainDirective{at: p.start, text: text[p.start:p.end]}
		var rest []byte
		d.name, rest = firstWord(d.text[1:])
		if d.name == "define" || d.name == "undef" {
			d.arg, _ = firstWord(rest)
		}
		out = append(out, d)
	}
	return out
}

// macroUsers maps each identifier to the macros whose replacement lists
// use it.
func macroUsers(ast *cc.AST) map[string][]string {
	users := map[string][]string{}
	for name, m := range ast.Macros {
		for _, t := range m.ReplacementList() {
			if t.Ch == rune(cc.IDENTIFIER) {
				users[t.SrcStr()] = append(users[t.SrcStr()], name)
			}
		}
	}
	return users
}

// lineSensitive are the macros whose expansion depends on where and in
// what order text is translated.
var lineSensitive = []string{"__COUNTER__", "__LINE__", "__FILE__"}

// Why lateMacros refuses a text.
const (
	whyLineInDecl    = "__LINE__ in a declaration"
	whyLineInFunc    = "a function uses __COUNTER__, __LINE__ or __FILE__"
	whyLateInFunc    = "a function uses a macro defined or undefined after its start"
	whyDeclaredAfter = "a function uses a name declared after it"
)

// lateMacros returns why the macros defined after a function's start
// would change a function translated with the end of the file's macros,
// or "": no function uses (through macros too, by users) a name defined
// or undefined after its start, or a line-sensitive one, and no
// declaration uses __LINE__ (edits move declarations without translating
// them again).
func lateMacros(text []byte, regions []region, doc *funcDoc) string {
	users := doc.users
	first := -1
	for _, r := range regions {
		if r.bodyStart >= 0 {
			first = r.start
			break
		}
	}
	dirs := directivesFrom(text, first)
	// bad maps every name a text must not use to why: a line-sensitive
	// macro, a late name, or a macro that uses one.
	bad := map[string]string{}
	var grow func(n, why string)
	grow = func(n, why string) {
		if _, ok := bad[n]; ok {
			return
		}
		bad[n] = why
		for _, u := range users[n] {
			grow(u, why)
		}
	}
	grow("__LINE__", whyLineInDecl)
	for _, r := range regions {
		if r.bodyStart < 0 && usesAny(text[r.start:r.end], bad) != "" {
			return whyLineInDecl
		}
	}
	clear(bad)
	for _, n := range lineSensitive {
		grow(n, whyLineInFunc)
	}
	// Walking back from the end, bad gains the late macros after each
	// function's start and the names declared after its body starts (a
	// whole translation does not see them there; the declarations, which
	// every function continues, declare them all).
	d, n := len(dirs)-1, len(doc.late)-1
	for i := len(regions) - 1; i >= 0; i-- {
		r := regions[i]
		for ; d >= 0 && dirs[d].at > r.start; d-- {
			if dirs[d].arg != "" {
				grow(dirs[d].arg, whyLateInFunc)
			}
		}
		for ; n >= 0 && r.bodyStart >= 0 && doc.late[n].at >= doc.dRegion[i].bodyStart; n-- {
			grow(doc.late[n].name, whyDeclaredAfter)
		}
		if r.bodyStart < 0 {
			continue
		}
		if why := usesAny(text[r.start:r.end], bad); why != "" {
			return why
		}
	}
	return ""
}

// declaredAt is a file-scope name and the offset of its first declaration.
type declaredAt struct {
	name string
	at   int
}

// declaredIn returns the file-scope names (identifiers, tags) of ast
// declared in the source called name and not before it, each with the
// offset from which a function sees what the declarations give it: the
// first declaration, but a variable's last one (extern int a[] then int
// a[4]: a function between them sees an incomplete type) and a tag's
// definition (it is incomplete before).
func declaredIn(ast *cc.AST, name string) []declaredAt {
	var out []declaredAt
	for nm, ns := range ast.Scope.Nodes {
		first, last := -1, -1 // the first declaration, the last that completes
		for _, n := range ns {
			pos := n.Position()
			if pos.Filename != name {
				first = -1 // declared before, in a header
				break
			}
			switch x := n.(type) {
			case *cc.Declarator:
				if x.Type() != nil && x.Type().Kind() != cc.Function && !x.IsTypename() {
					last = max(last, pos.Offset)
				}
			case *cc.StructOrUnionSpecifier:
				if x.Case == cc.StructOrUnionSpecifierDef {
					last = max(last, pos.Offset)
				}
			}
			if first < 0 || pos.Offset < first {
				first = pos.Offset
			}
		}
		if first >= 0 {
			out = append(out, declaredAt{nm, max(first, last)})
		}
	}
	slices.SortFunc(out, func(a, b declaredAt) int { return a.at - b.at })
	return out
}

// usesAny returns what names maps the first identifier of text (outside
// comments and literals) among them to, or "".
func usesAny(text []byte, names map[string]string) string {
	for p := range pieces(text, false) {
		if c := text[p.start]; p.kind == word && (c < '0' || c > '9') {
			if why := names[string(withoutSplices(text[p.start:p.end]))]; why != "" {
				return why
			}
		}
	}
	return ""
}
