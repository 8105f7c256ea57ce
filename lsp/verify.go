package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/report"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// verifierSource names diagnostics that come from the kernel.
const verifierSource = "bpf-verifier"

// ExecuteCommand runs bpf-lsp.verify on the document named by its one
// argument (a URI string, or an object with a "uri"), and returns a
// one-line-per-program summary.
func (s *Server) ExecuteCommand(ctx context.Context, params *protocol.ExecuteCommandParams) (protocol.LSPAny, error) {
	if params.Command != commandVerify && params.Command != commandVerifyKernels {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, "unknown command "+params.Command)
	}
	if len(params.Arguments) != 1 {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, commandVerify+" takes one argument: the document URI")
	}
	var target string
	if err := json.Unmarshal(params.Arguments[0], &target); err != nil {
		var obj struct {
			URI string `json:"uri"`
		}
		if json.Unmarshal(params.Arguments[0], &obj) != nil || obj.URI == "" {
			return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, commandVerify+": the argument must be a document URI")
		}
		target = obj.URI
	}
	jsonrpc2.Async(ctx) // compiling and loading take a while; the progress calls need the read loop
	run := s.verifyDocument
	if params.Command == commandVerifyKernels {
		run = s.verifyKernels
	}
	summary, err := run(ctx, uri.URI(target))
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(summary)
	if err != nil {
		return nil, err
	}
	return protocol.LSPAny(out), nil
}

// verifyRun is one kernel cross-check of a document version. A save with
// verifyOnSave and the verify command share it: the second asks for what
// the first is already computing. An edit or close cancels it (its
// verdicts would be for text that no longer exists), which kills its
// compiler.
type verifyRun struct {
	version int32 // the document version it checks; -1 when the document is not open
	cancel  context.CancelFunc
	done    chan struct{}
	summary string // set before done closes
	err     error
}

// verifyDocument returns the summary of the kernel cross-check of the
// document's current version, joining the run in progress for it or
// starting one. ctx only bounds the wait: the run goes on for whoever
// else waits, and publishes its verdicts.
func (s *Server) verifyDocument(ctx context.Context, u uri.URI) (string, error) {
	if u.Scheme() != "file" {
		return "", jsonrpc2.NewError(jsonrpc2.InvalidParams, fmt.Sprintf("verify %s: only saved files can be compiled and loaded", u))
	}
	s.mu.Lock()
	version := int32(-1)
	if d, open := s.docs[u]; open {
		version = d.version
	}
	run := s.verifyRuns[u]
	if run == nil || run.version != version {
		if run != nil {
			run.cancel()
		}
		rctx, cancel := context.WithCancel(s.ctx)
		run = &verifyRun{version: version, cancel: cancel, done: make(chan struct{})}
		s.verifyRuns[u] = run
		go s.runVerify(rctx, u, run)
	}
	s.mu.Unlock()
	select {
	case <-run.done:
		return run.summary, run.err
	case <-ctx.Done():
		return "", protocol.ErrRequestCancelled
	}
}

// cancelVerifyLocked stops the cross-check of u, if one runs.
func (s *Server) cancelVerifyLocked(u uri.URI) {
	if run := s.verifyRuns[u]; run != nil {
		run.cancel()
		delete(s.verifyRuns, u)
	}
}

// runVerify compiles the saved file, loads its programs into the kernel
// verifier, and publishes the kernel's rejections (source "bpf-verifier")
// next to the static findings, saying whether each agrees. It reports
// $/progress when the client supports it.
func (s *Server) runVerify(ctx context.Context, u uri.URI, run *verifyRun) {
	defer func() {
		if ctx.Err() != nil && s.ctx.Err() == nil && run.err == nil {
			run.summary, run.err = "", errContentModified // an edit or close cancelled it
		}
		run.cancel()
		s.mu.Lock()
		if s.verifyRuns[u] == run {
			delete(s.verifyRuns, u)
		}
		s.mu.Unlock()
		close(run.done)
	}()
	run.summary, run.err = s.verify(ctx, u, run.version)
}

func (s *Server) verify(ctx context.Context, u uri.URI, version int32) (string, error) {
	s.mu.Lock()
	clang, parser, st, progress := s.settings.ClangPath, s.parser, s.settings, s.caps.progress
	s.mu.Unlock()
	path := u.FsPath()
	// The project config chooses flags, never the compiler: clang is the
	// editor's clangPath or the default.
	parser, _ = s.projectFor(st, parser, path)
	name := filepath.Base(path)

	if progress {
		token := protocol.String("bpf-lsp-verify-" + string(u))
		if err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err == nil {
			s.progress(ctx, token, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: "Verifying against the kernel",
				Message: ptr(name)})
			defer s.progress(context.WithoutCancel(ctx), token, &protocol.WorkDoneProgressEnd{Kind: "end"})
		}
	}
	results, err := verifier.Run(ctx, verifier.Options{Clang: clang, Parser: parser}, []string{path})
	var capErr *verifier.CapabilityError
	if errors.As(err, &capErr) {
		s.logToClient(ctx, protocol.MessageTypeWarning, "bpf-lsp cannot run the kernel cross-check: "+capErr.Msg)
		return capErr.Msg, nil
	}
	if ctx.Err() != nil {
		return "", errContentModified
	}
	if err != nil {
		return "", jsonrpc2.NewError(codeRequestFailed, fmt.Sprintf("verify %s: %v", name, err))
	}
	var lines []string
	for _, r := range results {
		line := fmt.Sprintf("%s: %s", r.Program, r.Verdict)
		if r.Agreement != "" {
			line += fmt.Sprintf(" (%s: %s)", r.Agreement, r.Reason)
		}
		lines = append(lines, line)
	}
	summary := strings.Join(lines, "\n")
	if version < 0 {
		return summary, nil
	}

	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	d, still := s.docs[u]
	if !still || d.version != version {
		s.mu.Unlock()
		return summary, nil // edited meanwhile: the verdicts are for text that no longer exists
	}
	d.verifier = s.verifierDiagnostics(d, results)
	d.verified++
	snap, diags, pull, refresh := d.result, d.verifier, s.caps.pull, s.caps.refresh
	s.mu.Unlock()
	switch {
	case pull && refresh:
		// Pulling clients re-ask for diagnostics, now with the kernel's.
		if err := s.client.DiagnosticRefresh(ctx); err != nil {
			s.log.Debug("diagnostic refresh", "err", err)
		}
	case snap != nil:
		s.publishLocked(ctx, u, snap, diags)
	}
	return summary, nil
}

// verifierDiagnostics maps kernel verdicts to diagnostics on the document
// (the caller holds s.mu): a rejection at the line the kernel names, an
// acceptance where bpf-lsp reports an error as information at that
// finding, so both sides of a disagreement are visible.
func (s *Server) verifierDiagnostics(d *document, results []verifier.Result) []protocol.Diagnostic {
	m := newMapper(d.text, s.caps.utf8)
	diags := []protocol.Diagnostic{}
	for _, r := range results {
		switch r.Verdict {
		case verifier.Accept:
			if r.Agreement != verifier.StaticOnly || len(r.Static) == 0 {
				continue
			}
			fd := r.Static[0]
			if fd.Span.File != d.path {
				continue
			}
			diags = append(diags, protocol.Diagnostic{
				Range: m.rangeOf(fd.Span), Severity: protocol.DiagnosticSeverityInformation, Code: protocol.String(fd.Code),
				CodeDescription: ruleDoc(fd.Code), Source: protocol.NewOptional(verifierSource),
				Message: protocol.String(fmt.Sprintf("the kernel verifier accepts %s [%s: %s]", r.Program, r.Agreement, r.Reason)),
			})
		default: // a rejection, or a program that could not be built or loaded
			rng := protocol.Range{}
			msg := strings.ReplaceAll(strings.TrimSpace(r.Message), "\n", " / ")
			if r.Verdict == verifier.Reject {
				msg = fmt.Sprintf("kernel verifier rejects %s: %s", r.Program, msg)
			} else {
				msg = fmt.Sprintf("kernel cross-check failed for %s: %s", nonEmpty(r.Program, d.path), msg)
			}
			switch {
			case r.Line > 0 && (r.SourceFile == "" || r.SourceFile == d.path):
				rng = m.lineRange(r.Line, r.Column)
			case r.Line > 0:
				msg = report.Paths{}.Show(r.SourceFile) + fmt.Sprintf(":%d: ", r.Line) + msg
			}
			if r.Agreement != "" {
				msg += fmt.Sprintf(" [%s: %s]", r.Agreement, r.Reason)
			}
			if r.Note != "" {
				msg += " (" + r.Note + ")"
			}
			code := nonEmpty(r.Code, "BL900")
			diag := protocol.Diagnostic{
				Range: rng, Severity: protocol.DiagnosticSeverityError, Code: protocol.String(code),
				CodeDescription: ruleDoc(code), Source: protocol.NewOptional(verifierSource),
			}
			// The kernel's causal path (7.3 logs): each step where the
			// state that failed was made.
			for _, step := range r.Related {
				if step.Line <= 0 {
					continue
				}
				if !s.caps.related {
					msg += fmt.Sprintf("\nbecause: %s:%d: %s", report.Paths{}.Show(nonEmpty(step.File, d.path)), step.Line, step.Message)
					continue
				}
				loc := protocol.Location{URI: d.uri, Range: m.lineRange(step.Line, step.Column)}
				if step.File != "" && step.File != d.path {
					line := uint32(step.Line - 1)
					loc = protocol.Location{URI: uri.File(step.File), Range: protocol.Range{Start: protocol.Position{Line: line}, End: protocol.Position{Line: line}}}
				}
				diag.RelatedInformation = append(diag.RelatedInformation, protocol.DiagnosticRelatedInformation{Location: loc, Message: step.Message})
			}
			diag.Message = protocol.String(msg)
			diags = append(diags, diag)
		}
	}
	return diags
}

func nonEmpty(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func (s *Server) progress(ctx context.Context, token protocol.ProgressToken, value any) {
	raw, err := protocol.Marshal(value)
	if err != nil {
		return
	}
	if err := s.client.Progress(ctx, &protocol.ProgressParams{Token: token, Value: protocol.LSPAny(raw)}); err != nil {
		s.log.Debug("progress", "err", err)
	}
}
