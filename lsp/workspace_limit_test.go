package lsp

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// A closed file is parsed under Options.ClosedMemoryLimit and a document
// under the limit the server was started with, which the pass gives back.
func TestClosedMemoryLimit(t *testing.T) {
	const closed = 96 << 20
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	var mu sync.Mutex
	during := map[string]int64{} // the limit while each file was parsed
	parse := func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error) {
		mu.Lock()
		during[filepath.Base(path)] = debug.SetMemoryLimit(-1)
		mu.Unlock()
		return p.Parse(ctx, path, overlay)
	}
	dir := workspaceDir(t, map[string]string{"a.bpf.c": clean, "b.bpf.c": clean})
	c := startServer(t, clientOptions{root: dir, capabilities: workspaceClient, parse: parse, closedMemoryLimit: closed})
	c.waitFor("the end of the workspace pass", func() bool { return slices.Contains(c.progressKinds(), "end") })
	c.waitDiags(c.open(filepath.Join(dir, "doc.bpf.c"), clean), 1)
	mu.Lock()
	defer mu.Unlock()
	for name, want := range map[string]int64{"a.bpf.c": closed, "b.bpf.c": closed, "doc.bpf.c": before} {
		if got, ok := during[name]; !ok || got != want {
			t.Errorf("%s parsed under a %d-byte memory limit (parsed: %v), want %d", name, got, ok, want)
		}
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("memory limit %d after the pass, want %d back", got, before)
	}
}

// Overlapping analyses: while a document is analysed the server's own
// limit stands, the closed files' limit only while they alone are.
func TestMemoryLimitsOverlap(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const closed = 100 << 20
	m := newMemoryLimits(closed, 0)
	check := func(when string, want int64) {
		t.Helper()
		if got := debug.SetMemoryLimit(-1); got != want {
			t.Errorf("%s: limit %d, want %d", when, got, want)
		}
	}
	leaveClosed := m.enter(loadClosed)
	check("closed file", closed)
	leaveOpen := m.enter(loadOpen)
	check("closed file and document", before)
	leaveClosed()
	check("document", before)
	leaveClosed2 := m.enter(loadClosed)
	check("document and closed file", before)
	leaveOpen()
	check("closed file again", closed)
	leaveClosed2()
	check("nothing", before)
	newMemoryLimits(0, 0).enter(loadClosed)()
	check("no closed files' limit", before)
}

// A document's first analysis runs the collector at the opening percent
// while any runs, the steady one otherwise.
func TestOpeningGCPercent(t *testing.T) {
	steady := debug.SetGCPercent(150)
	t.Cleanup(func() { debug.SetGCPercent(steady) })
	m := newMemoryLimits(0, 400)
	percent := func() int {
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		return p
	}
	check := func(when string, want int) {
		t.Helper()
		if got := percent(); got != want {
			t.Errorf("%s: GOGC %d, want %d", when, got, want)
		}
	}
	check("nothing", 150)
	leaveEdit := m.enter(loadOpen)
	check("an edit", 150)
	leaveOpening := m.enter(loadOpening)
	check("an edit and an opening", 400)
	leaveEdit()
	check("an opening", 400)
	leaveOpening()
	check("nothing again", 150)
	newMemoryLimits(0, 0).enter(loadOpening)()
	check("no opening percent", 150)
}
