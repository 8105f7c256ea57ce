package lsp

import (
	"runtime/debug"
	"sync"
)

// memoryLimits sets the runtime's collector from what the server is
// analysing. While only closed files are (the workspace pass, one at a
// time), Options.ClosedMemoryLimit caps its resident set; while an open
// document is, the limit the server started with stands (a big file's
// parse must not run the collector without pause). While a document's
// first analysis runs, the collector runs at Options.OpeningGCPercent: the
// parse builds its whole live heap (the ASTs) from a small one, which the
// steady setting would mark several times over. Analyses overlap (a
// document preempts the pass, documents run in parallel slots), so the
// settings follow the counts rather than each analysis setting and
// restoring them, which left a document analysed under the closed files'
// limit when the two overlapped.
type memoryLimits struct {
	mu                     sync.Mutex
	base, closed           int64 // closed 0: leave the limit alone
	percent, opening       int   // opening 0: leave the collector's percent alone
	nOpen, nClosed, nFirst int
}

// load is what one analysis is of.
type load int

const (
	loadClosed  load = iota // a closed file (the workspace pass)
	loadOpen                // an open document
	loadOpening             // an open document's first analysis
)

func newMemoryLimits(closed int64, opening int) *memoryLimits {
	m := &memoryLimits{base: debug.SetMemoryLimit(-1), closed: closed, opening: opening}
	if opening > 0 {
		m.percent = debug.SetGCPercent(opening) // the only way to read it
		debug.SetGCPercent(m.percent)
	}
	return m
}

// enter counts one analysis until the returned function is called, and
// sets the collector accordingly.
func (m *memoryLimits) enter(l load) (leave func()) {
	if m.closed == 0 && m.opening == 0 {
		return func() {}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	counts := []*int{&m.nClosed}
	if l != loadClosed {
		counts = []*int{&m.nOpen}
	}
	if l == loadOpening {
		counts = append(counts, &m.nFirst)
	}
	for _, n := range counts {
		*n++
	}
	m.apply()
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, n := range counts {
			*n--
		}
		m.apply()
	}
}

func (m *memoryLimits) apply() {
	if m.closed != 0 {
		limit := m.base
		if m.nOpen == 0 && m.nClosed > 0 {
			limit = m.closed
		}
		debug.SetMemoryLimit(limit)
	}
	if m.opening != 0 {
		percent := m.percent
		if m.nFirst > 0 {
			percent = m.opening
		}
		debug.SetGCPercent(percent)
	}
}
