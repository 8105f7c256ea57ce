package analysis

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Incremental analysis. A program's analysis (its unitResult) is a pure
// function of: its body and the bodies of the static functions it reaches,
// the declarations (globals, maps, struct types, lock classes, kfunc and
// helper prototypes, macros) and whether it is an entry point. A Cache
// keys each program's result by a fingerprint of exactly those inputs and
// reuses it in the next version of the file when the fingerprint is the
// same; an edit inside one function re-analyses the programs that reach
// it, nothing else.
//
// The fingerprint is conservative:
//   - per function: its name, linkage, section, whether its body was
//     blanked for a syntax error, and the text of its body (from the start
//     of the line holding '{' to the end of the line holding '}': fixes read
//     the indentation around a statement);
//   - the static callees it reaches, closed over every identifier in the
//     bodies that names a function of the file (calls, callbacks, pointers);
//   - the declarations of the file-scope variables (maps, globals) its
//     bodies name;
//   - for the whole file: the text outside function bodies and those
//     variable declarations, with comments and blank space folded (so a
//     comment or a blank line between functions changes nothing),
//     preprocessor lines inside bodies, the text of every header read, the
//     flags, the frontend errors outside function bodies (they blank
//     declarations) and the lock classes (which also read function bodies:
//     emission order, BTF type ids).
//
// Positions are not part of it: reused findings are moved to where their
// text is now. Between the text a result was computed on and the new text
// lies one changed window (the common prefix and suffix are unchanged);
// a position before it stays, one after it moves by the window's growth in
// bytes and lines (and in columns on the window's last line), and a result
// with a position inside the window is not reused. Positions in headers
// stay (their text is in the fingerprint).
//
// Ids computed by macros that count (__COUNTER__) or read the line
// (__LINE__) are not followed: the analysis does not compare them.

// Cache keeps per-program analysis results across versions of one file; the
// language server keeps one per open document. It is safe for concurrent
// use; analyses racing on one Cache each reuse what the last one to finish
// left.
type Cache struct {
	mu      sync.Mutex
	last    *generation
	pending chan struct{}       // closed once a commit made in the background is done
	hashes  map[string]textHash // headers hashed, by path
}

// textHash remembers the hash of a text by its identity (the same bytes,
// shared between parses, are not hashed again).
type textHash struct {
	text []byte
	sum  [32]byte
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{hashes: map[string]textHash{}} }

// Run is Run(f), reusing the programs' analyses of the previous version;
// a nil Cache reuses nothing.
func (c *Cache) Run(f *cparse.File) *Result { return run(f, c, parallelism) }

// generation is one version of a file: its text, its lock classes (reused
// results name their locks) and the results by fingerprint.
type generation struct {
	c     *Cache
	f     *cparse.File
	path  string
	text  []byte
	known []*Lock // locks of the classes, in a fixed order
	kinds []*Guarded
	units map[[32]byte]*unitResult

	prev    *generation
	window  window
	regions []region // of the function bodies and variable declarations, by start
	global  [32]byte
	vars    []varDecl
	funcs   map[*cparse.Func]*funcFacts
	lockIx  map[*Lock]int
	grdIx   map[*Guarded]int
}

// funcFacts is one function's own hash, the functions it names and every
// identifier in its body (after macro expansion).
type funcFacts struct {
	sum    [32]byte
	names  []*cparse.Func
	idents map[string]bool
}

// varDecl is the declaration of file-scope variables (a map, a global) of
// the main file: only the programs that name one of them read it.
type varDecl struct {
	names []string
	text  []byte // folded
}

// begin starts the generation of f, against the last one committed.
func (c *Cache) begin(f *cparse.File, cl *classes) *generation {
	c.mu.Lock()
	pending := c.pending
	c.mu.Unlock()
	if pending != nil {
		<-pending
	}
	c.mu.Lock()
	prev := c.last
	c.mu.Unlock()
	g := &generation{c: c, f: f, path: f.Path, text: f.Src, units: map[[32]byte]*unitResult{}, funcs: map[*cparse.Func]*funcFacts{}}
	g.known, g.kinds = classObjects(cl)
	g.global = g.globalHash(cl)
	g.regions = regionsOf(f)
	if prev != nil && prev.path == f.Path && len(prev.known) == len(g.known) && len(prev.kinds) == len(g.kinds) {
		g.prev = prev
		g.window = diff(prev.text, f.Src)
		g.lockIx, g.grdIx = map[*Lock]int{}, map[*Guarded]int{}
		for i, l := range prev.known {
			g.lockIx[l] = i
		}
		for i, k := range prev.kinds {
			g.grdIx[k] = i
		}
	}
	return g
}

// commitLater runs store, which commits, in the background; the next
// begin waits for it. A panic there costs the next run its reuse, as
// nothing was committed, not the process.
func (c *Cache) commitLater(store func()) {
	done := make(chan struct{})
	c.mu.Lock()
	c.pending = done
	c.mu.Unlock()
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		store()
	}()
}

// commit makes g the generation the next analysis starts from. Results
// not used by g are dropped.
func (c *Cache) commit(g *generation) {
	g.prev, g.funcs, g.lockIx, g.grdIx, g.f = nil, nil, nil, nil, nil
	c.mu.Lock()
	c.last = g
	c.mu.Unlock()
}

// lookup returns the previous version's result for the program whose
// key is key, moved to the new text, or nil.
func (g *generation) lookup(key [32]byte) *unitResult {
	if g.prev == nil {
		return nil
	}
	old, ok := g.prev.units[key]
	if !ok {
		return nil
	}
	u, ok := g.move(old)
	if !ok {
		return nil
	}
	g.units[key] = u
	out := *u
	out.stats.Cached = 1
	return &out
}

// unitKeys fingerprints the programs progs with up to workers
// goroutines. Every function's facts come first (a key follows calls
// through them), so that the keys are computed on a memo only read.
func (g *generation) unitKeys(progs []unitJob, workers int) [][32]byte {
	fns := g.f.Funcs
	facts := make([]*funcFacts, len(fns))
	forEach(len(fns), workers, func(_, i int) { facts[i] = g.newFacts(fns[i]) })
	for i, fn := range fns {
		g.funcs[fn] = facts[i]
	}
	keys := make([][32]byte, len(progs))
	forEach(len(progs), workers, func(_, i int) { keys[i] = g.unitKey(progs[i].fn, progs[i].entry) })
	return keys
}

// unitKey fingerprints the program fn: the file's declarations and the
// functions it reaches.
func (g *generation) unitKey(fn *cparse.Func, entry bool) [32]byte {
	reach := map[*cparse.Func]bool{fn: true}
	work := []*cparse.Func{fn}
	for len(work) > 0 {
		cur := work[len(work)-1]
		work = work[:len(work)-1]
		for _, callee := range g.facts(cur).names {
			if !reach[callee] {
				reach[callee] = true
				work = append(work, callee)
			}
		}
	}
	fns := slices.Collect(maps.Keys(reach))
	slices.SortFunc(fns, func(x, y *cparse.Func) int { return strings.Compare(x.Name, y.Name) })
	h := sha256.New()
	h.Write(g.global[:])
	fmt.Fprintf(h, "%s|%t|", fn.Name, entry)
	for _, x := range fns {
		sum := g.facts(x).sum
		fmt.Fprintf(h, "%d:%s", len(x.Name), x.Name)
		h.Write(sum[:])
	}
	h.Write([]byte("\x00vars\n"))
	for _, v := range g.vars {
		if slices.ContainsFunc(v.names, func(name string) bool {
			return slices.ContainsFunc(fns, func(x *cparse.Func) bool { return g.facts(x).idents[name] })
		}) {
			fmt.Fprintf(h, "%q=%d:", v.names, len(v.text))
			h.Write(v.text)
		}
	}
	var key [32]byte
	h.Sum(key[:0])
	return key
}

// facts returns fn's facts (see unitKeys).
func (g *generation) facts(fn *cparse.Func) *funcFacts { return g.funcs[fn] }

// newFacts hashes one function and lists the functions its body names.
func (g *generation) newFacts(fn *cparse.Func) *funcFacts {
	ff := &funcFacts{idents: map[string]bool{}}
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s|%t|%q|%s|", len(fn.Name), fn.Name, fn.Static, fn.Section, fn.BodySpan.File)
	body := fn.Def != nil && fn.Def.CompoundStatement != nil
	if !body {
		h.Write([]byte("nobody"))
	} else {
		fmt.Fprintf(h, "blank=%t|", fn.Def.CompoundStatement.BlockItemList == nil)
		if fn.BodySpan.File == g.f.Path {
			h.Write(g.region(fn.BodySpan))
		} else {
			// In a header (whose text is in the global hash).
			fmt.Fprintf(h, "%d-%d", fn.BodySpan.Start.Offset, fn.BodySpan.End.Offset)
		}
		seen := map[*cparse.Func]bool{}
		for _, p := range fn.Idents {
			name := p.Token.SrcStr()
			ff.idents[name] = true
			if callee := g.f.Func(name); callee != nil && !seen[callee] {
				seen[callee] = true
				ff.names = append(ff.names, callee)
			}
		}
	}
	h.Sum(ff.sum[:0])
	return ff
}

// region is a body's text, from the start of the line of its '{' to the end
// of the line of its '}'.
func (g *generation) region(s cparse.Span) []byte {
	src := g.f.Src
	start, end := s.Start.Offset, s.End.Offset
	if start < 0 || end > len(src) || start > end {
		return []byte(fmt.Sprintf("bad span %d-%d", start, end))
	}
	start = lineStart(src, start)
	if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
		end += i
	} else {
		end = len(src)
	}
	return src[start:end]
}

// globalHash fingerprints what every program reads besides function bodies.
func (g *generation) globalHash(cl *classes) [32]byte {
	f := g.f
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q\n", f.Path, f.Flags, f.FlagsSource)
	// The main file's text outside function bodies and the variable
	// declarations programs read by name (see varDecls), and the
	// preprocessor lines inside bodies (a #define there applies below).
	var bodies, cuts [][2]int
	for _, fn := range f.Funcs {
		if b := fn.BodySpan; b.File == f.Path && b.Start.Offset >= 0 && b.Start.Offset <= b.End.Offset && b.End.Offset <= len(f.Src) {
			bodies = append(bodies, [2]int{b.Start.Offset, b.End.Offset})
		}
	}
	g.vars, cuts = varDecls(f)
	isBody := map[[2]int]bool{}
	for _, b := range bodies {
		isBody[b] = true
	}
	cuts = append(cuts, bodies...)
	sort.Slice(cuts, func(i, j int) bool { return cuts[i][0] < cuts[j][0] })
	// Folded as one text: a variable cut out leaves no trace.
	var env []byte
	at := 0
	var directives [][]byte
	for _, b := range cuts {
		if b[0] < at {
			continue
		}
		env = append(append(env, f.Src[at:b[0]]...), ' ')
		if isBody[b] {
			env = append(env, "{} "...)
		}
		for _, line := range bytes.Split(f.Src[b[0]:b[1]], []byte{'\n'}) {
			if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && t[0] == '#' {
				directives = append(directives, line)
			}
		}
		at = b[1]
	}
	h.Write(foldTrivia(append(env, f.Src[at:]...)))
	h.Write([]byte("\x00directives\n"))
	h.Write(bytes.Join(directives, []byte{'\n'}))
	// Headers.
	headers := f.Headers()
	paths := slices.Sorted(maps.Keys(headers))
	for _, p := range paths {
		sum := g.c.hashText(p, headers[p])
		fmt.Fprintf(h, "\x00header %q", p)
		h.Write(sum[:])
	}
	// Frontend errors outside bodies: the declarations they blank.
	h.Write([]byte("\x00errors\n"))
	for _, e := range f.Errors {
		if e.Span.File == f.Path && inBody(bodies, e.Span.Start.Offset) {
			continue // its body is blanked: the function's own hash says so
		}
		fmt.Fprintf(h, "%q|%d|%q|%q\n", e.Span.File, e.Severity, e.Missing, e.Message)
	}
	h.Write([]byte("\x00classes\n"))
	h.Write([]byte(classDigest(cl)))
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// varDecls lists the main file's declarations of file-scope variables that
// declare nothing else (no struct, union or enum with a tag or constants),
// with their ranges in the text: a program depends on one only when it
// names one of its variables.
func varDecls(f *cparse.File) ([]varDecl, [][2]int) {
	var out []varDecl
	var cuts [][2]int
	byStart := map[int]int{}
	for _, v := range f.Vars {
		d := v.DeclSpan
		if d.File != f.Path || d.Start.Offset < 0 || d.Start.Offset >= d.End.Offset || d.End.Offset > len(f.Src) {
			continue
		}
		if i, ok := byStart[d.Start.Offset]; ok {
			out[i].names = append(out[i].names, v.Name)
			continue
		}
		text := foldTrivia(f.Src[d.Start.Offset:d.End.Offset])
		if declaresType.Match(text) {
			continue // a type other declarations may use: stays in the global hash
		}
		byStart[d.Start.Offset] = len(out)
		out = append(out, varDecl{names: []string{v.Name}, text: text})
		cuts = append(cuts, [2]int{d.Start.Offset, d.End.Offset})
	}
	return out, cuts
}

// declaresType matches a struct, union or enum defined with a tag, or any
// enum body (its constants are names of their own).
var declaresType = regexp.MustCompile(`\b(struct|union)\s*[A-Za-z_]\w*\s*\{|\benum\b[^;{]*\{`)

func inBody(bodies [][2]int, off int) bool {
	for _, b := range bodies {
		if off >= b[0] && off <= b[1] {
			return true
		}
	}
	return false
}

// hashText hashes a header's text, once per distinct slice.
func (c *Cache) hashText(path string, text []byte) [32]byte {
	c.mu.Lock()
	th, ok := c.hashes[path]
	c.mu.Unlock()
	if ok && len(th.text) == len(text) && (len(text) == 0 || unsafe.SliceData(th.text) == unsafe.SliceData(text)) {
		return th.sum
	}
	th = textHash{text: text, sum: sha256.Sum256(text)}
	c.mu.Lock()
	c.hashes[path] = th
	c.mu.Unlock()
	return th.sum
}

// foldTrivia drops comments and folds each run of blank space into one
// space, or one newline when it holds one (preprocessor lines end at a
// newline); string and character literals are kept as they are.
func foldTrivia(src []byte) []byte {
	out := make([]byte, 0, len(src))
	space, newline := false, false
	flush := func() {
		switch {
		case newline:
			out = append(out, '\n')
		case space:
			out = append(out, ' ')
		}
		space, newline = false, false
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\n':
			if len(out) > 0 && out[len(out)-1] == '\\' && !space && !newline {
				out = append(out, '\n') // a continued line
				continue
			}
			newline = true
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			space = true
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
			space = true
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := bytes.Index(src[i+2:], []byte("*/"))
			if end < 0 {
				i = len(src)
			} else {
				i += 2 + end + 1
			}
			space = true
		case c == '"' || c == '\'':
			flush()
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(src)-1)
			out = append(out, src[i:j+1]...)
			i = j
		default:
			flush()
			out = append(out, c)
		}
	}
	flush()
	return out
}

// classObjects lists the locks and guarded objects of the classes in a
// fixed order: a reused result names them by index.
func classObjects(cl *classes) ([]*Lock, []*Guarded) {
	locks := slices.Clone(cl.locks)
	add := func(l *Lock) {
		if l != nil && !slices.Contains(locks, l) {
			locks = append(locks, l)
		}
	}
	guarded := slices.Clone(cl.guarded)
	for _, g := range cl.guarded {
		add(g.Lock)
	}
	for _, k := range slices.Sorted(maps.Keys(cl.globalLock)) {
		add(cl.globalLock[k])
	}
	for _, k := range slices.Sorted(maps.Keys(cl.fieldLock)) {
		add(cl.fieldLock[k])
	}
	for _, m := range []map[string]*Guarded{cl.globalGuard, cl.fieldGuard} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if g := m[k]; !slices.Contains(guarded, g) {
				guarded = append(guarded, g)
				add(g.Lock)
			}
		}
	}
	return locks, guarded
}

// classDigest describes the lock classes without their positions.
func classDigest(cl *classes) string {
	locks, guarded := classObjects(cl)
	lockIx := func(l *Lock) int { return slices.Index(locks, l) }
	var b strings.Builder
	for _, l := range locks {
		fmt.Fprintf(&b, "L%q|%q|%q|%q|%q|%q|%d\n", l.Name, l.Kind, l.Allocation, l.section, l.strct, l.field, l.offset)
	}
	for _, g := range guarded {
		fmt.Fprintf(&b, "G%q|%q|%d|%q|%q|%q|%t|%t|%q|%q\n", g.Name, g.Kind, lockIx(g.Lock), g.Reason, g.Contains, g.Kernel, g.root, g.pointee, g.strct, g.field)
	}
	for _, k := range slices.Sorted(maps.Keys(cl.globalLock)) {
		fmt.Fprintf(&b, "gl%q=%d\n", k, lockIx(cl.globalLock[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(cl.fieldLock)) {
		fmt.Fprintf(&b, "fl%q=%d\n", k, lockIx(cl.fieldLock[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(cl.globalGuard)) {
		fmt.Fprintf(&b, "gg%q=%d\n", k, slices.Index(guarded, cl.globalGuard[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(cl.fieldGuard)) {
		fmt.Fprintf(&b, "fg%q=%d\n", k, slices.Index(guarded, cl.fieldGuard[k]))
	}
	return b.String()
}

// window is the one changed range between two texts: [at, oldEnd) of the
// old text became [at, newEnd) of the new one.
type window struct {
	at, oldEnd, newEnd int
	oldPos, newPos     cparse.Pos // the positions of oldEnd and newEnd
}

func diff(old, cur []byte) window {
	n := min(len(old), len(cur))
	p := 0
	for p < n && old[p] == cur[p] {
		p++
	}
	s := 0
	for s < n-p && old[len(old)-1-s] == cur[len(cur)-1-s] {
		s++
	}
	w := window{at: p, oldEnd: len(old) - s, newEnd: len(cur) - s}
	w.oldPos, w.newPos = cparse.PosAt(old, w.oldEnd), cparse.PosAt(cur, w.newEnd)
	return w
}

// pos moves a position of the old text; start says whether it begins a
// range (else it ends one, exclusive). ok is false inside the window.
func (w window) pos(p cparse.Pos, start bool) (cparse.Pos, bool) {
	o := p.Offset
	switch {
	case o < 0:
		return p, false
	case o < w.at || !start && o == w.at:
		return p, true
	case o > w.oldEnd || start && o == w.oldEnd:
		if p.Line == w.oldPos.Line {
			p.Col += w.newPos.Col - w.oldPos.Col
		}
		p.Line += w.newPos.Line - w.oldPos.Line
		p.Offset += w.newEnd - w.oldEnd
		return p, true
	}
	return p, false
}

// span moves a span of the main file (others do not move).
func (g *generation) span(s cparse.Span, ok *bool) cparse.Span {
	if s.File != g.path {
		return s
	}
	empty := s.Start.Offset == s.End.Offset
	var ok1, ok2 bool
	s.Start, ok1 = g.pos(s.Start, true)
	s.End, ok2 = g.pos(s.End, !empty)
	if !ok1 || !ok2 {
		*ok = false
	}
	return s
}

// pos moves a position of the previous text: past the changed window, or,
// when it lies in the window (the edits between the versions were in
// several places), with the function body or variable declaration it lies
// in when that region's text is unchanged.
func (g *generation) pos(p cparse.Pos, start bool) (cparse.Pos, bool) {
	if q, ok := g.window.pos(p, start); ok {
		return q, true
	}
	old := g.prev.regions
	i := sort.Search(len(old), func(i int) bool { return old[i].start.Offset > p.Offset || !start && old[i].start.Offset == p.Offset }) - 1
	if i < 0 || p.Offset > old[i].end || start && p.Offset == old[i].end {
		return p, false
	}
	r := old[i]
	j := slices.IndexFunc(g.regions, func(n region) bool { return n.key == r.key })
	if j < 0 || g.regions[j].sum != r.sum || g.regions[j].start.Col != r.start.Col {
		return p, false
	}
	n := g.regions[j]
	p.Offset += n.start.Offset - r.start.Offset
	p.Line += n.start.Line - r.start.Line
	return p, true
}

// region is a function body (from the start of the line of its '{') or a
// variable declaration of the main file, identified by the name of the
// function or first variable, with the hash of its text.
type region struct {
	key   string
	start cparse.Pos
	end   int
	sum   [32]byte
}

func regionsOf(f *cparse.File) []region {
	var out []region
	add := func(key string, start, end int) {
		if start < 0 || end > len(f.Src) || start > end {
			return
		}
		out = append(out, region{key: key, start: cparse.PosAt(f.Src, start), end: end, sum: sha256.Sum256(f.Src[start:end])})
	}
	for _, fn := range f.Funcs {
		if b := fn.BodySpan; b.File == f.Path && b.Start.Offset >= 0 && b.Start.Offset <= len(f.Src) {
			add("func "+fn.Name, lineStart(f.Src, b.Start.Offset), b.End.Offset)
		}
	}
	seen := map[int]bool{}
	for _, v := range f.Vars {
		if d := v.DeclSpan; d.File == f.Path && !seen[d.Start.Offset] {
			seen[d.Start.Offset] = true
			add("var "+v.Name, d.Start.Offset, d.End.Offset)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Offset < out[j].start.Offset })
	return out
}

// move returns old with its positions moved to the new text and its locks
// and guarded objects replaced by this version's; ok is false when a
// position lies in the changed window.
func (g *generation) move(old *unitResult) (*unitResult, bool) {
	ok := true
	locks := map[*Lock]*Lock{}
	lock := func(l *Lock) *Lock {
		if l == nil {
			return nil
		}
		if i, found := g.lockIx[l]; found {
			return g.known[i]
		}
		if n, done := locks[l]; done {
			return n
		}
		n := *l // a lock the analysis could not resolve: its own
		n.Span = g.span(l.Span, &ok)
		locks[l] = &n
		return &n
	}
	lockList := func(ls []*Lock) []*Lock {
		if ls == nil {
			return nil
		}
		out := make([]*Lock, len(ls))
		for i, l := range ls {
			out[i] = lock(l)
		}
		return out
	}
	guarded := func(k *Guarded) *Guarded {
		if k == nil {
			return nil
		}
		if i, found := g.grdIx[k]; found {
			return g.kinds[i]
		}
		ok = false // not one of the classes': do not guess
		return k
	}
	u := &unitResult{stats: old.stats}
	u.findings = make([]Finding, len(old.findings))
	for i, fd := range old.findings {
		fd.Span = g.span(fd.Span, &ok)
		if fd.Related != nil {
			rel := make([]Related, len(fd.Related))
			for j, r := range fd.Related {
				r.Span = g.span(r.Span, &ok)
				rel[j] = r
			}
			fd.Related = rel
		}
		if fd.Fixes != nil {
			fixes := make([]Fix, len(fd.Fixes))
			for j, fx := range fd.Fixes {
				edits := make([]Edit, len(fx.Edits))
				for k, e := range fx.Edits {
					e.Span = g.span(e.Span, &ok)
					edits[k] = e
				}
				fx.Edits = edits
				fixes[j] = fx
			}
			fd.Fixes = fixes
		}
		u.findings[i] = fd
	}
	u.held = make([]HeldRange, len(old.held))
	for i, h := range old.held {
		h.Span = g.span(h.Span, &ok)
		h.TakenAt = g.span(h.TakenAt, &ok)
		h.Locks = lockList(h.Locks)
		u.held[i] = h
	}
	u.refs = make([]Ref, len(old.refs))
	for i, r := range old.refs {
		r.Span = g.span(r.Span, &ok)
		r.Lock = lock(r.Lock)
		r.Guarded = guarded(r.Guarded)
		r.Held = lockList(r.Held)
		u.refs[i] = r
	}
	return u, ok
}
