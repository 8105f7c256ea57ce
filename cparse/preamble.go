package cparse

import (
	"regexp"
	"strings"
	"sync"
	"unsafe"
)

// What an edit can reuse besides the translated preamble (resume.go): header
// texts (headerCache), the vmlinux.h index and trimmed texts
// (vmlinuxCache), the trimming seeds (seedCache), and here whether a file
// reaches vmlinux.h at all and each header's #include lines.

// preprocessorLine matches every preprocessor line: whether vmlinux.h is
// reached depends only on these (and on the headers and flags).
var preprocessorLine = regexp.MustCompile(`(?m)^[ \t]*#.*$`)

// preambleKey identifies what decides which headers a parse of f reads:
// its flags and its preprocessor lines.
func preambleKey(f *File) string {
	return strings.Join(f.Flags, "\x00") + "\x01" + strings.Join(preprocessorLine.FindAllString(string(f.Src), -1), "\n")
}

// withoutVmlinux reports whether the last parse of f found that it does
// not reach vmlinux.h and nothing deciding that has changed since: the
// seed preprocessing (a whole preprocessing of the file) is then skipped.
func (p *Parser) withoutVmlinux(f *File) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	key, ok := p.noVmlinux[f.Path]
	return ok && key == preambleKey(f)
}

// recordVmlinux remembers whether f reaches vmlinux.h.
func (p *Parser) recordVmlinux(f *File, uses bool) {
	key := ""
	if !uses {
		key = preambleKey(f)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if uses {
		delete(p.noVmlinux, f.Path)
		return
	}
	p.noVmlinux[f.Path] = key
}

// maxSeeded bounds the files whose seeds a Parser keeps: each holds every
// identifier and macro name of its preprocessed headers (megabytes), and a
// run of check over hundreds of files would otherwise keep them all.
const maxSeeded = 64

// rememberSeeds keeps what the seed preprocessing of path found, forgetting
// the file remembered longest ago beyond maxSeeded.
func (p *Parser) rememberSeeds(path string, c *seedCache) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.seeded[path]; !ok {
		p.seedOrder = append(p.seedOrder, path)
	}
	p.seeded[path] = c
	for len(p.seedOrder) > maxSeeded {
		delete(p.seeded, p.seedOrder[0])
		p.seedOrder = p.seedOrder[1:]
	}
}

// directiveCache keeps the #include lines scanned from header texts that
// are served again and again (the same slice from the header or vmlinux.h
// caches), so a parse does not run the #include regexp over every header,
// the trimmed vmlinux.h included, once more.
var directiveCache = struct {
	sync.Mutex
	entries map[directiveKey]directiveEntry
}{entries: map[directiveKey]directiveEntry{}}

// maxDirectiveEntries bounds directiveCache (headers of all open files).
const maxDirectiveEntries = 512

type directiveKey struct {
	path string
	data *byte
	size int
}

type directiveEntry struct {
	text       []byte // held, so the address in the key is never reused for other text
	directives []directive
}

// cachedDirectives is scanDirectives(path, text, table()) for a text seen
// before at the same address, else it scans and remembers.
func cachedDirectives(path string, text []byte, table func() *lineTable) []directive {
	if len(text) == 0 {
		return nil
	}
	key := directiveKey{path: path, data: unsafe.SliceData(text), size: len(text)}
	directiveCache.Lock()
	e, ok := directiveCache.entries[key]
	directiveCache.Unlock()
	if ok {
		return e.directives
	}
	d := scanDirectives(path, text, table())
	directiveCache.Lock()
	if len(directiveCache.entries) >= maxDirectiveEntries {
		clear(directiveCache.entries)
	}
	directiveCache.entries[key] = directiveEntry{text: text, directives: d}
	directiveCache.Unlock()
	return d
}
