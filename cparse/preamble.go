package cparse

import (
	"sync"
	"unsafe"
	"weak"
)

// What an edit can reuse besides the translated preamble (resume.go): header
// texts (headerCache), the vmlinux.h index and trimmed texts
// (vmlinuxCache), what the headers contribute to the trimming seeds and
// whether a file reaches vmlinux.h at all (seeds.go), and here each
// header's #include lines.

// directiveCache keeps the #include lines scanned from header texts that
// are served again and again (the same slice from the header or vmlinux.h
// caches), so a parse does not run the #include regexp over every header,
// the trimmed vmlinux.h included, once more.
var directiveCache = struct {
	sync.Mutex
	entries map[directiveKey][]directive
}{entries: map[directiveKey][]directive{}}

// maxDirectiveEntries bounds directiveCache (headers of all open files).
const maxDirectiveEntries = 512

// directiveKey names a text by a weak pointer to it: a text no other
// cache holds (the trimmed vmlinux.h of a closed file) is not kept alive by
// its directives, and weak pointers to a new text at a dead one's address
// differ. Served texts are always heap memory (read from disk, the
// editor's buffers, rewritten): weak.Make throws on read-only data.
type directiveKey struct {
	path string
	data weak.Pointer[byte]
	size int
}

// cachedDirectives is scanDirectives(path, text, table()) for a text seen
// before at the same address, else it scans and remembers.
func cachedDirectives(path string, text []byte, table func() *lineTable) []directive {
	if len(text) == 0 {
		return nil
	}
	key := directiveKey{path: path, data: weak.Make(unsafe.SliceData(text)), size: len(text)}
	directiveCache.Lock()
	d, ok := directiveCache.entries[key]
	directiveCache.Unlock()
	if ok {
		return d
	}
	d = scanDirectives(path, text, table())
	directiveCache.Lock()
	if len(directiveCache.entries) >= maxDirectiveEntries {
		clear(directiveCache.entries)
	}
	directiveCache.entries[key] = d
	directiveCache.Unlock()
	return d
}
