package lsp

import (
	"context"
	"fmt"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// document is one open editor buffer. Text-sync notifications run in wire
// order on the read loop (they never release it), so edits apply strictly
// in order; analysis runs in a goroutine per document, cancelled by the
// next edit, and its result is kept only if it is still the latest one
// scheduled for the document.
type document struct {
	uri     uri.URI
	path    string
	version int32
	text    []byte

	gen       int                // bumped by every schedule; an analysis publishes only if still current
	cancelRun context.CancelFunc // the pending analysis, if any
	result    *snapshot          // analysis of the current text; nil while pending
	good      *snapshot          // the last analysis that completed (kept when a later one fails)
	waiters   []chan struct{}    // requests waiting for result

	verifier     []protocol.Diagnostic // kernel verdicts for the saved text; cleared by an edit
	verified     int                   // bumped when verifier changes (pull result ids)
	cancelVerify context.CancelFunc    // the running kernel cross-check, if any
}

// snapshot is the analysis of one document version.
type snapshot struct {
	uri      uri.URI
	path     string // the document's file path, as cparse spans name it
	version  int32
	text     []byte
	file     *cparse.File
	result   *analysis.Result
	findings []analysis.Finding // frontend + analysis, as published
	mapper   *mapper
	// failed is set when the analysis did not complete (timeout, internal
	// error); findings then hold the reason, and stale the last good
	// analysis, which diagnostics and navigation keep using meanwhile.
	failed bool
	stale  *snapshot
}

func (d *document) cancel() {
	if d.cancelRun != nil {
		d.cancelRun()
		d.cancelRun = nil
	}
}

func (d *document) cancelVerifyRun() {
	if d.cancelVerify != nil {
		d.cancelVerify()
		d.cancelVerify = nil
	}
}

// overlayLocked returns every open document's text, by path, for cparse.
func (s *Server) overlayLocked() map[string][]byte {
	m := make(map[string][]byte, len(s.docs))
	for _, d := range s.docs {
		m[d.path] = d.text
	}
	return m
}

// schedule (re)starts the analysis of a document after delay, cancelling
// the previous one. The result is kept and published only if no later
// schedule superseded it (an edit, a settings change).
func (s *Server) schedule(u uri.URI, delay time.Duration) {
	s.mu.Lock()
	d, ok := s.docs[u]
	if !ok || s.shutdown {
		s.mu.Unlock()
		return
	}
	d.cancel()
	ctx, cancel := context.WithCancel(s.ctx)
	d.cancelRun = cancel
	d.gen++
	d.result = nil
	gen, version, text, path := d.gen, d.version, d.text, d.path
	overlay := s.overlayLocked()
	parser, st, utf8, timeout := s.parser, s.settings, s.caps.utf8, s.opts.ParseTimeout
	s.mu.Unlock()

	go func() {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
		}
		parser, cfg := s.projectFor(st, parser, path)
		snap := s.analyze(ctx, parser, path, version, text, overlay, utf8, timeout)
		snap.uri, snap.path = u, path
		snap.findings = cfg.Apply(nil, snap.findings)
		if ctx.Err() != nil {
			return
		}
		s.pubMu.Lock()
		defer s.pubMu.Unlock()
		s.mu.Lock()
		d, ok := s.docs[u]
		if !ok || d.gen != gen {
			s.mu.Unlock()
			return // superseded: a newer analysis will publish
		}
		if snap.failed {
			snap.stale = d.good
		} else {
			d.good = snap
		}
		d.result = snap
		d.cancelRun = nil
		waiters := d.waiters
		d.waiters = nil
		verifierDiags := d.verifier
		s.mu.Unlock()
		for _, w := range waiters {
			close(w)
		}
		s.publishLocked(ctx, u, snap, verifierDiags)
	}()
}

// analyze parses and analyses one version, at most len(parseSlots) at a
// time. It always returns a snapshot: a parse that takes longer than the
// timeout, or panics, gives a failed one carrying the reason.
func (s *Server) analyze(ctx context.Context, parser *cparse.Parser, path string, version int32, text []byte, overlay map[string][]byte, utf8 bool, limit time.Duration) *snapshot {
	failed := func(msg string) *snapshot {
		return &snapshot{version: version, text: text, mapper: newMapper(text, utf8), result: &analysis.Result{}, failed: true,
			findings: []analysis.Finding{{Code: analysis.CodeCError, Severity: analysis.SevWarning, Span: cparse.Span{File: path}, Message: msg}}}
	}
	select {
	case s.parseSlots <- struct{}{}:
	case <-ctx.Done():
		return failed("analysis cancelled")
	}
	done := make(chan *snapshot, 1)
	// The analysis runs in its own goroutine so a pathological input costs
	// one slot until it finishes, never the document: after the timeout the
	// editor gets the last good result and a diagnostic.
	go func() {
		defer func() { <-s.parseSlots }()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("analysis panicked", "file", path, "panic", r)
				done <- failed(fmt.Sprintf("bpf-lsp: internal error analysing this file: %v", r))
			}
		}()
		start := time.Now()
		f, err := parser.Parse(ctx, path, overlay)
		if err != nil {
			done <- failed(fmt.Sprintf("bpf-lsp could not analyse this file: %v", err))
			return
		}
		parsed := time.Now()
		res := analysis.Run(f)
		logAnalysis(s.log, f, parsed.Sub(start), time.Since(parsed))
		findings := append(analysis.FrontendFindings(f), res.Findings...)
		done <- &snapshot{version: version, text: text, file: f, result: res, findings: findings, mapper: newMapper(text, utf8)}
	}()
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	select {
	case snap := <-done:
		return snap
	case <-timeout.C:
		s.log.Warn("analysis timed out", "file", path, "after", limit)
		return failed(fmt.Sprintf("bpf-lsp: analysis did not finish in %v; showing the last complete analysis", limit))
	case <-ctx.Done():
		return failed("analysis cancelled")
	}
}

// current returns the analysis of the document's current version, waiting
// for it (the caller must have released the read loop with jsonrpc2.Async).
func (s *Server) current(ctx context.Context, u uri.URI) (*snapshot, error) {
	s.mu.Lock()
	wait := s.opts.ParseTimeout + 10*time.Second
	s.mu.Unlock()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		d, ok := s.docs[u]
		if !ok {
			s.mu.Unlock()
			return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, fmt.Sprintf("%s is not open", u))
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
		case <-deadline.C:
			return nil, fmt.Errorf("analysis of %s did not finish", u)
		}
	}
}

// snapshotFor releases the read loop (the request may wait for the
// analysis) and returns the analysis of the document's current version.
func (s *Server) snapshotFor(ctx context.Context, td protocol.TextDocumentIdentifier) (*snapshot, uri.URI, error) {
	jsonrpc2.Async(ctx)
	snap, err := s.current(ctx, td.URI)
	return snap, td.URI, err
}

// navigable is the analysis navigation features use: the current one, or
// the last good one while the current failed.
func (snap *snapshot) navigable() *snapshot {
	if snap.failed && snap.stale != nil {
		return snap.stale
	}
	return snap
}
