package lsp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
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
	cancelRun context.CancelFunc // the pending analysis (or its idle retry), if any
	result    *snapshot          // analysis of the current text; nil while pending
	good      *snapshot          // the last analysis that completed (kept when a later one fails)
	waiters   []chan struct{}    // requests waiting for result; woken by a result, an edit or close
	retried   bool               // the current version already had its idle retry after a timeout

	verifier []protocol.Diagnostic // kernel verdicts for the saved text; cleared by an edit
	verified int                   // bumped when verifier changes (pull result ids)

	// analyses keeps each program's analysis across versions: an edit
	// inside one function re-analyses the programs that reach it only.
	analyses *analysis.Cache
}

// snapshot is the analysis of one document version. It keeps what the
// features need (findings, the analysis model, call sites) and never the
// parsed translation unit: with vmlinux.h that is tens of megabytes per
// document.
type snapshot struct {
	uri      uri.URI
	path     string // the document's file path, as cparse spans name it
	version  int32
	text     []byte
	result   *analysis.Result
	calls    []callSite         // calls with arguments in the document's functions, for hover on a graph call
	programs []program          // SEC programs, for the kernel matrix's lens
	findings []analysis.Finding // frontend + analysis, as published
	mapper   *mapper
	// failed is set when the analysis did not complete (timeout, internal
	// error); findings then hold the reason plus the last good analysis's
	// findings that lie outside the edited text, and stale that analysis,
	// which navigation keeps using meanwhile.
	failed   bool
	timedOut bool
	stale    *snapshot
}

// callSite is a call's name and first argument.
type callSite struct {
	name, firstArg cparse.Span
}

func callSites(f *cparse.File) []callSite {
	var out []callSite
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			if len(c.Args) > 0 {
				out = append(out, callSite{name: c.NameSpan, firstArg: c.Args[0].Span})
			}
		}
	}
	return out
}

func (d *document) cancel() {
	if d.cancelRun != nil {
		d.cancelRun()
		d.cancelRun = nil
	}
}

// wake releases the requests waiting on the document; they look again.
func (d *document) wake() {
	for _, w := range d.waiters {
		close(w)
	}
	d.waiters = nil
}

// overlayLocked returns every open document's text, by path, for cparse.
func (s *Server) overlayLocked() map[string][]byte {
	m := make(map[string][]byte, len(s.docs))
	for _, d := range s.docs {
		m[d.path] = d.text
	}
	return m
}

// priority says why a document is analysed: for the user (its own edit or
// open), in the background (a header or the settings changed), or again
// once the server is idle after a timeout.
type priority int

const (
	foreground priority = iota
	background
	idleRetry
)

// idleRetryFactor multiplies the parse timeout of an idle retry: the
// timeout keeps one document from holding a slot others need, and when
// idle nobody needs it, so a merely slow file gets its result.
const idleRetryFactor = 4

// schedule (re)starts the analysis of a document after delay, cancelling
// the previous one (its parse stops and frees its slot). The result is kept
// and published only if no later schedule superseded it (an edit, a
// settings change). An analysis a request waits for goes before others.
func (s *Server) schedule(u uri.URI, delay time.Duration, why priority) {
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
	if d.result == nil || d.result.version != d.version {
		d.retried = false
	}
	d.result = nil
	d.wake() // requests for an older version answer ContentModified
	if d.analyses == nil {
		d.analyses = analysis.NewCache()
	}
	gen, version, text, path, analyses := d.gen, d.version, d.text, d.path, d.analyses
	load := loadOpen
	if d.good == nil {
		load = loadOpening // nothing analysed yet: no cache, no preamble warm
	}
	overlay := s.overlayLocked()
	parser, st, utf8, timeout := s.parser, s.settings, s.caps.utf8, s.opts.ParseTimeout
	s.mu.Unlock()
	if why == idleRetry {
		timeout *= idleRetryFactor
	}

	s.busy.Add(1)
	go func() {
		defer s.busy.Add(-1)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return
			}
		}
		rank := func() rank {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch {
			case len(d.waiters) > 0:
				return rankAwaited
			case why == foreground:
				return rankForeground
			}
			return rankBackground
		}
		parser, cfg := s.projectFor(st, parser, path)
		acquire := func() (*parseSlot, error) { return s.slots.acquire(ctx, rank) }
		leave := s.memory.enter(load)
		snap := s.analyze(ctx, acquire, parser, analyses, path, version, text, overlay, utf8, timeout)
		leave()
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
			if d.good != nil {
				snap.findings = append(snap.findings, carryForward(d.good, text)...)
			}
		} else {
			d.good = snap
		}
		d.result = snap
		d.wake()
		retry := snap.timedOut && !d.retried
		d.retried = d.retried || retry
		verifierDiags := d.verifier
		s.mu.Unlock()
		s.publishLocked(ctx, u, snap, verifierDiags)
		if retry {
			go s.retryWhenIdle(ctx, u, gen)
		}
	}()
}

// retryWhenIdle analyses a document whose analysis timed out again once no
// other analysis is pending: under load the timeout says more about the
// load than about the file. An edit cancels ctx and makes this moot.
func (s *Server) retryWhenIdle(ctx context.Context, u uri.URI, gen int) {
	if !s.waitIdle(ctx) {
		return
	}
	s.mu.Lock()
	d, ok := s.docs[u]
	current := ok && d.gen == gen
	s.mu.Unlock()
	if current {
		s.log.Info("re-analysing after a timeout", "uri", u)
		s.schedule(u, 0, idleRetry)
	}
}

// idlePoll is how often a timed-out document checks whether the server is
// idle.
const idlePoll = 100 * time.Millisecond

// analyze parses and analyses one version once acquire gets it a parse
// slot (at the rank that says how much the user waits for it), reusing
// from analyses the programs the edit did not touch. It always returns a
// snapshot: a parse that is cancelled, takes longer than the timeout or
// panics gives a failed one carrying the reason.
func (s *Server) analyze(ctx context.Context, acquire func() (*parseSlot, error), parser *cparse.Parser, analyses *analysis.Cache, path string, version int32, text []byte, overlay map[string][]byte, utf8 bool, limit time.Duration) *snapshot {
	failed := func(msg string) *snapshot {
		return &snapshot{version: version, text: text, mapper: newMapper(text, utf8), result: &analysis.Result{}, failed: true,
			findings: []analysis.Finding{{Code: analysis.CodeCError, Severity: analysis.SevWarning, Span: cparse.Span{File: path}, Message: msg}}}
	}
	slot, err := acquire()
	if err != nil {
		return failed("analysis cancelled")
	}
	// The kernels' BTF (read once per server) loads beside the parse: it
	// is needed only after the analysis.
	targets := make(chan []*kernels.Target, 1)
	go func() { targets <- s.staticTargets() }()
	// The parse sees the deadline and the cancellation (cparse checks its
	// context), so a superseded or hopeless parse ends early.
	pctx, stop := context.WithTimeout(ctx, limit)
	defer stop()
	done := make(chan *snapshot, 1)
	go func() {
		defer slot.release()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("analysis panicked", "file", path, "panic", r)
				done <- failed(fmt.Sprintf("bpf-lsp: internal error analysing this file: %v", r))
			}
		}()
		start := time.Now()
		f, err := s.parse(parser, pctx, path, overlay)
		if err != nil {
			done <- failed(fmt.Sprintf("bpf-lsp could not analyse this file: %v", err))
			return
		}
		if pctx.Err() != nil {
			done <- nil // cut short: its findings would be incomplete
			return
		}
		parsed := time.Now()
		res := analyses.Run(f)
		logAnalysis(s.log, f, res.Stats, parsed.Sub(start), time.Since(parsed))
		findings := append(analysis.FrontendFindings(f), analysis.ForKernels(f, res, <-targets)...)
		done <- &snapshot{version: version, text: text, calls: callSites(f), programs: programsOf(f), result: res, findings: findings, mapper: newMapper(text, utf8)}
	}()
	select {
	case snap := <-done:
		if snap != nil {
			return snap
		}
	case <-pctx.Done():
		slot.abandon()
	}
	if errors.Is(pctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		s.log.Warn("analysis timed out", "file", path, "after", limit)
		snap := failed(fmt.Sprintf("bpf-lsp: analysis did not finish in %v; showing the findings of the last complete analysis outside the edited text", limit))
		snap.timedOut = true
		return snap
	}
	return failed("analysis cancelled")
}

// current returns the analysis of the document's current version, waiting
// for it (the caller must have released the read loop with jsonrpc2.Async).
// A request whose document changes or closes meanwhile fails with
// ContentModified, as the LSP asks: its answer would be for text the
// client no longer has.
func (s *Server) current(ctx context.Context, u uri.URI) (*snapshot, error) {
	s.mu.Lock()
	wait := s.opts.ParseTimeout + 10*time.Second
	d, ok := s.docs[u]
	var version int32
	if ok {
		version = d.version
	}
	s.mu.Unlock()
	if !ok {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, fmt.Sprintf("%s is not open", u))
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		d, ok := s.docs[u]
		if !ok || d.version != version {
			s.mu.Unlock()
			return nil, errContentModified
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
			return nil, jsonrpc2.NewError(codeRequestFailed, fmt.Sprintf("the analysis of %s did not finish in %v", u, wait))
		}
	}
}

var errContentModified = jsonrpc2.NewError(protocol.CodeContentModified, "the document changed; the request is for an older version")

// codeRequestFailed is the LSP's RequestFailed: a valid request the server
// could not answer.
const codeRequestFailed = jsonrpc2.Code(protocol.LSPErrorCodesRequestFailed)

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
