package lsp

import (
	"context"
	"slices"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// CodeAction offers the suggested fixes of the findings in the range as
// quick fixes. They come from the analysis of the current version and
// their edits target that version (failed analyses offer none: their
// positions would be stale).
func (s *Server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	actions := []protocol.CommandOrCodeAction{}
	if !wantsQuickFix(params.Context.Only) {
		return actions, nil
	}
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	path := snap.path
	lo, hi := snap.mapper.offset(params.Range.Start), snap.mapper.offset(params.Range.End)
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
				Diagnostics: []protocol.Diagnostic{s.diagnostic(snap, fd)},
				Edit:        s.workspaceEdit(u, snap.version, edits),
			})
		}
	}
	return actions, nil
}

// wantsQuickFix reports whether a codeAction "only" filter admits quick
// fixes (a kind admits itself and its dotted sub-kinds; "quickfix" has no
// parent kind).
func wantsQuickFix(only []protocol.CodeActionKind) bool {
	return len(only) == 0 || slices.ContainsFunc(only, func(k protocol.CodeActionKind) bool {
		return k == "" || k == protocol.CodeActionKindQuickFix
	})
}

// workspaceEdit targets the exact document version when the client can
// check it (versioned documentChanges), else plain changes.
func (s *Server) workspaceEdit(u uri.URI, version int32, edits []protocol.TextEdit) *protocol.WorkspaceEdit {
	s.mu.Lock()
	versioned := s.caps.versioned
	s.mu.Unlock()
	if versioned {
		changes := make([]protocol.TextDocumentEditElement, 0, len(edits))
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
