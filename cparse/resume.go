package cparse

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/cc/v4"
)

// A preamble, as clangd keeps one: the leading #include/#define lines of
// the main file, with every header they read, translated once
// (cc.TranslatePreamble) and reused by every parse whose text starts the
// same way (cc.TranslateAfter translates only the rest). An edit below
// those lines then never preprocesses, parses or type-checks a header
// again, and the files of a check run that start alike share one. A region
// is translated whole the first time it is parsed and as a preamble from
// the second (an edit, a blanking round, another file of the directory
// with the same lines): building one costs about a whole translation, and
// a region parsed once gains nothing from it.
//
// A parse resumed from a preamble reports what a whole translation
// reports: the include bookkeeping done while cc/v4 read the headers (the
// include stack and chains, #pragma once, include errors, the served texts
// positions map into) is kept with the preamble and replayed into each
// parse. Where a resumed translation could differ, the whole file is
// translated instead: cc/v4 panics, the body completes a tag the preamble
// left incomplete (cc.ErrPreambleMismatch). Errors a trimmed vmlinux.h
// could cause are the same resumed or not (the preamble's header is trimmed
// to a superset of the seeds): the trimming retries in translate handle them
// as before, each retry's seeds giving a new preamble, the full header's
// decision resuming from an untrimmed one.

// preambleEnd returns the length of text's preamble region: the leading
// lines that are blank, comments or #include, #define, #undef, #pragma and
// conditional directives, ending at the end of the last directive line
// outside any #if group before the first other line. Line continuations and block
// comments are followed.
func preambleEnd(text []byte) int {
	_, end := regionUnits(text)
	return end
}

// regionUnit is one directive line of a preamble region, or an #if group
// with the lines it holds: the points where a region can be cut.
type regionUnit struct {
	start, end int // from its '#' to past its last line end
}

// regionUnits splits text's preamble region (see preambleEnd) into its
// units and returns the region's length.
func regionUnits(text []byte) (units []regionUnit, end int) {
	depth, start := 0, -1
	for p := range pieces(text, true) {
		switch p.kind {
		case space, newline, comment:
			// Blank and comment lines do not end the region: a comment
			// typed below the last directive (the whole file, when it
			// only includes a header with the code) is body, and does
			// not make a new preamble.
			continue
		case directiveLine:
		default:
			return units, end
		}
		switch name, _ := firstWord(text[p.start+1 : p.end]); name {
		case "include", "define", "undef", "pragma":
		case "if", "ifdef", "ifndef":
			depth++
		case "elif", "else":
		case "endif":
			depth--
		default:
			return units, end // #error, #line, #include_next, ...: leave them to the body
		}
		if p.end == len(text) {
			return units, end // no newline: cc/v4 would read the rest as the body's
		}
		if depth < 0 {
			return units, end // an #endif with no #if
		}
		if start < 0 {
			start = p.start
		}
		if depth == 0 {
			end = p.end + 1
			units = append(units, regionUnit{start: start, end: end})
			start = -1
		}
	}
	return units, end
}

// preamble is one translated preamble and what replaying it needs. pre is
// nil when the region cannot be resumed from (errors, an unreadable
// header): such parses translate the whole file, without
// building the preamble again while its headers are unchanged.
type preamble struct {
	key      string
	seeds    map[string]bool // vmlinux.h trimmed to these; nil: not trimmed
	vmlinux  bool            // vmlinux.h is among the headers read
	pre      *cc.Preamble
	inc      *includeState // after the preamble: replayed into each parse
	src      *sources      // the texts served
	reads    []headerRead  // every file read, to tell when one changed
	missing  []string      // headers found nowhere: one appearing makes the preamble stale
	dirs     []string      // where they were looked for
	owner    string        // the only main file that may use it ("": any of its directory)
	builtFor string        // the main file it was built for
	size     int64         // approximate heap cost

	// The model of the preamble's declarations (the headers' globals,
	// structs and inline functions), built by the first parse that
	// resumes from it: every parse resuming from it has the same nodes
	// first in its AST, and rebuilding their model was a fifth of an edit
	// of a selftest.
	modelOnce sync.Once
	model     *preambleModel
}

// preambleModel is the model of a preamble's declarations.
type preambleModel struct {
	vars    []*Var
	funcs   []*Func
	structs map[string]*Struct
	calls   map[*cc.PostfixExpression]*Call
}

// preambleCache keeps the preambles of a Parser, least recently used first
// out, bounded by count and approximate bytes.
type preambleCache struct {
	mu      sync.Mutex
	entries []*preamble // most recently used last
	bytes   int64
	seen    map[string]bool // keys parsed once: the next parse builds their preamble
}

// maxSeen bounds preambleCache.seen (keys hold whole regions).
const maxSeen = 1024

// firstSight reports whether key has not been parsed before, and
// remembers it. A preamble costs about a whole translation to build and
// its heap to keep: a region parsed once (most files of a check run, whose
// regions differ) is better translated whole.
func (c *preambleCache) firstSight(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[key] {
		return false
	}
	if c.seen == nil || len(c.seen) >= maxSeen {
		c.seen = map[string]bool{}
	}
	c.seen[key] = true
	return true
}

const (
	maxPreambles     = 8
	maxPreambleBytes = 24 << 20 // about three vmlinux.h programs (8 MB each)
	// preambleCostFactor estimates a preamble's heap cost from the bytes of
	// source it translated (measured: see TestPreambleHeapCost).
	preambleCostFactor = 30
)

// get returns a cached preamble for key usable by path with seeds, most
// recent first, and else the seeds of the latest entry built for path that
// trims vmlinux.h (a new preamble unites them with seeds: while a file is
// edited, they only grow; other files' seeds would only make its vmlinux.h
// bigger).
func (c *preambleCache) get(key, path string, seeds map[string]bool, valid func(*preamble) bool) (*preamble, map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var prior map[string]bool
	for i := len(c.entries) - 1; i >= 0; i-- {
		e := c.entries[i]
		if e.key != key || e.owner != "" && e.owner != path {
			continue
		}
		if !valid(e) {
			c.bytes -= e.size
			c.entries = slices.Delete(c.entries, i, i+1)
			continue
		}
		// A region that cannot be a preamble (errors in its headers) is
		// not built again for other seeds while its headers are unchanged.
		if e.pre == nil || e.serves(seeds) {
			c.entries = append(slices.Delete(c.entries, i, i+1), e)
			return e, nil
		}
		if prior == nil && e.seeds != nil && e.builtFor == path {
			prior = e.seeds
		}
	}
	return nil, prior
}

// forget drops the preambles built for the main file path: an editor
// closed it, and a closed file's preamble serves hardly another (each
// trims vmlinux.h to its own names) while holding up to 8 MB each.
func (c *preambleCache) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = slices.DeleteFunc(c.entries, func(e *preamble) bool {
		if e.builtFor == path {
			c.bytes -= e.size
			return true
		}
		return false
	})
}

func (c *preambleCache) put(e *preamble) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A file's preamble for more seeds (types other files' parses learned
	// they need complete, or its edits named) serves every parse the
	// earlier ones served.
	c.entries = slices.DeleteFunc(c.entries, func(old *preamble) bool {
		superseded := old.key == e.key && old.builtFor == e.builtFor && old.owner == e.owner &&
			old.seeds != nil && e.seeds != nil && subset(old.seeds, e.seeds)
		if superseded {
			c.bytes -= old.size
		}
		return superseded
	})
	c.entries = append(c.entries, e)
	c.bytes += e.size
	for len(c.entries) > 1 && (len(c.entries) > maxPreambles || c.bytes > maxPreambleBytes) {
		c.bytes -= c.entries[0].size
		c.entries = c.entries[1:]
	}
}

// serves reports whether a parse trimming vmlinux.h to seeds (nil: not
// trimmed) may resume from e: e's vmlinux.h, if it read one, is trimmed
// alike, to a superset of seeds.
func (e *preamble) serves(seeds map[string]bool) bool {
	return !e.vmlinux || seeds == nil && e.seeds == nil || seeds != nil && e.seeds != nil && subset(seeds, e.seeds)
}

func subset(a, b map[string]bool) bool {
	if len(a) > len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// searchedDirs are the directories a missing header may appear in: the
// search path and the directories of the files that include ("x.h").
func searchedDirs(inc *includeState, reads []headerRead) []string {
	seen := map[string]bool{}
	var dirs []string
	add := func(d string) {
		if d != "" && d != absRoot && d != missingRoot && !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	add(filepath.Dir(inc.main))
	for _, d := range append(slices.Clone(inc.quoted), inc.angle...) {
		add(d)
	}
	for _, r := range reads {
		add(filepath.Dir(r.path))
	}
	return dirs
}

// fresh reports whether every file e read still has the text it read and
// the headers it missed are still missing.
func (p *Parser) fresh(e *preamble, overlay map[string][]byte) bool {
	for _, name := range e.missing {
		for _, d := range e.dirs {
			path := filepath.Join(d, name)
			if _, open := overlay[path]; open {
				return false
			}
			if _, err := os.Stat(path); err == nil {
				return false
			}
		}
	}
	return p.unchanged(e.reads, overlay)
}

// unchanged reports whether every file in reads still has the text it
// was read with, from the same place (the editor's overlay or the disk;
// a header cached from disk is the same slice while its file is
// unchanged).
func (p *Parser) unchanged(reads []headerRead, overlay map[string][]byte) bool {
	for _, r := range reads {
		cur, open := overlay[r.path]
		if r.overlay {
			if !open || !bytes.Equal(cur, r.data) {
				return false
			}
			continue
		}
		if open {
			return false
		}
		data, err := p.headers.read(r.path)
		if err != nil || len(data) != len(r.data) || unsafe.SliceData(data) != unsafe.SliceData(r.data) {
			return false
		}
	}
	return true
}

// resume translates text resumed from the preamble of its first lines
// (building the preamble when none is cached), or from the one its batch
// shares (share.go). used is the preamble, nil when none applies or the
// resumed translation must not be trusted: the caller then translates the
// whole text.
func (p *Parser) resume(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool) (ast *cc.AST, inc *includeState, used *preamble, err error) {
	e, cut, cfg, inc, ok := p.resumeFrom(ctx, f, flags, overlay, text, seeds)
	if !ok {
		return nil, nil, nil, nil
	}
	body := afterPreamble(text, cut)
	ast, pv, err := recovering(func() (*cc.AST, error) {
		return cc.TranslateAfter(cfg, e.pre, []cc.Source{{Name: f.Path + mainSuffix, Value: body}})
	})
	if pv != nil || errors.Is(err, cc.ErrPreambleMismatch) {
		return nil, nil, nil, nil
	}
	return ast, inc, e, err
}

// afterPreamble is the text a translation resumed from a preamble ending
// at cut reads: a copy of text with the preamble region blanked (its
// positions kept) and the EOF guard appended.
func afterPreamble(text []byte, cut int) []byte {
	body := make([]byte, 0, len(text)+len(eofGuard))
	body = append(body, text...)
	blank(body[:cut])
	return append(body, eofGuard...)
}

// resumeFrom finds (or builds) the preamble of text's first lines (which
// end at cut), the file's own or its batch's, and prepares a translation
// resumed from it: the Config and include state, the preamble's served
// texts merged into f's. ok is false when no preamble applies.
func (p *Parser) resumeFrom(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool) (e *preamble, cut int, cfg *cc.Config, inc *includeState, ok bool) {
	if sh := p.batch.of(f.Path); sh != nil {
		e, cut = p.sharedFor(ctx, sh, f, flags, overlay, text, seeds)
	} else {
		e, cut = p.ownPreamble(ctx, f, flags, overlay, text, seeds)
	}
	if e == nil {
		return nil, 0, nil, nil, false
	}
	f.src.merge(e.src)
	f.src.add(preambleName(f.Path), f.Path, text, 0)
	inc = e.inc.clone(f.src, f.Path)
	inc.reserveMain(e.inc.files[e.inc.main+mainSuffix].directives, text)
	fsys := &overlayFS{ctx: ctx, files: overlay, headers: p.headers, inc: inc, count: &p.headerOpens}
	if seeds != nil {
		fsys.vmlinux = p.vmlinux.trimmer(seeds, 0)
	}
	cfg, err := newConfig(flags, fsys)
	if err != nil {
		return nil, 0, nil, nil, false
	}
	return e, cut, cfg, inc, true
}

// ownPreamble returns the cached preamble of text's first lines (which end
// at cut), building it when the file is open or its region was parsed
// before; e is nil when there is none to resume from.
func (p *Parser) ownPreamble(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool) (e *preamble, cut int) {
	if p.opts.NoPreamble {
		return nil, 0
	}
	cut = preambleEnd(text)
	if cut == 0 && len(flags.Forced) == 0 {
		return nil, 0
	}
	key := regionKey(f.Path, flags, text[:cut])
	e, prior := p.preambles.get(key, f.Path, seeds, func(e *preamble) bool { return p.fresh(e, overlay) })
	// A file open in an editor (its text in the overlay) will be edited:
	// its preamble pays off from the first edit, which must not pay for
	// building it. Other files build one on a region's second parse (not
	// on a retry round of the first: a workspace pass would then build,
	// and evict an open file's preamble, for files parsed once), unless
	// only open files build them.
	if _, open := overlay[f.Path]; e == nil && !open {
		if p.opts.OpenPreambles {
			return nil, 0
		}
		if f.sighted != nil && *f.sighted == key {
			return nil, 0
		}
		if p.preambles.firstSight(key) {
			if f.sighted != nil {
				*f.sighted = key
			}
			return nil, 0
		}
	}
	if e == nil {
		// Seeds only grow while a file is edited: the union serves the
		// next edits too.
		if seeds != nil && prior != nil {
			seeds = maps.Clone(seeds)
			maps.Copy(seeds, prior)
		}
		if e = p.buildPreamble(ctx, f.Path, flags, overlay, text, cut, key, seeds); e == nil {
			return nil, 0
		}
		p.preambles.put(e)
	}
	if e.pre == nil {
		return nil, 0
	}
	return e, cut
}

// buildPreamble translates text[:cut] (after the predefined macros,
// builtins and forced includes) of the main file at path as a preamble, or
// records that it cannot be one (pre is nil). It returns nil when
// cancelled.
func (p *Parser) buildPreamble(ctx context.Context, path string, flags flagSet, overlay map[string][]byte, text []byte, cut int, key string, seeds map[string]bool) *preamble {
	p.preambleBuilds.Add(1)
	e := &preamble{key: key, seeds: seeds, builtFor: path,
		src: &sources{files: map[string][]byte{}, maxSize: p.opts.MaxFileSize}}
	var vmlinux func(string, []byte) []byte
	if seeds != nil {
		trim := p.vmlinux.trimmer(seeds, 0)
		vmlinux = func(path string, data []byte) []byte {
			e.vmlinux = true
			return trim(path, data)
		}
	}
	// The main file is served whole (its #include lines decide the
	// include chains), but cc/v4 reads only the region.
	name := preambleName(path)
	e.src.add(name, path, text, 0)
	cfg, sources, fsys, err := p.newRoundOf(ctx, path, e.src, flags, overlay, text, name, bytes.Clone(text[:cut]), vmlinux)
	if err != nil {
		return nil
	}
	fsys.reads, fsys.count = &e.reads, &p.headerOpens
	// A panic leaves no preamble: the whole translation then reports it.
	pre, pv, terr := recovering(func() (*cc.Preamble, error) { return cc.TranslatePreamble(cfg, sources) })
	if ctx.Err() != nil {
		return nil
	}
	if seeds == nil {
		// Untrimmed or not read: any trimming request may use it only if
		// vmlinux.h is not among the headers.
		for _, r := range e.reads {
			e.vmlinux = e.vmlinux || strings.HasSuffix(r.path, "/vmlinux.h")
		}
	}
	inc := fsys.inc
	if pv == nil && terr == nil && len(inc.failed) == 0 {
		e.pre, e.inc = pre, inc
		for _, text := range e.src.files {
			e.size += int64(len(text))
		}
		e.size *= preambleCostFactor
		if len(inc.errs) > 0 {
			e.owner = path // their messages name the main file
		}
		if len(inc.missing) > 0 {
			e.missing = slices.Sorted(maps.Keys(inc.missing))
			e.dirs = searchedDirs(inc, e.reads)
		}
	}
	// What is the main file's, each parse serves again.
	e.src.mu.Lock()
	delete(e.src.files, path)
	delete(e.src.lines, path)
	delete(e.src.names, name)
	delete(e.src.names, path+mainSuffix)
	e.src.mu.Unlock()
	return e
}

// preambleName is the name cc/v4 reads a preamble region by: the same for
// every file of a directory, which share the preamble when their regions
// and flags are the same ("x.h" is searched for in the directory).
func preambleName(path string) string {
	return filepath.Join(filepath.Dir(path), "#bpf-lsp-preamble")
}

// clone returns a copy of s for the main file main (s may have been
// another file of the directory) whose maps and lists can grow without
// changing s, recording served texts into src.
func (s *includeState) clone(src *sources, main string) *includeState {
	c := *s
	c.src, c.main = src, main
	c.files, c.absolute, c.alias, c.dirAlias = maps.Clone(s.files), maps.Clone(s.absolute), maps.Clone(s.alias), maps.Clone(s.dirAlias)
	c.failed, c.once, c.missing = maps.Clone(s.failed), maps.Clone(s.once), maps.Clone(s.missing)
	delete(c.files, s.main+mainSuffix)
	rename := func(sp Span) Span {
		if sp.File == s.main {
			sp.File = main
		}
		return sp
	}
	c.chains = make(map[string][]Span, len(s.chains))
	for k, chain := range s.chains {
		out := make([]Span, len(chain))
		for i, sp := range chain {
			out[i] = rename(sp)
		}
		c.chains[k] = out
	}
	c.stack = slices.Clone(s.stack)
	for i := range c.stack {
		c.stack[i].at = rename(c.stack[i].at)
	}
	c.stack[0].file = main + mainSuffix
	c.errs = make([]Error, len(s.errs))
	for i, e := range s.errs {
		e.Span = rename(e.Span)
		e.Related = slices.Clone(e.Related)
		for j := range e.Related {
			e.Related[j].Span = rename(e.Related[j].Span)
		}
		c.errs[i] = e
	}
	return &c
}

// reserveMain serves the main file's current text in place of the one the
// preamble was built with, whose #include lines were built; the main frame
// keeps its cursor: the #include lines of the region, the same in both,
// have been used. The include chains then start at those lines in text
// (a shared preamble was built from another text, see share.go).
func (s *includeState) reserveMain(built []directive, text []byte) {
	now := s.serve(s.main+mainSuffix, s.main, text, 0).directives
	moved := make(map[Span]Span, len(built))
	for i, d := range built[:min(len(built), len(now))] {
		d.span.File = s.main
		moved[d.span] = now[i].span
	}
	for _, chain := range s.chains {
		if to, ok := moved[chain[0]]; ok {
			chain[0] = to
		}
	}
	for i := range s.stack {
		if to, ok := moved[s.stack[i].at]; ok {
			s.stack[i].at = to
		}
	}
}

// merge adds the texts and names served in from, and their line tables.
func (s *sources) merge(from *sources) {
	from.mu.Lock()
	names, files, lines := maps.Clone(from.names), maps.Clone(from.files), maps.Clone(from.lines)
	from.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names == nil {
		s.names = map[string]servedName{}
	}
	if s.lines == nil {
		s.lines = map[string]*lineTable{}
	}
	maps.Copy(s.names, names)
	maps.Copy(s.files, files)
	maps.Copy(s.lines, lines)
}
