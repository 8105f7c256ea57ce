package lsp

import (
	"context"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/report"
)

// source names bpf-lsp's own diagnostics (clangd's are "clang"; the
// kernel's, from the cross-check, "bpf-verifier").
const source = "bpf-lsp"

// publishLocked sends the diagnostics of one analysed version (an empty
// list clears earlier ones), plus the kernel verdicts of the last save.
// The caller holds pubMu. Pulling clients are not pushed to.
func (s *Server) publishLocked(ctx context.Context, u uri.URI, snap *snapshot, verifier []protocol.Diagnostic) {
	s.mu.Lock()
	pull := s.caps.pull
	s.mu.Unlock()
	if pull {
		return
	}
	diags := append(s.toDiagnostics(snap), verifier...)
	err := s.client.PublishDiagnostics(ctx, &protocol.PublishDiagnosticsParams{
		URI: u, Version: protocol.NewOptional(snap.version), Diagnostics: diags})
	if err != nil {
		s.log.Debug("publishDiagnostics", "err", err)
	}
}

// toDiagnostics maps the findings of a snapshot to LSP diagnostics (for a
// failed analysis: its reason and what carryForward kept).
func (s *Server) toDiagnostics(snap *snapshot) []protocol.Diagnostic {
	diags := []protocol.Diagnostic{}
	for _, fd := range snap.findings {
		diags = append(diags, s.diagnostic(snap, fd))
	}
	return diags
}

// diagnostic maps one finding. Findings located in a header are shown at
// the top of the document, prefixed with their location.
func (s *Server) diagnostic(snap *snapshot, fd analysis.Finding) protocol.Diagnostic {
	path := snap.path
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
		CodeDescription: ruleDoc(fd.Code),
		Source:          protocol.NewOptional(source),
	}
	if len(fd.Fixes) > 0 {
		msg += " (fix available)"
	}
	for _, r := range fd.Related {
		if s.caps.related {
			d.RelatedInformation = append(d.RelatedInformation, protocol.DiagnosticRelatedInformation{
				Location: s.location(snap, r.Span), Message: r.Message})
		} else {
			// Without relatedInformation the notes go in the message, as clangd does.
			msg += "\n" + s.noteLocation(path, r.Span) + r.Message
		}
	}
	d.Message = protocol.String(msg)
	return d
}

// noteLocation prefixes a flattened note with its line ("12: ").
func (s *Server) noteLocation(path string, sp cparse.Span) string {
	if sp.Start.Line <= 0 {
		return ""
	}
	if sp.File != path && sp.File != "" {
		return report.Paths{}.Show(sp.File) + ":" + strconv.Itoa(sp.Start.Line) + ": "
	}
	return strconv.Itoa(sp.Start.Line) + ": "
}

// ruleDoc links a rule code to its section of docs/rules.md.
func ruleDoc(code string) protocol.CodeDescription {
	return protocol.CodeDescription{Href: uri.URI(report.RulesURL + "#" + strings.ToLower(code))}
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
func (s *Server) location(snap *snapshot, sp cparse.Span) protocol.Location {
	if sp.File == snap.path || sp.File == "" {
		return protocol.Location{URI: snap.uri, Range: snap.mapper.rangeOf(sp)}
	}
	s.mu.Lock()
	var text []byte
	for _, d := range s.docs {
		if d.path == sp.File {
			text = d.text
		}
	}
	utf8 := s.caps.utf8
	s.mu.Unlock()
	if text == nil {
		text, _ = cparse.ReadRegular(sp.File, cparse.DefaultMaxFileSize)
	}
	m := newMapper(text, utf8)
	if sp.Start.Offset < 0 { // a position without an offset: use line and column
		start := m.offset(protocol.Position{Line: uint32(max(sp.Start.Line-1, 0)), Character: uint32(max(sp.Start.Col-1, 0))})
		return protocol.Location{URI: uri.File(sp.File), Range: protocol.Range{Start: m.position(start), End: m.position(start)}}
	}
	return protocol.Location{URI: uri.File(sp.File), Range: m.rangeOf(sp)}
}

// Diagnostic answers a pull request (textDocument/diagnostic). The result
// id names the analysis and the kernel verdicts it includes, so a client
// re-asking about unchanged state gets an "unchanged" report. A closed
// file is answered from the workspace analysis.
func (s *Server) Diagnostic(ctx context.Context, params *protocol.DocumentDiagnosticParams) (protocol.DocumentDiagnosticReport, error) {
	s.mu.Lock()
	_, open := s.docs[params.TextDocument.URI]
	s.mu.Unlock()
	if !open {
		if rep, ok := s.closedFileReport(params.TextDocument.URI, params.PreviousResultID); ok {
			return rep, nil
		}
	}
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	var verifier []protocol.Diagnostic
	gen, verified := 0, 0
	if d, ok := s.docs[u]; ok {
		verifier, gen, verified = d.verifier, d.gen, d.verified
	}
	s.mu.Unlock()
	id := strconv.Itoa(int(snap.version)) + "." + strconv.Itoa(gen) + "." + strconv.Itoa(verified)
	if params.PreviousResultID != nil && *params.PreviousResultID == id {
		return &protocol.RelatedUnchangedDocumentDiagnosticReport{UnchangedDocumentDiagnosticReport: protocol.UnchangedDocumentDiagnosticReport{
			Kind: "unchanged", ResultID: id}}, nil
	}
	return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
		Kind: "full", ResultID: &id, Items: append(s.toDiagnostics(snap), verifier...)}}, nil
}
