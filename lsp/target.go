package lsp

import (
	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// target is what a position refers to: a lock, or a guarded object (root or
// data), and the locks held there when it is a use in a function body.
// Hover and definition share it.
type target struct {
	lock    *analysis.Lock
	guarded *analysis.Guarded
	held    []*analysis.Lock
	use     bool // a use in code (else a declaration)
	span    cparse.Span
}

func within(sp cparse.Span, path string, off int) bool {
	return sp.File == path && sp.Start.Offset <= off && off <= sp.End.Offset
}

func width(sp cparse.Span) int { return sp.End.Offset - sp.Start.Offset }

// targetAt finds the innermost lock or guarded object at a byte offset:
// uses recorded by the analysis, then declarations, then the root argument
// of a graph call whose name is under the cursor.
func targetAt(snap *snapshot, off int) *target {
	path := snap.path
	if snap.result == nil {
		return nil
	}
	var best *target
	for _, r := range snap.result.Refs {
		if within(r.Span, path, off) && (best == nil || width(r.Span) < width(best.span)) {
			best = &target{lock: r.Lock, guarded: r.Guarded, held: r.Held, use: true, span: r.Span}
		}
	}
	if best != nil {
		return best
	}
	for _, g := range snap.result.Guarded {
		if within(g.Span, path, off) {
			return &target{guarded: g, span: g.Span}
		}
	}
	for _, l := range snap.result.Locks {
		if within(l.Span, path, off) {
			return &target{lock: l, span: l.Span}
		}
	}
	for _, c := range snap.calls {
		if !within(c.name, path, off) {
			continue
		}
		for _, r := range snap.result.Refs {
			if r.Guarded != nil && r.Guarded.Kind != "data" && r.Span.Start.Offset >= c.firstArg.Start.Offset && r.Span.End.Offset <= c.firstArg.End.Offset {
				return &target{guarded: r.Guarded, held: r.Held, use: true, span: c.name}
			}
		}
	}
	return nil
}
