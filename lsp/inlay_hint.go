package lsp

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// InlayHint shows the held lock set ("holds glock:") at the first
// statement of each critical section and at every statement that touches
// a root or guarded data (graph calls, guarded accesses), one per line.
func (s *Server) InlayHint(ctx context.Context, params *protocol.InlayHintParams) ([]protocol.InlayHint, error) {
	snap, _, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	snap = snap.navigable()
	path := snap.path
	lo, hi := snap.mapper.offset(params.Range.Start), snap.mapper.offset(params.Range.End)
	held := make([]analysis.HeldRange, 0, len(snap.result.Held))
	for _, h := range snap.result.Held {
		if h.Span.File == path && len(h.Locks) > 0 {
			held = append(held, h)
		}
	}
	sort.SliceStable(held, func(i, j int) bool { return held[i].Span.Start.Offset < held[j].Span.Start.Offset })
	sectionStarted := map[sectionKey]bool{}
	seenLine := map[int]bool{}
	hints := []protocol.InlayHint{}
	for _, h := range held {
		key := sectionKey{h.Func, h.TakenAt.File, h.TakenAt.Start.Offset}
		first := !sectionStarted[key]
		sectionStarted[key] = true
		sp := h.Span
		if sp.Start.Offset < lo || sp.Start.Offset > hi || seenLine[sp.Start.Line] || !(first || touchesGuarded(snap, sp)) {
			continue
		}
		seenLine[sp.Start.Line] = true
		right := true
		hints = append(hints, protocol.InlayHint{Position: snap.mapper.position(sp.Start.Offset),
			Label:   protocol.String("holds " + plainNames(h.Locks) + ":"),
			Tooltip: protocol.String(heldTooltip(h)), PaddingRight: &right})
	}
	return hints, nil
}

// sectionKey identifies a critical section by where its lock was taken.
type sectionKey struct {
	fn   string
	file string
	off  int
}

func heldTooltip(h analysis.HeldRange) string {
	if h.TakenAt.Start.Line > 0 {
		return "bpf-lsp: lock set held here; the innermost lock was taken on line " + strconv.Itoa(h.TakenAt.Start.Line)
	}
	return "bpf-lsp: lock set held here"
}

func plainNames(ls []*analysis.Lock) string {
	n := make([]string, 0, len(ls))
	for _, l := range ls {
		n = append(n, l.Name)
	}
	return strings.Join(n, ", ")
}

// touchesGuarded reports whether a statement uses a root or guarded data.
func touchesGuarded(snap *snapshot, sp cparse.Span) bool {
	for _, r := range snap.result.Refs {
		if r.Guarded != nil && r.Span.File == sp.File && r.Span.Start.Offset >= sp.Start.Offset && r.Span.End.Offset <= sp.End.Offset {
			return true
		}
	}
	return false
}
