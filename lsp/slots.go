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
//
// The analysis of closed workspace files (rankWorkspace) yields further:
// it runs only while no other analysis does. Any other analysis that
// starts preempts it (cancels its context), even with a slot free, so that
// it does not share the CPU or the collector with the user's analysis; a
// preempted parse is abandoned and hands its slot over at once, and the
// workspace file is analysed again later. So the workspace pass never
// delays an edit by more than the hand-over, however long its own parse
// takes.
type parseSlots struct {
	mu       sync.Mutex
	free     int
	orphans  int // allowance left for abandoned parses still running
	queue    []*slotRequest
	yielding map[*parseSlot]struct{} // held slots that give way (preempt set)
}

// slotRequest is an analysis waiting for a slot.
type slotRequest struct {
	rank    func() rank        // asked at each grant: it may rise while the request waits
	preempt context.CancelFunc // non-nil: the slot yields to any other request (rankWorkspace)
	ready   chan struct{}
	slot    *parseSlot // set when granted
}

func newParseSlots(n int) *parseSlots {
	return &parseSlots{free: n, orphans: 2 * n, yielding: map[*parseSlot]struct{}{}}
}

// rank orders the analyses waiting for a slot.
type rank int

const (
	rankWorkspace rank = iota
	rankBackground
	rankForeground
	rankAwaited
)

// acquire waits for a slot. It fails only when ctx ends first.
func (p *parseSlots) acquire(ctx context.Context, rank func() rank) (*parseSlot, error) {
	return p.wait(ctx, &slotRequest{rank: rank})
}

// acquireYielding waits for a slot at rankWorkspace, which preempt gives
// back as soon as another analysis needs it: preempt must make the holder
// abandon its parse (it cancels the analysis's context).
func (p *parseSlots) acquireYielding(ctx context.Context, preempt context.CancelFunc) (*parseSlot, error) {
	return p.wait(ctx, &slotRequest{rank: func() rank { return rankWorkspace }, preempt: preempt})
}

func (p *parseSlots) wait(ctx context.Context, r *slotRequest) (*parseSlot, error) {
	p.mu.Lock()
	if r.preempt == nil {
		for slot := range p.yielding {
			delete(p.yielding, slot)
			slot.preempt()
		}
	}
	if p.free > 0 && len(p.queue) == 0 {
		p.free--
		slot := p.holdLocked(r)
		p.mu.Unlock()
		return slot, nil
	}
	r.ready = make(chan struct{})
	p.queue = append(p.queue, r)
	p.mu.Unlock()
	select {
	case <-r.ready:
		return r.slot, nil
	case <-ctx.Done():
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.slot != nil {
			delete(p.yielding, r.slot)
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
	r.slot = p.holdLocked(r)
	close(r.ready)
}

// holdLocked makes the slot r was granted.
func (p *parseSlots) holdLocked(r *slotRequest) *parseSlot {
	slot := &parseSlot{slots: p, preempt: r.preempt}
	if r.preempt != nil {
		p.yielding[slot] = struct{}{}
	}
	return slot
}

// parseSlot is one analysis's hold on a slot.
type parseSlot struct {
	slots    *parseSlots
	preempt  context.CancelFunc // non-nil for a yielding slot
	orphaned bool
	released bool
}

// release ends the hold when the parse returns.
func (s *parseSlot) release() {
	p := s.slots
	p.mu.Lock()
	defer p.mu.Unlock()
	s.released = true
	delete(p.yielding, s)
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
	delete(p.yielding, s)
	if s.released || s.orphaned || p.orphans == 0 {
		return
	}
	p.orphans--
	s.orphaned = true
	p.grantLocked()
}
