package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// Definition goes from a guarded object (a root, a field, a global, or a
// graph call's root argument) to the declaration of the lock guarding it,
// and from a lock use to the lock.
func (s *Server) Definition(ctx context.Context, params *protocol.DefinitionParams) (protocol.DefinitionResult, error) {
	snap, _, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	snap = snap.navigable()
	t := targetAt(snap, snap.mapper.offset(params.Position))
	switch {
	case t == nil:
		return nil, nil
	case t.guarded != nil && t.guarded.Lock != nil:
		loc := s.location(snap, t.guarded.Lock.Span)
		return &loc, nil
	case t.lock != nil:
		loc := s.location(snap, t.lock.Span)
		return &loc, nil
	}
	return nil, nil
}
