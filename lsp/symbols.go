package lsp

import (
	"context"
	"sort"

	"go.lsp.dev/protocol"
)

// DocumentSymbol lists locks, roots and guarded data.
func (s *Server) DocumentSymbol(ctx context.Context, params *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	snap, _, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	snap = snap.navigable()
	path := snap.path
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
		syms = append(syms, protocol.DocumentSymbol{Name: g.Name, Detail: &detail, Kind: symbolKind(g.Kind), Range: rng, SelectionRange: rng})
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

// symbolKind shows roots as structs (they hold nodes) and guarded data as fields.
func symbolKind(guardedKind string) protocol.SymbolKind {
	if guardedKind == "data" {
		return protocol.SymbolKindField
	}
	return protocol.SymbolKindStruct
}
