package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/report"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// commandVerify runs the kernel cross-check on one file (the editor's
// "Verify this file against the kernel").
const commandVerify = "bpf-lsp.verify"

// ExecuteCommand runs bpf-lsp.verify with a document URI argument.
func (s *Server) ExecuteCommand(ctx context.Context, params *protocol.ExecuteCommandParams) (protocol.LSPAny, error) {
	if params.Command != commandVerify {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, "unknown command "+params.Command)
	}
	if len(params.Arguments) != 1 {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, commandVerify+" takes one argument: the document URI")
	}
	var target string
	if err := json.Unmarshal(params.Arguments[0], &target); err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, commandVerify+": the argument must be a URI string")
	}
	jsonrpc2.Async(ctx)
	summary, err := s.verifyDocument(jsonrpc2.DetachContext(ctx), uri.URI(target), false)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
	out, _ := json.Marshal(summary)
	return protocol.LSPAny(out), nil
}

// verifyDocument compiles the saved file, loads its programs into the
// kernel verifier, and publishes the kernel's rejections (source
// "bpf-verifier") next to the static findings, saying whether each agrees.
// It reports progress with $/progress. It runs only when asked: on save
// with verifyOnSave, or through the command.
func (s *Server) verifyDocument(ctx context.Context, u uri.URI, onSave bool) (string, error) {
	s.mu.Lock()
	clang, parser := s.settings.ClangPath, s.parser
	s.mu.Unlock()
	token := protocol.String("bpf-lsp-verify-" + string(u))
	if err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err == nil {
		s.progress(ctx, token, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: "Verifying against the kernel"})
		defer s.progress(ctx, token, &protocol.WorkDoneProgressEnd{Kind: "end"})
	}
	results, err := verifier.Run(ctx, verifier.Options{Clang: clang, Parser: parser}, []string{u.FsPath()})
	var capErr *verifier.CapabilityError
	if errors.As(err, &capErr) {
		s.logToClient(ctx, protocol.MessageTypeWarning, capErr.Msg)
		return capErr.Msg, nil
	}
	if err != nil {
		return "", err
	}
	var diags []protocol.Diagnostic
	var lines []string
	for _, r := range results {
		lines = append(lines, fmt.Sprintf("%s: %s (%s)", r.Program, r.Verdict, r.Agreement))
		if r.Verdict == verifier.Accept {
			continue
		}
		line := max(r.Line-1, 0)
		msg := fmt.Sprintf("kernel verifier rejects %s: %s", r.Program, strings.ReplaceAll(r.Message, "\n", " / "))
		if r.Agreement != "" {
			msg += fmt.Sprintf(" [%s: %s]", r.Agreement, r.Reason)
		}
		diags = append(diags, protocol.Diagnostic{
			Range:    protocol.Range{Start: protocol.Position{Line: uint32(line), Character: uint32(max(r.Column-1, 0))}, End: protocol.Position{Line: uint32(line), Character: 1000}},
			Severity: protocol.DiagnosticSeverityError, Code: protocol.String(r.Code),
			CodeDescription: protocol.CodeDescription{Href: uri.URI(report.RulesURL + "#" + strings.ToLower(r.Code))},
			Source:          protocol.NewOptional("bpf-verifier"), Message: protocol.String(msg),
		})
	}
	s.mu.Lock()
	d, ok := s.docs[u]
	var snap *snapshot
	if ok {
		d.verifier = diags
		snap = d.result
	}
	s.mu.Unlock()
	if snap != nil {
		s.publish(ctx, u, snap, diags)
	}
	s.mu.Lock()
	pull := s.pull
	s.mu.Unlock()
	if pull {
		// Pulling clients re-ask for diagnostics, now with the kernel's.
		if err := s.client.DiagnosticRefresh(ctx); err != nil {
			s.log.Debug("diagnostic refresh", "err", err)
		}
	}
	return strings.Join(lines, "\n"), nil
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
