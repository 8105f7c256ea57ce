package lsp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

func (s *Server) DidOpen(ctx context.Context, params *protocol.DidOpenTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	if old, ok := s.docs[u]; ok {
		old.cancel()
		old.wake()
		s.cancelVerifyLocked(u)
	}
	d := &document{uri: u, path: docPath(u), version: params.TextDocument.Version, text: []byte(params.TextDocument.Text)}
	s.docs[u] = d
	s.mu.Unlock()
	s.workspaceOpened(d.path)
	s.schedule(u, 0, foreground)
	return nil
}

// DidChange applies full or incremental changes in order. An edit that
// cannot apply (a range the client computed on other text) is an error
// logged by the handler chain; the document keeps its last good text.
func (s *Server) DidChange(ctx context.Context, params *protocol.DidChangeTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	d, ok := s.docs[u]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("didChange for %s, which is not open", u)
	}
	text := d.text
	for _, ch := range params.ContentChanges {
		switch c := ch.(type) {
		case *protocol.TextDocumentContentChangeWholeDocument:
			text = []byte(c.Text)
		case *protocol.TextDocumentContentChangePartial:
			next, err := applyChange(text, newMapper(text, s.caps.utf8), c.Range, c.Text)
			if err != nil {
				s.mu.Unlock()
				return fmt.Errorf("didChange %s version %d: %w", u, params.TextDocument.Version, err)
			}
			text = next
		}
	}
	// An edit made while nothing is pending is analysed at once (clangd's
	// rule: the rebuild rate adapts to the rebuild time); an edit arriving
	// while an analysis is still pending or running is part of a burst and
	// waits for the debounce, so the burst costs one more analysis.
	delay := s.opts.Debounce
	if d.result != nil {
		delay = 0
	}
	d.text, d.version, d.verifier = text, params.TextDocument.Version, nil
	s.cancelVerifyLocked(u) // its verdicts would be for text that no longer exists
	var dependents []*document
	if strings.HasSuffix(d.path, ".h") {
		// An open header's unsaved text is in every other document's
		// overlay: they may include it.
		for _, other := range s.docs {
			if other != d {
				dependents = append(dependents, other)
			}
		}
	}
	s.mu.Unlock()
	s.schedule(u, delay, foreground)
	for _, other := range dependents {
		s.schedule(other.uri, s.opts.Debounce, background)
	}
	return nil
}

// DidSave runs the kernel cross-check when verifyOnSave is set. Saves of
// one version share one check (see verifyRun).
func (s *Server) DidSave(ctx context.Context, params *protocol.DidSaveTextDocumentParams) error {
	s.mu.Lock()
	verify := s.settings.VerifyOnSave
	s.mu.Unlock()
	if verify || s.configVerifiesOnSave(params.TextDocument.URI) {
		go func() {
			_, err := s.verifyDocument(s.ctx, params.TextDocument.URI)
			var rpcErr *jsonrpc2.Error
			switch {
			case errors.As(err, &rpcErr) && rpcErr.Code == protocol.CodeContentModified:
				s.log.Debug("verify on save superseded", "uri", params.TextDocument.URI)
			case err != nil:
				s.logToClient(s.ctx, protocol.MessageTypeError, "bpf-lsp verify: "+err.Error())
			}
		}()
	}
	return nil
}

func (s *Server) DidClose(ctx context.Context, params *protocol.DidCloseTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	d, ok := s.docs[u]
	if ok {
		d.cancel()
		d.wake()
		s.cancelVerifyLocked(u)
		delete(s.docs, u)
		delete(s.matrices, u)
	}
	pull := s.caps.pull
	base, st := s.parser, s.settings
	s.mu.Unlock()
	if ok {
		parser, _ := s.projectFor(st, base, d.path)
		parser.Forget(d.path) // its functions' ASTs, kept for the next edit
		s.releaseMemory()
		defer s.workspaceClosed(d.path) // after the clear below: its result follows it
	}
	if !ok || pull {
		return nil
	}
	// Clear what we published for it; under pubMu so that no analysis
	// finishing now can publish after the clear.
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	return s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}})
}

// releaseMemory hands the memory of closed documents back to the system
// once closing stops for a moment (an editor closing a workspace closes
// many at once): their analyses were garbage already, but the runtime
// returns freed pages to the system only gradually.
func (s *Server) releaseMemory() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.freeMemory == nil {
		s.freeMemory = time.AfterFunc(freeMemoryDelay, debug.FreeOSMemory)
		return
	}
	s.freeMemory.Reset(freeMemoryDelay)
}

const freeMemoryDelay = time.Second

// docPath is the absolute path cparse knows a document by: its file path,
// or for an unsaved buffer (untitled:, other schemes) a path under the
// temporary directory that no file on disk shadows.
func docPath(u uri.URI) string {
	if u.Scheme() == "file" {
		if p, err := filepath.Abs(u.FsPath()); err == nil {
			return p
		}
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' {
			return '_'
		}
		return r
	}, string(u))
	return filepath.Join(os.TempDir(), "bpf-lsp-buffers", name)
}
