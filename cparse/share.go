package cparse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"maps"
	"path/filepath"
	"sync"
)

// Preambles shared by the files of a batch (bpf-lsp check). A file parsed
// once gains nothing from its own preamble (resume.go), but the files of a
// batch are known up front, and most of them start with the same few
// #include lines: on the 798 kernel selftests, 755 files share their first
// directive lines (comments apart) with another. ShareHeaders groups them:
// each group's common lines, without their comments, are translated once
// as a preamble, with vmlinux.h trimmed to the union of the members'
// seeds, and each member translates only what follows (its own further
// #include lines and its code), as an edit resumes from its preamble.
//
// A preamble holds the headers' AST (megabytes): the batch is parsed in its
// order and at most maxShared of them are alive at once. Which ones is
// decided up front, as an optimal cache would (the next use farthest away
// is dropped), and each is dropped after its last member's parse.
//
// Positions: the members' comments differ from the preamble's text, so
// the include chains recorded while the preamble read its headers are
// moved to the member's own #include lines (reserveMain); the preamble's
// lines declare nothing that carries a position into the main file.

// maxShared bounds the shared preambles alive at once.
const maxShared = 4

// batchPlan is the preamble shared by each file of a batch not parsed yet.
type batchPlan struct {
	mu     sync.Mutex
	byPath map[string]*sharedPreamble
}

// sharedPreamble is one preamble of a batch and the files that use it.
type sharedPreamble struct {
	canon   []byte   // the members' first directive lines, comments removed
	units   int      // how many region units of each member canon covers
	members []string // in batch order

	mu    sync.Mutex
	left  int       // members not parsed yet: at 0 the preamble is dropped
	built bool      // e is decided
	e     *preamble // nil when it could not be built
}

// ShareHeaders plans the parsing of paths, in this order and each once
// (other parses are unaffected), with preambles shared between files that
// start with the same directive lines.
func (p *Parser) ShareHeaders(paths []string, overlay map[string][]byte) {
	type file struct {
		path  string
		keys  []string // keys[k-1] identifies its first k region units, flags and directory included
		units [][]byte // their canonical text
	}
	var files []file
	count := map[string]int{}
	seen := map[string]bool{}
	for _, path := range paths {
		path, err := filepath.Abs(path)
		if err != nil || seen[path] {
			continue // a file listed twice is planned for its first parse
		}
		seen[path] = true
		text, err := p.mainText(path, overlay)
		if err != nil {
			continue
		}
		flags, _ := p.flagsFor(path)
		units, _ := regionUnits(text)
		f := file{path: path}
		// Hashed: the keys of a region of many long lines would take
		// space quadratic in its length.
		h := sha256.New()
		h.Write([]byte(regionKey(path, flags, nil)))
		for _, u := range units {
			c := canonical(text[u.start:u.end])
			h.Write(c)
			key := string(h.Sum(nil))
			f.keys = append(f.keys, key)
			f.units = append(f.units, c)
			count[key]++
		}
		files = append(files, f)
	}
	// Each file takes its longest prefix another file has too, then a
	// shorter one while no other file took the same.
	choice := make([]int, len(files)) // units covered, 0: none
	deepestShared := func(f file, below int) int {
		for k := below; k > 0; k-- {
			if count[f.keys[k-1]] >= 2 {
				return k
			}
		}
		return 0
	}
	for i, f := range files {
		choice[i] = deepestShared(f, len(f.keys))
	}
	for changed := true; changed; {
		taken := map[string]int{}
		for i, f := range files {
			if choice[i] > 0 {
				taken[f.keys[choice[i]-1]]++
			}
		}
		changed = false
		for i, f := range files {
			if k := choice[i]; k > 0 && taken[f.keys[k-1]] < 2 {
				choice[i], changed = deepestShared(f, k-1), true
			}
		}
	}
	// Which preambles are alive, in batch order: a new one drops the one
	// whose next use is farthest away (itself, if that is it).
	next := make([]int, len(files))
	after := map[string]int{}
	for i := len(files) - 1; i >= 0; i-- {
		next[i] = -1
		if k := choice[i]; k > 0 {
			key := files[i].keys[k-1]
			if j, ok := after[key]; ok {
				next[i] = j
			}
			after[key] = i
		}
	}
	type alive struct {
		sh   *sharedPreamble
		next int
	}
	live := map[string]*alive{}
	var all []*sharedPreamble
	for i, f := range files {
		var a *alive
		if k := choice[i]; k > 0 {
			key := f.keys[k-1]
			if a = live[key]; a == nil && next[i] >= 0 {
				a = &alive{sh: &sharedPreamble{canon: bytes.Join(f.units[:k], nil), units: k}}
				live[key] = a
				all = append(all, a.sh)
			}
			if a != nil {
				if a.next = next[i]; a.next < 0 {
					delete(live, key)
				}
				if len(live) > maxShared {
					far := key
					for k, b := range live {
						if b.next > live[far].next {
							far = k
						}
					}
					if delete(live, far); far == key && len(a.sh.members) == 0 {
						a = nil // dropped before its next use
					}
				}
			}
		}
		// A file that would be translated alone takes the longest alive
		// preamble its lines start with.
		for d := len(f.keys); a == nil && d > 0; d-- {
			a = live[f.keys[d-1]]
		}
		if a != nil {
			a.sh.members = append(a.sh.members, f.path)
		}
	}
	plan := map[string]*sharedPreamble{}
	for _, sh := range all {
		if len(sh.members) < 2 {
			continue
		}
		sh.left = len(sh.members)
		for _, m := range sh.members {
			plan[m] = sh
		}
	}
	p.batch.mu.Lock()
	p.batch.byPath = plan
	p.batch.mu.Unlock()
}

// canonical is the text of a region unit as it is shared: each directive
// line without comments or surrounding blanks, blank lines dropped.
func canonical(unit []byte) []byte {
	var out []byte
	for line := range bytes.Lines(withoutComments(unit)) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}

// of returns the preamble planned for the next parse of path, if any.
func (b *batchPlan) of(path string) *sharedPreamble {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byPath[path]
}

// parsed records that path's planned parse is done: the preamble is
// dropped after its last member's.
func (b *batchPlan) parsed(path string) {
	b.mu.Lock()
	sh := b.byPath[path]
	delete(b.byPath, path)
	b.mu.Unlock()
	if sh == nil {
		return
	}
	sh.mu.Lock()
	if sh.left--; sh.left == 0 {
		sh.e = nil
	}
	sh.mu.Unlock()
}

// sharedFor returns the batch's preamble sh for text and the length of
// the lines it covers; e is nil when text does not start with sh's lines
// (blanked by a recovery round), the preamble could not be built, or its
// vmlinux.h lacks some of seeds.
func (p *Parser) sharedFor(ctx context.Context, sh *sharedPreamble, f *File, flags flagSet, overlay map[string][]byte, text []byte, seeds map[string]bool) (e *preamble, cut int) {
	units, _ := regionUnits(text)
	if len(units) < sh.units {
		return nil, 0
	}
	var lines []byte
	for _, u := range units[:sh.units] {
		lines = append(lines, canonical(text[u.start:u.end])...)
	}
	if !bytes.Equal(lines, sh.canon) {
		return nil, 0
	}
	sh.mu.Lock()
	if !sh.built || sh.e != nil && sh.e.pre != nil && !sh.e.serves(seeds) && seeds != nil && sh.e.seeds != nil {
		sh.e, sh.built = p.buildShared(ctx, sh, f.Path, flags, overlay, seeds), ctx.Err() == nil
	}
	e = sh.e
	sh.mu.Unlock()
	if e == nil || e.pre == nil || e.owner != "" || !e.serves(seeds) || !p.fresh(e, overlay) {
		return nil, 0
	}
	return e, units[sh.units-1].end
}

// buildShared translates sh's lines as the main file at path, with
// vmlinux.h trimmed to what every member needs (and what parses so far
// learned).
func (p *Parser) buildShared(ctx context.Context, sh *sharedPreamble, path string, flags flagSet, overlay map[string][]byte, need map[string]bool) *preamble {
	var seeds map[string]bool
	if sh.e != nil {
		seeds = maps.Clone(sh.e.seeds)
		maps.Copy(seeds, need)
	} else if !p.opts.NoTrim {
		for _, m := range sh.members {
			text, err := p.mainText(m, overlay)
			if err != nil {
				continue
			}
			mf := &File{Path: m, Src: text, src: &sources{files: map[string][]byte{}, maxSize: p.opts.MaxFileSize}}
			if s, uses := p.seedsFor(ctx, mf, flags, overlay, text); uses {
				if seeds == nil {
					seeds = map[string]bool{}
				}
				maps.Copy(seeds, s)
			}
		}
		if seeds != nil {
			p.mu.Lock()
			maps.Copy(seeds, p.learned)
			p.mu.Unlock()
		}
	}
	return p.buildPreamble(ctx, path, flags, overlay, sh.canon, len(sh.canon), "", seeds)
}
