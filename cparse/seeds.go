package cparse

import (
	"bytes"
	"context"
	"io"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"modernc.org/cc/v4"
)

// The trimming seeds: the names whose vmlinux.h declarations a file's
// translation gets (see vmlinux.go). Preprocessing the whole file to find
// them costs as much as a quarter of a parse, so they are read from the
// texts instead:
//
//   - the headers' part: which headers a file reads depends only on its
//     flags, its directory, its preprocessor lines and the headers' own. A
//     header pass preprocesses exactly those lines (every header served as
//     its preprocessor lines only) to learn which files are read and
//     whether vmlinux.h is one of them. Its result is kept per regionKey
//     for as long as the files it read are unchanged: the files of a
//     `check` run that include the same headers, and every edit of a file,
//     share it.
//   - each text's part: its identifiers and struct/union/enum tags outside
//     comments, expansion or not; read once per header content. Every name
//     preprocessing can produce is in some text (a macro's replacement list
//     is in its header), except those that ## builds.
//   - names ## builds: for each macro the file uses (transitively through
//     the replacement lists), each `prefix ## param ## suffix` with the
//     file's own identifiers as the argument.
//
// A text name preprocessing would not produce (a comment-free #if 0 branch,
// an unused macro) only makes the trimmed header a little larger. A name
// built some other way (a pasted argument that is itself a macro argument)
// is missed here; translate's retry from the errors and the Parser's
// learned names cover it, as they cover a member access through a type the
// trimming left incomplete.

// seedsFor returns the trimming seeds of the main file with the given text
// (the vmlinux.h names it can reach) and whether it reaches vmlinux.h at
// all. seeds is the caller's to modify. A cancelled ctx or an unusable
// configuration gives (nil, false).
func (p *Parser) seedsFor(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, text []byte) (seeds map[string]bool, usesVmlinux bool) {
	body := scanText(text)
	hp := p.headerPassFor(ctx, f, flags, overlay, includePrefix(body.directives))
	if hp == nil || !hp.usesVmlinux {
		return nil, false
	}
	seeds = maps.Clone(hp.seeds)
	for _, names := range [][]string{body.idents, body.tags} {
		for _, n := range names {
			if hp.defines(n) {
				seeds[n] = true
			}
		}
	}
	// The macros the body uses, transitively, and the names their ##
	// operators build from the body's identifiers.
	texts := append(hp.texts[:len(hp.texts):len(hp.texts)], body)
	reached := map[string]bool{}
	var queue []string
	visit := func(ids []string) {
		for _, id := range ids {
			if reached[id] {
				continue
			}
			for _, t := range texts {
				if t.macros[id] != nil {
					reached[id] = true
					queue = append(queue, id)
					break
				}
			}
		}
	}
	visit(body.idents)
	pastes := map[paste]bool{}
	for len(queue) > 0 {
		name := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, t := range texts {
			if m := t.macros[name]; m != nil {
				visit(m.idents)
				for _, ps := range m.pastes {
					pastes[ps] = true
				}
			}
		}
	}
	for ps := range pastes {
		for _, id := range body.idents {
			if n := ps.build(id); hp.defines(n) {
				seeds[n] = true
			}
		}
	}
	return seeds, true
}

// headerPass is what preprocessing a file's preprocessor lines learned.
type headerPass struct {
	reads       []headerRead // every file read, as read: the pass holds while they are unchanged
	usesVmlinux bool
	vmlinux     []*vmIndex      // the vmlinux.h files reached
	texts       []*textSeeds    // what the texts read (and the builtins) hold
	seeds       map[string]bool // their names that vmlinux.h declares
}

// defines reports whether a vmlinux.h the pass reached declares name.
func (hp *headerPass) defines(name string) bool {
	for _, idx := range hp.vmlinux {
		if _, ok := idx.byName[name]; ok {
			return true
		}
	}
	return false
}

// includePrefix returns the preprocessor lines (as scanText gives them) up
// to the last #include: those after it cannot change which files are read.
func includePrefix(directives []byte) []byte {
	end := 0
	for off := 0; off < len(directives); {
		line := directives[off:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		off += len(line)
		if kw := bytes.TrimLeft(bytes.TrimLeft(line, " \t\f\v\r")[1:], " \t\f\v\r"); bytes.HasPrefix(kw, []byte("include")) || bytes.HasPrefix(kw, []byte("import")) {
			end = off
		}
	}
	return directives[:end]
}

// regionKey identifies a region of the main file at path as every parse
// of it reads the same: the flags, the main file's directory (where "x.h"
// is looked for first) and the region's text. The header passes key their
// preprocessor lines up to the last #include by it (as includePrefix gives
// them; with those files' texts they decide a pass), the preamble cache its
// leading directive lines.
func regionKey(path string, flags flagSet, region []byte) string {
	return strings.Join(flags.args(), "\x00") + "\x01" + filepath.Dir(path) + "\x01" + string(region)
}

// maxHeaderPasses bounds the header passes a Parser keeps (each holds the
// few thousand vmlinux.h names of its headers, about 80 KB). The 798
// kernel selftests have about 300 distinct sets of #include lines, but
// files that share one are mostly neighbours in path order, the order of
// check and of the server's workspace pass: 64 keeps check's CPU time as
// it was with 256 and the server's long-lived heap 16 MB smaller.
const maxHeaderPasses = 64

// headerPasses keeps header passes by regionKey, the most recently used
// last.
type headerPasses struct {
	mu    sync.Mutex
	byKey map[string]*headerPass
	order []string
	runs  atomic.Int64 // header passes run (tests read it)
}

func (c *headerPasses) get(key string) *headerPass {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byKey[key]
}

func (c *headerPasses) put(key string, hp *headerPass) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = map[string]*headerPass{}
	}
	if _, ok := c.byKey[key]; ok {
		for i, k := range c.order {
			if k == key {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	c.byKey[key] = hp
	c.order = append(c.order, key)
	for len(c.order) > maxHeaderPasses {
		delete(c.byKey, c.order[0])
		c.order = c.order[1:]
	}
}

// headerPassFor returns the header pass of a main file whose preprocessor
// lines are directives: a kept one whose files are unchanged, else a new
// one (kept unless a header was missing: creating it changes the result).
func (p *Parser) headerPassFor(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, directives []byte) *headerPass {
	key := regionKey(f.Path, flags, directives)
	if hp := p.passes.get(key); hp != nil && p.unchanged(hp.reads, overlay) {
		return hp
	}
	hp, complete := p.runHeaderPass(ctx, f, flags, overlay, directives)
	if hp != nil && complete {
		p.passes.put(key, hp)
	}
	return hp
}

// runHeaderPass preprocesses directives as the main file's text, every
// header served as its preprocessor lines and vmlinux.h as nothing.
// complete is false when a header was missing.
func (p *Parser) runHeaderPass(ctx context.Context, f *File, flags flagSet, overlay map[string][]byte, directives []byte) (hp *headerPass, complete bool) {
	p.passes.runs.Add(1)
	cfg, sources, fsys, err := p.newRound(ctx, f, flags, overlay, directives, nil)
	if err != nil {
		return nil, false
	}
	hp = &headerPass{}
	fsys.reads = &hp.reads
	fsys.serveAs = func(name, real string, data []byte) []byte {
		if filepath.Base(name) == "vmlinux.h" {
			hp.usesVmlinux = true
			hp.vmlinux = append(hp.vmlinux, p.vmlinux.get(name, data).idx)
			return nil
		}
		t := p.scans.get(real, data)
		hp.texts = append(hp.texts, t)
		return t.directives
	}
	cc.Preprocess(cfg, sources, io.Discard) // errors show up again in Translate
	if ctx.Err() != nil {
		return nil, false
	}
	if !hp.usesVmlinux {
		return hp, len(fsys.inc.missing) == 0
	}
	for _, s := range sources {
		if v, ok := s.Value.(string); ok && !strings.HasSuffix(s.Name, mainSuffix) {
			hp.texts = append(hp.texts, scanText([]byte(v))) // the predefined macros and builtins
		}
	}
	hp.seeds = map[string]bool{}
	for _, t := range hp.texts {
		for _, names := range [][]string{t.idents, t.tags} {
			for _, n := range names {
				if hp.defines(n) {
					hp.seeds[n] = true
				}
			}
		}
	}
	return hp, len(fsys.inc.missing) == 0
}

// textSeeds is what one text contributes to the seeds, read as the
// preprocessor's first phases see it (backslash-newline joins lines,
// comments are spaces) without expanding anything.
type textSeeds struct {
	directives []byte               // the preprocessor lines, comments removed
	idents     []string             // identifiers outside comments, once each
	tags       []string             // "struct x", "union x", "enum x" outside comments
	macros     map[string]*macroDef // by name, every #define merged
}

// macroDef is what a #define's replacement list holds for the seeds.
type macroDef struct {
	idents []string // its identifiers: further macros to follow
	pastes []paste
}

// paste is a name a ## operator builds from one macro argument: prefix +
// argument + suffix, a tag when tag is "struct", "union" or "enum".
type paste struct{ tag, prefix, suffix string }

func (ps paste) build(arg string) string {
	n := ps.prefix + arg + ps.suffix
	if ps.tag != "" {
		return ps.tag + " " + n
	}
	return n
}

// maxScans bounds the texts a scanCache keeps.
const maxScans = 1024

// scanCache keeps scanText's result per header text, by path and the
// address of the text: the header cache serves an unchanged header as the
// same slice.
type scanCache struct {
	mu      sync.Mutex
	entries map[directiveKey]*textSeeds
}

func (c *scanCache) get(path string, text []byte) *textSeeds {
	key := directiveKey{path: path, data: weak.Make(unsafe.SliceData(text)), size: len(text)}
	c.mu.Lock()
	s, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return s
	}
	s = scanText(text)
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxScans {
		c.entries = map[directiveKey]*textSeeds{}
	}
	c.entries[key] = s
	c.mu.Unlock()
	return s
}

// scanText reads a C text's preprocessor lines, names and macros.
func scanText(text []byte) *textSeeds {
	clean := withoutComments(text)
	s := &textSeeds{macros: map[string]*macroDef{}}
	seen := map[string]bool{}
	var prev string // the identifier before the current one, if nothing else came between
	for i := 0; i < len(clean); {
		c := clean[i]
		if !isIdentStart(c) {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' {
				prev = ""
			}
			i++
			continue
		}
		j := i + 1
		for j < len(clean) && isIdentByte(clean[j]) {
			j++
		}
		id := string(clean[i:j])
		if !seen[id] {
			seen[id] = true
			s.idents = append(s.idents, id)
		}
		if prev == "struct" || prev == "union" || prev == "enum" {
			if tag := prev + " " + id; !seen[tag] {
				seen[tag] = true
				s.tags = append(s.tags, tag)
			}
		}
		prev = id
		i = j
	}
	for line := range bytes.Lines(clean) {
		t := bytes.TrimLeft(line, " \t\f\v\r")
		if len(t) == 0 || t[0] != '#' {
			continue
		}
		s.directives = append(s.directives, line...)
		if name, m := parseDefine(t); m != nil {
			if old := s.macros[name]; old != nil {
				old.idents = append(old.idents, m.idents...)
				old.pastes = append(old.pastes, m.pastes...)
			} else {
				s.macros[name] = m
			}
		}
	}
	if n := len(s.directives); n > 0 && s.directives[n-1] != '\n' {
		s.directives = append(s.directives, '\n')
	}
	return s
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseDefine reads a "#define NAME(params) replacement" line (comments
// removed, leading blanks trimmed): the identifiers and ## names of the
// replacement list. m is nil for other lines.
func parseDefine(line []byte) (name string, m *macroDef) {
	toks := ppTokens(line[1:])
	if len(toks) < 2 || toks[0] != "define" || !isIdentStart(toks[1][0]) {
		return "", nil
	}
	name, toks = toks[1], toks[2:]
	params := map[string]bool{}
	// A function-like macro's "(" follows its name without a blank.
	if after := bytes.TrimLeft(line[1:], " \t"); len(toks) > 0 && toks[0] == "(" {
		after = bytes.TrimLeft(after[len("define"):], " \t")
		if len(after) > len(name) && after[len(name)] == '(' {
			i := 1
			for ; i < len(toks) && toks[i] != ")"; i++ {
				switch p := toks[i]; {
				case p == "...":
					params["__VA_ARGS__"] = true
				case isIdentStart(p[0]):
					params[p] = true
				}
			}
			toks = toks[min(i+1, len(toks)):]
		}
	}
	m = &macroDef{}
	for i, t := range toks {
		if isIdentStart(t[0]) && !params[t] {
			m.idents = append(m.idents, t)
		}
		if t != "##" || i == 0 || i >= 2 && toks[i-2] == "##" {
			continue // not the first ## of a chain
		}
		// The chain of operands joined by ## starting at toks[i-1].
		start, end := i-1, i+1
		for end+1 < len(toks) && toks[end+1] == "##" {
			end += 2
		}
		if end >= len(toks) {
			continue
		}
		ps, holes := paste{}, 0
		for k := start; k <= end; k += 2 {
			switch op := toks[k]; {
			case params[op]:
				holes++
			case !isIdentByte(op[0]):
				holes = 2 // not a name
			case holes == 0:
				ps.prefix += op
			default:
				ps.suffix += op
			}
		}
		if holes != 1 || ps.prefix == "" && ps.suffix == "" {
			continue
		}
		if start > 0 {
			if kw := toks[start-1]; kw == "struct" || kw == "union" || kw == "enum" {
				ps.tag = kw
			}
		}
		m.pastes = append(m.pastes, ps)
	}
	return name, m
}

// ppTokens splits a line into rough preprocessing tokens: identifiers,
// numbers, "##", "...", string and character literals, single characters.
func ppTokens(line []byte) []string {
	var out []string
	for i := 0; i < len(line); {
		c := line[i]
		j := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
			i++
			continue
		case isIdentByte(c):
			for j < len(line) && (isIdentByte(line[j]) || line[j] == '.') && !(line[j] == '.' && isIdentStart(c)) {
				j++
			}
		case c == '"' || c == '\'':
			for j < len(line) && line[j] != c {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(line))
		case c == '#' && j < len(line) && line[j] == '#':
			j++
		case c == '.' && bytes.HasPrefix(line[i:], []byte("...")):
			j = i + 3
		}
		out = append(out, string(line[i:j]))
		i = j
	}
	return out
}
