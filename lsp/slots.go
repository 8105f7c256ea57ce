package lsp

import (
	"context"
	"sync"
)

// parseSlots bounds concurrent analyses (one per CPU: a burst of edits to
// several files must not start a parse per edit) and decides who goes
// next, by rank: first an analysis a request is waiting on, then one the
// user caused (the document's own edit or open), then background work
// (documents re-analysed because a header or the settings changed,
// retries after a timeout), so background work never delays an edit's
// diagnostics. Within a rank, first come first served.
//
// A parse abandoned before it returns (superseded by an edit, or past its
// timeout) gives its slot back at once and counts against a separate,
// bounded allowance of orphans until it ends, so a parse that cannot
// finish never keeps other documents waiting, and only a few of them run.
type parseSlots struct {
	mu      sync.Mutex
	free    int
	orphans int // allowance left for abandoned parses still running
	queue   []*slotRequest
}

// slotRequest is an analysis waiting for a slot.
type slotRequest struct {
	rank    func() rank // asked at each grant: it may rise while the request waits
	ready   chan struct{}
	granted bool
}

func newParseSlots(n int) *parseSlots {
	return &parseSlots{free: n, orphans: 2 * n}
}

// rank orders the analyses waiting for a slot.
type rank int

const (
	rankBackground rank = iota
	rankForeground
	rankAwaited
)

// acquire waits for a slot. It fails only when ctx ends first.
func (p *parseSlots) acquire(ctx context.Context, rank func() rank) (*parseSlot, error) {
	p.mu.Lock()
	if p.free > 0 && len(p.queue) == 0 {
		p.free--
		p.mu.Unlock()
		return &parseSlot{slots: p}, nil
	}
	r := &slotRequest{rank: rank, ready: make(chan struct{})}
	p.queue = append(p.queue, r)
	p.mu.Unlock()
	select {
	case <-r.ready:
		return &parseSlot{slots: p}, nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.granted {
			p.grantLocked() // granted as ctx ended: pass it on
		} else {
			for i, q := range p.queue {
				if q == r {
					p.queue = append(p.queue[:i], p.queue[i+1:]...)
					break
				}
			}
		}
		return nil, ctx.Err()
	}
}

// grantLocked gives a freed slot to the first request of the highest
// rank, or keeps it when none waits.
func (p *parseSlots) grantLocked() {
	if len(p.queue) == 0 {
		p.free++
		return
	}
	next, best := 0, rank(-1)
	for i, r := range p.queue {
		if k := r.rank(); k > best {
			next, best = i, k
		}
	}
	r := p.queue[next]
	p.queue = append(p.queue[:next], p.queue[next+1:]...)
	r.granted = true
	close(r.ready)
}

// parseSlot is one analysis's hold on a slot.
type parseSlot struct {
	slots    *parseSlots
	orphaned bool
	released bool
}

// release ends the hold when the parse returns.
func (s *parseSlot) release() {
	p := s.slots
	p.mu.Lock()
	defer p.mu.Unlock()
	s.released = true
	if s.orphaned {
		p.orphans++
		return
	}
	p.grantLocked()
}

// abandon is called when the analysis stops waiting for its parse: the
// slot goes to the next analysis at once if the orphan allowance permits
// (else the parse keeps its slot until it returns).
func (s *parseSlot) abandon() {
	p := s.slots
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.released || s.orphaned || p.orphans == 0 {
		return
	}
	p.orphans--
	s.orphaned = true
	p.grantLocked()
}
