package lsp

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// target is what a position refers to: a lock, or a guarded object (root or
// data), and the locks held there when it is a use in a function body.
type target struct {
	lock    *analysis.Lock
	guarded *analysis.Guarded
	held    []*analysis.Lock
	use     bool // a use in code (else a declaration)
	span    cparse.Span
}

// snapshotFor releases the read loop (the request may wait for the
// analysis) and returns the analysis of the document's current version.
func (s *Server) snapshotFor(ctx context.Context, td protocol.TextDocumentIdentifier) (*snapshot, uri.URI, error) {
	jsonrpc2.Async(ctx)
	snap, err := s.current(ctx, td.URI)
	return snap, td.URI, err
}

func within(sp cparse.Span, path string, off int) bool {
	return sp.File == path && sp.Start.Offset <= off && off <= sp.End.Offset
}

// targetAt finds the innermost lock or guarded object at a byte offset:
// uses recorded by the analysis, then declarations, then the root argument
// of a graph call whose name is under the cursor.
func targetAt(snap *snapshot, path string, off int) *target {
	var best *target
	for _, r := range snap.result.Refs {
		if within(r.Span, path, off) && (best == nil || r.Span.End.Offset-r.Span.Start.Offset < best.span.End.Offset-best.span.Start.Offset) {
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
	if snap.file == nil {
		return nil
	}
	for _, fn := range snap.file.Funcs {
		for _, c := range fn.Calls {
			if !within(c.NameSpan, path, off) || len(c.Args) == 0 {
				continue
			}
			for _, r := range snap.result.Refs {
				if r.Guarded != nil && r.Guarded.Kind != "data" && r.Span.Start.Offset >= c.Args[0].Span.Start.Offset && r.Span.End.Offset <= c.Args[0].Span.End.Offset {
					return &target{guarded: r.Guarded, held: r.Held, use: true, span: c.NameSpan}
				}
			}
		}
	}
	return nil
}

func (s *Server) Hover(ctx context.Context, params *protocol.HoverParams) (*protocol.Hover, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	off := snap.mapper.offset(params.Position)
	t := targetAt(snap, u.FsPath(), off)
	if t == nil {
		return nil, nil
	}
	rng := snap.mapper.rangeOf(t.span)
	return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: hoverText(t)}, Range: &rng}, nil
}

func names(ls []*analysis.Lock) string {
	var n []string
	for _, l := range ls {
		n = append(n, "`"+l.Name+"`")
	}
	return strings.Join(n, ", ")
}

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

func hoverText(t *target) string {
	var b strings.Builder
	switch {
	case t.guarded != nil:
		g := t.guarded
		kind := "guarded data"
		if g.Kind != "data" {
			kind = "`struct " + g.Kind + "`"
		}
		fmt.Fprintf(&b, "**%s** — %s", g.Name, kind)
		if g.Lock == nil {
			b.WriteString("\n\nNo lock guards it: see the finding at its declaration.")
			break
		}
		fmt.Fprintf(&b, "\n\nGuarded by **`%s`** (%s), because of the %s.", g.Lock.Name, g.Lock.Allocation, g.Reason)
		if g.Contains != "" {
			fmt.Fprintf(&b, "\n\nContains `%s`.", g.Contains)
		}
		b.WriteString(heldLine(t, g.Lock))
		if g.Kernel != "" {
			fmt.Fprintf(&b, "\n\nWithout the lock the kernel rejects the program: `%s`", g.Kernel)
		} else if g.Kind == "data" {
			b.WriteString("\n\nThe kernel does not check `__guarded_by`; bpf-lsp does (BL208).")
		}
	case t.lock != nil:
		l := t.lock
		fmt.Fprintf(&b, "**%s** — `struct %s` in %s", l.Name, l.Kind, l.Allocation)
		if t.use {
			b.WriteString(heldLine(t, l))
		}
	}
	return b.String()
}

// Definition goes from a guarded object (or a graph call) to its lock.
func (s *Server) Definition(ctx context.Context, params *protocol.DefinitionParams) (protocol.DefinitionResult, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	t := targetAt(snap, u.FsPath(), snap.mapper.offset(params.Position))
	switch {
	case t == nil:
		return nil, nil
	case t.guarded != nil && t.guarded.Lock != nil:
		loc := s.location(snap, u.FsPath(), t.guarded.Lock.Span)
		return &loc, nil
	case t.lock != nil:
		loc := s.location(snap, u.FsPath(), t.lock.Span)
		return &loc, nil
	}
	return nil, nil
}

// CodeAction offers each finding's suggested fixes as quick fixes for the
// version they were computed on.
func (s *Server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	path := u.FsPath()
	lo, hi := snap.mapper.offset(params.Range.Start), snap.mapper.offset(params.Range.End)
	actions := []protocol.CommandOrCodeAction{}
	kind := protocol.CodeActionKindQuickFix
	for _, fd := range snap.findings {
		if fd.Span.File != path || fd.Span.End.Offset < lo || fd.Span.Start.Offset > hi {
			continue
		}
		for _, fix := range fd.Fixes {
			edits := make([]protocol.TextEdit, 0, len(fix.Edits))
			for _, e := range fix.Edits {
				edits = append(edits, protocol.TextEdit{Range: snap.mapper.rangeOf(e.Span), NewText: e.NewText})
			}
			preferred := fix.Preferred
			actions = append(actions, &protocol.CodeAction{
				Title: fix.Message, Kind: &kind, IsPreferred: &preferred,
				Diagnostics: []protocol.Diagnostic{s.diagnostic(snap, path, fd)},
				Edit:        s.workspaceEdit(u, snap.version, edits),
			})
		}
	}
	return actions, nil
}

// workspaceEdit targets the exact document version when the client can
// check it (versioned documentChanges), else plain changes.
func (s *Server) workspaceEdit(u uri.URI, version int32, edits []protocol.TextEdit) *protocol.WorkspaceEdit {
	if s.versioned {
		var changes []protocol.TextDocumentEditElement
		for i := range edits {
			changes = append(changes, &edits[i])
		}
		return &protocol.WorkspaceEdit{DocumentChanges: []protocol.DocumentChange{&protocol.TextDocumentEdit{
			TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
				TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u}, Version: ptr(version)},
			Edits: changes}}}
	}
	return &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{u: edits}}
}

// InlayHint shows the locks held at graph calls and guarded accesses.
func (s *Server) InlayHint(ctx context.Context, params *protocol.InlayHintParams) ([]protocol.InlayHint, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	path := u.FsPath()
	lo, hi := snap.mapper.offset(params.Range.Start), snap.mapper.offset(params.Range.End)
	hints := []protocol.InlayHint{}
	seenLine := map[int]bool{}
	for _, h := range snap.result.Held {
		sp := h.Span
		if sp.File != path || sp.Start.Offset < lo || sp.Start.Offset > hi || seenLine[sp.Start.Line] || !graphOrGuarded(snap, sp) {
			continue
		}
		seenLine[sp.Start.Line] = true
		right := true
		hints = append(hints, protocol.InlayHint{Position: snap.mapper.position(sp.Start.Offset),
			Label: protocol.String("holds " + plainNames(h.Locks) + ":"), PaddingRight: &right})
	}
	return hints, nil
}

func plainNames(ls []*analysis.Lock) string {
	var n []string
	for _, l := range ls {
		n = append(n, l.Name)
	}
	return strings.Join(n, ", ")
}

// graphOrGuarded reports whether a statement touches a root or guarded data.
func graphOrGuarded(snap *snapshot, sp cparse.Span) bool {
	for _, r := range snap.result.Refs {
		if r.Guarded != nil && r.Span.Start.Offset >= sp.Start.Offset && r.Span.End.Offset <= sp.End.Offset {
			return true
		}
	}
	return false
}

// DocumentSymbol lists locks, roots and guarded data.
func (s *Server) DocumentSymbol(ctx context.Context, params *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	path := u.FsPath()
	var syms protocol.DocumentSymbolSlice
	for _, l := range snap.result.Locks {
		if l.Span.File == path {
			rng := snap.mapper.rangeOf(l.Span)
			syms = append(syms, protocol.DocumentSymbol{Name: l.Name, Detail: ptr(l.Kind + " (" + l.Allocation + ")"),
				Kind: protocol.SymbolKindVariable, Range: rng, SelectionRange: rng})
		}
	}
	for _, g := range snap.result.Guarded {
		if g.Span.File != path {
			continue
		}
		detail := g.Kind
		if g.Lock != nil {
			detail += " guarded by " + g.Lock.Name
		}
		rng := snap.mapper.rangeOf(g.Span)
		syms = append(syms, protocol.DocumentSymbol{Name: g.Name, Detail: &detail, Kind: protocol.SymbolKindField, Range: rng, SelectionRange: rng})
	}
	sort.Slice(syms, func(i, j int) bool {
		a, b := syms[i].Range.Start, syms[j].Range.Start
		return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
	})
	if syms == nil {
		syms = protocol.DocumentSymbolSlice{}
	}
	return &syms, nil
}
