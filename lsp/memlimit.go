package lsp

import (
	"runtime/debug"
	"sync"
)

// memoryLimits sets the runtime's soft memory limit from what the server
// is analysing: while only closed files are (the workspace pass, one at a
// time), Options.ClosedMemoryLimit caps its resident set; while an open
// document is, the limit the server started with stands (a big file's
// parse must not run the collector without pause). Analyses overlap (a
// document preempts the pass, documents run in parallel slots), so the
// limit follows the counts rather than each analysis setting and
// restoring it, which left a document analysed under the closed files'
// limit when the two overlapped.
type memoryLimits struct {
	mu             sync.Mutex
	base, closed   int64 // closed 0: leave the limit alone
	nOpen, nClosed int
}

func newMemoryLimits(closed int64) *memoryLimits {
	return &memoryLimits{base: debug.SetMemoryLimit(-1), closed: closed}
}

// enter counts one analysis of an open document or a closed file until
// the returned function is called, and sets the limit accordingly.
func (m *memoryLimits) enter(open bool) (leave func()) {
	if m.closed == 0 {
		return func() {}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := &m.nClosed
	if open {
		n = &m.nOpen
	}
	*n++
	m.apply()
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		*n--
		m.apply()
	}
}

func (m *memoryLimits) apply() {
	limit := m.base
	if m.nOpen == 0 && m.nClosed > 0 {
		limit = m.closed
	}
	debug.SetMemoryLimit(limit)
}
