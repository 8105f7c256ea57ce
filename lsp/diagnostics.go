package lsp

import (
	"context"
	"os"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/report"
)

// publish sends the diagnostics of one analysed version (an empty list
// clears earlier ones), plus any kernel verdicts from the last save.
func (s *Server) publish(ctx context.Context, u uri.URI, snap *snapshot, extra []protocol.Diagnostic) {
	s.mu.Lock()
	pull := s.pull
	s.mu.Unlock()
	if pull {
		return // the client asks with textDocument/diagnostic
	}
	diags := s.toDiagnostics(snap, u)
	diags = append(diags, extra...)
	err := s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{
		URI: u, Version: protocol.NewOptional(snap.version), Diagnostics: diags})
	if err != nil {
		s.log.Debug("publishDiagnostics", "err", err)
	}
}

// toDiagnostics maps the findings in this document to LSP diagnostics.
// Findings located in headers are shown at the top of the file.
func (s *Server) toDiagnostics(snap *snapshot, u uri.URI) []protocol.Diagnostic {
	diags := []protocol.Diagnostic{}
	path := u.FsPath()
	for _, fd := range snap.findings {
		diags = append(diags, s.diagnostic(snap, path, fd))
	}
	return diags
}

func (s *Server) diagnostic(snap *snapshot, path string, fd analysis.Finding) protocol.Diagnostic {
	rng := protocol.Range{}
	msg := fd.Message
	if fd.Span.File == path || fd.Span.File == "" {
		rng = snap.mapper.rangeOf(fd.Span)
	} else {
		msg = report.Paths{}.Show(fd.Span.File) + ":" + strconv.Itoa(fd.Span.Start.Line) + ": " + msg
	}
	if fd.Kernel != "" {
		msg += " (kernel: " + fd.Kernel + ")"
	}
	d := protocol.Diagnostic{
		Range:           rng,
		Severity:        severity(fd.Severity),
		Code:            protocol.String(fd.Code),
		CodeDescription: protocol.CodeDescription{Href: uri.URI(report.RulesURL + "#" + strings.ToLower(fd.Code))},
		Source:          protocol.NewOptional("bpf-lsp"),
		Message:         protocol.String(msg),
	}
	for _, r := range fd.Related {
		if s.related {
			d.RelatedInformation = append(d.RelatedInformation, protocol.DiagnosticRelatedInformation{
				Location: s.location(snap, path, r.Span), Message: r.Message})
		} else {
			d.Message = protocol.String(string(d.Message.(protocol.String)) + "\n" + r.Message)
		}
	}
	return d
}

func severity(s analysis.Severity) protocol.DiagnosticSeverity {
	switch s {
	case analysis.SevError:
		return protocol.DiagnosticSeverityError
	case analysis.SevWarning:
		return protocol.DiagnosticSeverityWarning
	default:
		return protocol.DiagnosticSeverityInformation
	}
}

// location maps a span anywhere (this document or a header) to an LSP
// location, reading the header's text to convert its positions.
func (s *Server) location(snap *snapshot, path string, sp cparse.Span) protocol.Location {
	if sp.File == path {
		return protocol.Location{URI: uri.File(path), Range: snap.mapper.rangeOf(sp)}
	}
	s.mu.Lock()
	var text []byte
	for _, d := range s.docs {
		if d.path == sp.File {
			text = d.text
		}
	}
	s.mu.Unlock()
	if text == nil {
		text, _ = os.ReadFile(sp.File)
	}
	m := newMapper(text, s.utf8)
	start := sp.Start.Offset
	if start < 0 { // a position without an offset: use line and column
		start = m.offset(protocol.Position{Line: uint32(max(sp.Start.Line-1, 0)), Character: uint32(max(sp.Start.Col-1, 0))})
		return protocol.Location{URI: uri.File(sp.File), Range: protocol.Range{Start: m.position(start), End: m.position(start)}}
	}
	return protocol.Location{URI: uri.File(sp.File), Range: m.rangeOf(sp)}
}

// Diagnostic answers a pull request (textDocument/diagnostic).
func (s *Server) Diagnostic(ctx context.Context, params *protocol.DocumentDiagnosticParams) (protocol.DocumentDiagnosticReport, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var extra []protocol.Diagnostic
	if d, ok := s.docs[u]; ok {
		extra = d.verifier
	}
	s.mu.Unlock()
	return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
		Kind: "full", Items: append(s.toDiagnostics(snap, u), extra...)}}, nil
}
