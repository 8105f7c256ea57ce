package lsp

import (
	"context"
	"testing"
	"time"
)

// A freed slot goes to an analysis a request waits on, then to the user's
// edits, then to background work, whatever the order they queued in; a
// request waiting on a background analysis raises its rank.
func TestSlotsServeForegroundFirst(t *testing.T) {
	p := newParseSlots(1)
	ctx := context.Background()
	holder, err := p.acquire(ctx, func() rank { return rankForeground })
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 3)
	queue := func(name string, position int, r func() rank) {
		go func() {
			s, err := p.acquire(ctx, r)
			if err != nil {
				t.Error(err)
				return
			}
			order <- name
			s.release()
		}()
		for { // wait until it is queued: the order of arrival is the point
			p.mu.Lock()
			n := len(p.queue)
			p.mu.Unlock()
			if n == position {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	awaited := rankBackground
	queue("background", 1, func() rank { return rankBackground })
	queue("foreground", 2, func() rank { return rankForeground })
	queue("background-awaited", 3, func() rank { return awaited })
	p.mu.Lock()
	awaited = rankAwaited // a request now waits on it
	p.mu.Unlock()
	holder.release()
	var got []string
	for range 3 {
		got = append(got, <-order)
	}
	if got[0] != "background-awaited" || got[1] != "foreground" || got[2] != "background" {
		t.Errorf("grant order %v, want the awaited and foreground analyses before the background one", got)
	}
}

// An abandoned parse gives its slot to the next analysis at once, within
// the orphan allowance; once the allowance is spent, it keeps its slot.
func TestAbandonedParseGivesItsSlot(t *testing.T) {
	p := newParseSlots(1)
	ctx := context.Background()
	urgent := func() rank { return rankForeground }
	var held []*parseSlot
	for range 2 { // two orphans: the allowance is two per slot
		s, err := p.acquire(ctx, urgent)
		if err != nil {
			t.Fatal(err)
		}
		s.abandon()
		held = append(held, s)
	}
	last, err := p.acquire(ctx, urgent)
	if err != nil {
		t.Fatal(err)
	}
	last.abandon() // no allowance left: keeps the slot
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.acquire(short, urgent); err == nil {
		t.Fatal("a fourth parse got a slot while the allowance was spent")
	}
	held[0].release() // an orphan ends: allowance back, the slot still held
	if _, err := p.acquire(short, urgent); err == nil {
		t.Fatal("an orphan's end freed a slot it no longer held")
	}
	last.release()
	if _, err := p.acquire(ctx, urgent); err != nil {
		t.Fatal(err)
	}
}

// A workspace analysis holding the only slot is preempted as soon as an
// edit's analysis queues, and the slot passes to the edit when the
// preempted parse is abandoned, without waiting for that parse to end.
func TestWorkspaceSlotYields(t *testing.T) {
	p := newParseSlots(1)
	ctx := context.Background()
	preempted := make(chan struct{})
	ws, err := p.acquireYielding(ctx, func() { close(preempted) })
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *parseSlot)
	go func() {
		s, err := p.acquire(ctx, func() rank { return rankForeground })
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	select {
	case <-preempted:
	case <-got:
		t.Fatal("the edit got a slot the workspace analysis still held")
	case <-time.After(time.Minute):
		t.Fatal("the workspace analysis was not preempted")
	}
	ws.abandon()
	edit := <-got
	// A workspace analysis queued behind the edit waits; it preempts nobody.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.acquireYielding(short, func() { t.Error("preempted by a workspace request") }); err == nil {
		t.Fatal("a workspace analysis got the slot the edit holds")
	}
	edit.release()
	ws.release()

	// With a slot free, an edit still preempts the workspace analysis:
	// they would share the CPU and the collector.
	p = newParseSlots(2)
	preempted = make(chan struct{})
	if ws, err = p.acquireYielding(ctx, func() { close(preempted) }); err != nil {
		t.Fatal(err)
	}
	if _, err := p.acquire(ctx, func() rank { return rankForeground }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-preempted:
	default:
		t.Error("an edit started beside a workspace analysis without preempting it")
	}
	ws.release()
}
