package lsp

import (
	"context"
	"fmt"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// Hover explains a lock, a guarded object or a graph call: which lock
// guards it and why, what a root contains, whether the lock is held at
// this point, and the verifier message a violation produces.
func (s *Server) Hover(ctx context.Context, params *protocol.HoverParams) (*protocol.Hover, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	snap = snap.navigable()
	if h := s.programHover(u, snap, snap.mapper.offset(params.Position)); h != nil {
		return h, nil
	}
	t := targetAt(snap, snap.mapper.offset(params.Position))
	if t == nil {
		return nil, nil
	}
	rng := snap.mapper.rangeOf(t.span)
	return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: hoverText(t, snap.result)}, Range: &rng}, nil
}

func names(ls []*analysis.Lock) string {
	var n []string
	for _, l := range ls {
		n = append(n, "`"+l.Name+"`")
	}
	return strings.Join(n, ", ")
}

// heldLine says whether want is held at a use.
func heldLine(t *target, want *analysis.Lock) string {
	if !t.use {
		return ""
	}
	for _, l := range t.held {
		if l == want {
			return fmt.Sprintf("\n\nHere: `%s` **is held**.", want.Name)
		}
	}
	if len(t.held) > 0 {
		return fmt.Sprintf("\n\nHere: `%s` is **not held** (held: %s).", want.Name, names(t.held))
	}
	return fmt.Sprintf("\n\nHere: `%s` is **not held**.", want.Name)
}

func hoverText(t *target, res *analysis.Result) string {
	var b strings.Builder
	switch {
	case t.guarded != nil:
		g := t.guarded
		kind := "guarded data"
		if g.Kind != "data" {
			kind = "`struct " + g.Kind + "`"
		}
		fmt.Fprintf(&b, "**%s** — %s", g.Name, kind)
		if g.Contains != "" {
			fmt.Fprintf(&b, "\n\nContains `%s`.", g.Contains)
		}
		if g.Lock == nil {
			b.WriteString("\n\nNo lock guards it: see the finding at its declaration.")
			break
		}
		fmt.Fprintf(&b, "\n\nGuarded by **`%s`** (%s), because of the %s.", g.Lock.Name, g.Lock.Allocation, g.Reason)
		b.WriteString(heldLine(t, g.Lock))
		if g.Kernel != "" {
			fmt.Fprintf(&b, "\n\nWithout the lock the kernel rejects the program: `%s`", g.Kernel)
		} else if g.Kind == "data" {
			b.WriteString("\n\nThe kernel does not check `__guarded_by`; bpf-lsp does (BL208).")
		}
	case t.lock != nil:
		l := t.lock
		fmt.Fprintf(&b, "**%s** — `struct %s` in %s", l.Name, l.Kind, l.Allocation)
		var guards []string
		for _, g := range res.Guarded {
			if g.Lock == l {
				guards = append(guards, "`"+g.Name+"`")
			}
		}
		if len(guards) > 0 {
			fmt.Fprintf(&b, "\n\nGuards %s.", strings.Join(guards, ", "))
		}
		b.WriteString(heldLine(t, l))
	}
	return b.String()
}
