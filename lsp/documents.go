package lsp

import (
	"context"
	"fmt"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// document is one open editor buffer. Text-sync notifications run in wire
// order on the read loop (they never release it), so edits apply strictly
// in order; analysis runs in a goroutine per document, cancelled by the
// next edit, and its result is kept only if the version is still current.
type document struct {
	uri     uri.URI
	path    string
	version int32
	text    []byte

	cancelRun context.CancelFunc // the pending analysis, if any
	result    *snapshot          // latest analysis of the current version, nil while pending
	waiters   []chan struct{}    // requests waiting for result
	verifier  []protocol.Diagnostic
	edited    time.Time // when the last change arrived
}

// snapshot is the analysis of one document version.
type snapshot struct {
	version  int32
	text     []byte
	file     *cparse.File
	result   *analysis.Result
	findings []analysis.Finding // frontend + analysis, as published
	mapper   *mapper
}

func (d *document) cancel() {
	if d.cancelRun != nil {
		d.cancelRun()
		d.cancelRun = nil
	}
}

func (s *Server) DidOpen(ctx context.Context, params *protocol.DidOpenTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	if old, ok := s.docs[u]; ok {
		old.cancel()
	}
	s.docs[u] = &document{uri: u, path: u.FsPath(), version: params.TextDocument.Version, text: []byte(params.TextDocument.Text)}
	s.mu.Unlock()
	s.schedule(u, 0)
	return nil
}

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
			next, err := applyChange(text, newMapper(text, s.utf8), c.Range, c.Text)
			if err != nil {
				s.mu.Unlock()
				return err
			}
			text = next
		}
	}
	// The first edit after a pause is analysed at once; edits that follow
	// closely (typing) wait for the debounce, so a burst costs one analysis.
	delay := s.opts.Debounce
	if now := time.Now(); now.Sub(d.edited) > 2*s.opts.Debounce {
		delay = 0
	}
	d.text, d.version, d.result, d.verifier, d.edited = text, params.TextDocument.Version, nil, nil, time.Now()
	s.mu.Unlock()
	s.schedule(u, delay)
	return nil
}

func (s *Server) DidSave(ctx context.Context, params *protocol.DidSaveTextDocumentParams) error {
	s.mu.Lock()
	verify := s.settings.VerifyOnSave
	s.mu.Unlock()
	if verify {
		go s.verifyDocument(context.Background(), params.TextDocument.URI, true)
	}
	return nil
}

func (s *Server) DidClose(ctx context.Context, params *protocol.DidCloseTextDocumentParams) error {
	u := params.TextDocument.URI
	s.mu.Lock()
	if d, ok := s.docs[u]; ok {
		d.cancel()
		for _, w := range d.waiters {
			close(w)
		}
		delete(s.docs, u)
	}
	s.mu.Unlock()
	// Clear what we published for it.
	return s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: []protocol.Diagnostic{}})
}

// overlay returns every open document's text, by path, for cparse.
func (s *Server) overlayLocked() map[string][]byte {
	m := make(map[string][]byte, len(s.docs))
	for _, d := range s.docs {
		m[d.path] = d.text
	}
	return m
}

// schedule (re)starts the analysis of a document after delay, cancelling
// the previous one; the result is published only if the version is still
// the current one when it completes.
func (s *Server) schedule(u uri.URI, delay time.Duration) {
	s.mu.Lock()
	d, ok := s.docs[u]
	if !ok || s.shutdown {
		s.mu.Unlock()
		return
	}
	d.cancel()
	ctx, cancel := context.WithCancel(context.Background())
	d.cancelRun = cancel
	version, text, path := d.version, d.text, d.path
	overlay := s.overlayLocked()
	parser := s.parser
	s.mu.Unlock()

	go func() {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
		}
		snap := s.analyze(ctx, parser, path, version, text, overlay)
		if ctx.Err() != nil || snap == nil {
			return
		}
		s.mu.Lock()
		d, ok := s.docs[u]
		if !ok || d.version != version {
			s.mu.Unlock()
			return // superseded: a newer edit's analysis will publish
		}
		d.result = snap
		waiters := d.waiters
		d.waiters = nil
		verifierDiags := d.verifier
		s.mu.Unlock()
		for _, w := range waiters {
			close(w)
		}
		s.publish(ctx, u, snap, verifierDiags)
	}()
}

// analyze parses and analyses one version. A parse that takes too long or
// fails leaves a snapshot with just the error, never a dead server.
func (s *Server) analyze(ctx context.Context, parser *cparse.Parser, path string, version int32, text []byte, overlay map[string][]byte) (snap *snapshot) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("analysis panicked", "file", path, "panic", r)
			snap = &snapshot{version: version, text: text, mapper: newMapper(text, s.utf8), result: &analysis.Result{},
				findings: []analysis.Finding{{Code: analysis.CodeCError, Span: cparse.Span{File: path}, Message: fmt.Sprintf("internal error analysing this file: %v", r)}}}
		}
	}()
	f, err := parser.Parse(ctx, path, overlay)
	if err != nil {
		return &snapshot{version: version, text: text, mapper: newMapper(text, s.utf8), result: &analysis.Result{},
			findings: []analysis.Finding{{Code: analysis.CodeCError, Span: cparse.Span{File: path}, Message: err.Error()}}}
	}
	res := analysis.Run(f)
	findings := append(analysis.FrontendFindings(f), res.Findings...)
	return &snapshot{version: version, text: text, file: f, result: res, findings: findings, mapper: newMapper(text, s.utf8)}
}

// current returns the analysis of the document's current version, waiting
// for it (the caller must have released the read loop with jsonrpc2.Async).
func (s *Server) current(ctx context.Context, u uri.URI) (*snapshot, error) {
	for {
		s.mu.Lock()
		d, ok := s.docs[u]
		if !ok {
			s.mu.Unlock()
			return nil, fmt.Errorf("%s is not open", u)
		}
		if d.result != nil {
			snap := d.result
			s.mu.Unlock()
			return snap, nil
		}
		w := make(chan struct{})
		d.waiters = append(d.waiters, w)
		s.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return nil, protocol.ErrRequestCancelled
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("analysis of %s did not finish in 30s", u)
		}
	}
}

// DidChangeWatchedFiles re-analyses open documents when a watched file (a
// compile database, a header) changes on disk: flags and headers are read
// afresh on every parse.
func (s *Server) DidChangeWatchedFiles(ctx context.Context, params *protocol.DidChangeWatchedFilesParams) error {
	s.mu.Lock()
	uris := make([]uri.URI, 0, len(s.docs))
	for u := range s.docs {
		uris = append(uris, u)
	}
	s.mu.Unlock()
	for _, u := range uris {
		s.schedule(u, s.opts.Debounce)
	}
	return nil
}
