package cparse

import "testing"

// A file's preamble rebuilt for more seeds replaces its earlier ones (while
// a workspace pass runs, every type it learns a file needs complete grows
// the open file's seeds): they would only fill the cache. Another file's,
// or one for other seeds, stays.
func TestPreambleSuperseded(t *testing.T) {
	var c preambleCache
	first := &preamble{key: "region", builtFor: "/a.c", seeds: map[string]bool{"struct x": true}, size: 10}
	other := &preamble{key: "region", builtFor: "/b.c", seeds: map[string]bool{"struct x": true}, size: 20}
	apart := &preamble{key: "region", builtFor: "/a.c", seeds: map[string]bool{"struct z": true}, size: 40}
	grown := &preamble{key: "region", builtFor: "/a.c", seeds: map[string]bool{"struct x": true, "struct y": true}, size: 80}
	for _, e := range []*preamble{first, other, apart, grown} {
		c.put(e)
	}
	if len(c.entries) != 3 || c.entries[0] != other || c.entries[1] != apart || c.entries[2] != grown || c.bytes != 140 {
		t.Errorf("cache holds %d preambles of %d bytes, want those for /b.c, other seeds and the grown seeds (140 bytes)", len(c.entries), c.bytes)
	}
}
