package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
	"github.com/bpf-lsp/bpf-lsp/vm"
)

// The kernel matrix in the editor: a code lens above each SEC program runs
// the file's programs on the target kernels (targetKernels; every
// catalogued kernel by default), each booted under qemu (package vm). The
// verdicts come back as diagnostics, one source per kernel
// ("bpf-verifier 6.12"), in the lens ("6.1 ✘ 6.12 ✔ 7.3 ✔") and in the
// hover on the program (the oldest kernel that accepts it).

// commandVerifyKernels runs the matrix for one document (argument: its URI).
const commandVerifyKernels = "bpf-lsp.verifyKernels"

// program is a SEC program of a document.
type program struct {
	name string
	span cparse.Span // the function's name
}

func programsOf(f *cparse.File) []program {
	var out []program
	for _, fn := range f.Funcs {
		if fn.Section != "" && fn.Span.File == f.Path {
			out = append(out, program{name: fn.Name, span: fn.Span})
		}
	}
	return out
}

// kernelMatrix is the last matrix run of a document.
type kernelMatrix struct {
	version int32    // the document version it verified
	kernels []string // versions, oldest first
	// rows holds, per program, one result per kernel (Verdict "" when the
	// kernel could not run).
	rows map[string][]verifier.Result
}

// lensKernels returns the kernels the lens verifies on.
func (s *Server) lensKernels() ([]kernels.Kernel, error) {
	s.mu.Lock()
	want := s.settings.TargetKernels
	s.mu.Unlock()
	if len(want) == 0 {
		return kernels.All(), nil
	}
	return kernels.ParseList(strings.Join(want, ","))
}

// staticTargets opens the targetKernels for the static checks: the
// running kernel when unset (none when its BTF is unreadable);
// invalid entries are left out (the lens reports them).
func (s *Server) staticTargets() []*kernels.Target {
	s.mu.Lock()
	want := slices.Clone(s.settings.TargetKernels)
	s.mu.Unlock()
	if len(want) == 0 {
		want = []string{"running"}
	}
	ts, _ := kernels.OpenTargets(want)
	return ts
}

// CodeLens puts "verify on 6.1 · 6.12 · 7.3" above each program, or the
// verdicts of the last run on this version of the document.
func (s *Server) CodeLens(ctx context.Context, params *protocol.CodeLensParams) ([]protocol.CodeLens, error) {
	snap, u, err := s.snapshotFor(ctx, params.TextDocument)
	if err != nil {
		return nil, err
	}
	snap = snap.navigable()
	ks, err := s.lensKernels()
	if err != nil {
		return nil, jsonrpc2.NewError(codeRequestFailed, "targetKernels: "+err.Error())
	}
	versions := make([]string, len(ks))
	for i, k := range ks {
		versions[i] = k.Version
	}
	s.mu.Lock()
	m := s.matrices[u]
	s.mu.Unlock()
	if m != nil && m.version != snap.version {
		m = nil
	}
	arg, _ := json.Marshal(string(u))
	lenses := []protocol.CodeLens{}
	for _, p := range snap.programs {
		title := "verify on " + strings.Join(versions, " · ")
		if m != nil {
			if cells, ok := m.rows[p.name]; ok {
				title = lensVerdicts(m.kernels, cells)
			}
		}
		lenses = append(lenses, protocol.CodeLens{Range: snap.mapper.rangeOf(p.span),
			Command: protocol.Command{Title: title, Command: commandVerifyKernels, Arguments: []protocol.LSPAny{arg}}})
	}
	return lenses, nil
}

// lensVerdicts renders "6.1 ✘ 6.12 ✔ 7.3 ✔".
func lensVerdicts(versions []string, cells []verifier.Result) string {
	parts := make([]string, len(versions))
	for i, v := range versions {
		mark := "?"
		switch cells[i].Verdict {
		case verifier.Accept:
			mark = "✔"
		case verifier.Reject, verifier.Failed:
			mark = "✘"
		}
		parts[i] = v + " " + mark
	}
	return strings.Join(parts, " ")
}

// verifyKernels runs the matrix for the saved file behind u and publishes
// its rejections; it returns one line per program.
func (s *Server) verifyKernels(ctx context.Context, u uri.URI) (string, error) {
	if u.Scheme() != "file" {
		return "", jsonrpc2.NewError(jsonrpc2.InvalidParams, fmt.Sprintf("verify %s: only saved files can be compiled and loaded", u))
	}
	ks, err := s.lensKernels()
	if err != nil {
		return "", jsonrpc2.NewError(codeRequestFailed, "targetKernels: "+err.Error())
	}
	s.mu.Lock()
	clang, parser, progress := s.settings.ClangPath, s.parser, s.caps.progress
	version := int32(-1)
	if d, open := s.docs[u]; open {
		version = d.version
	}
	s.mu.Unlock()

	report := func(string) {}
	if progress {
		token := protocol.String("bpf-lsp-verify-kernels-" + string(u))
		if err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err == nil {
			var names []string
			for _, k := range ks {
				names = append(names, k.Version)
			}
			s.progress(ctx, token, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: "Verifying on " + strings.Join(names, " · ")})
			defer s.progress(context.WithoutCancel(ctx), token, &protocol.WorkDoneProgressEnd{Kind: "end"})
			report = func(msg string) {
				s.progress(ctx, token, &protocol.WorkDoneProgressReport{Kind: "report", Message: ptr(msg)})
			}
		}
	}
	matrix, err := vm.BuildMatrix(ctx, vm.Options{Progress: report}, verifier.Options{Clang: clang, Parser: parser}, ks, []string{u.FsPath()})
	var capErr *verifier.CapabilityError
	if errors.As(err, &capErr) {
		s.logToClient(ctx, protocol.MessageTypeWarning, "bpf-lsp cannot run the kernel matrix: "+capErr.Msg)
		return capErr.Msg, nil
	}
	if ctx.Err() != nil {
		return "", protocol.ErrRequestCancelled
	}
	if err != nil {
		return "", jsonrpc2.NewError(codeRequestFailed, fmt.Sprintf("verify %s: %v", filepath.Base(u.FsPath()), err))
	}
	m := &kernelMatrix{version: version, rows: map[string][]verifier.Result{}}
	for _, run := range matrix.Kernels {
		m.kernels = append(m.kernels, run.Kernel.Version)
		if run.Err != nil {
			s.logToClient(ctx, protocol.MessageTypeWarning, "bpf-lsp: "+run.Err.Error())
		}
	}
	var lines []string
	for _, row := range matrix.Rows {
		m.rows[row.Program] = row.Cells
		lines = append(lines, fmt.Sprintf("%s: %s", nonEmpty(row.Program, filepath.Base(u.FsPath())), lensVerdicts(m.kernels, row.Cells)))
	}
	s.publishMatrix(ctx, u, m)
	return strings.Join(lines, "\n"), nil
}

// publishMatrix keeps the matrix for the lens and hover, replaces the
// document's per-kernel diagnostics, and asks the client to refresh.
func (s *Server) publishMatrix(ctx context.Context, u uri.URI, m *kernelMatrix) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	if s.matrices == nil {
		s.matrices = map[uri.URI]*kernelMatrix{}
	}
	s.matrices[u] = m
	d, open := s.docs[u]
	if !open || d.version != m.version || d.result == nil {
		s.mu.Unlock()
		return // edited meanwhile: the verdicts are for text that no longer exists
	}
	diags := []protocol.Diagnostic{}
	for _, old := range d.verifier {
		if !isMatrixSource(old.Source) {
			diags = append(diags, old)
		}
	}
	d.verifier = append(diags, matrixDiagnostics(d.result, m)...)
	d.verified++
	snap, all, pull, refresh := d.result, d.verifier, s.caps.pull, s.caps.refresh
	s.mu.Unlock()
	if pull && refresh {
		if err := s.client.DiagnosticRefresh(ctx); err != nil {
			s.log.Debug("diagnostic refresh", "err", err)
		}
	} else {
		s.publishLocked(ctx, u, snap, all)
	}
	if err := s.client.CodeLensRefresh(ctx); err != nil {
		s.log.Debug("code lens refresh", "err", err)
	}
}

func isMatrixSource(src protocol.Optional[string]) bool {
	v, ok := src.Get()
	return ok && strings.HasPrefix(v, verifierSource+" ")
}

// matrixDiagnostics turns each kernel's rejections into diagnostics with
// source "bpf-verifier VERSION", at the line the kernel names (else the
// program's name).
func matrixDiagnostics(snap *snapshot, m *kernelMatrix) []protocol.Diagnostic {
	var out []protocol.Diagnostic
	for _, p := range snap.programs {
		cells := m.rows[p.name]
		for i, c := range cells {
			if c.Verdict != verifier.Reject && c.Verdict != verifier.Failed {
				continue
			}
			rng := snap.mapper.rangeOf(p.span)
			if c.Line > 0 && (c.SourceFile == "" || c.SourceFile == snap.path || strings.HasSuffix(snap.path, "/"+c.SourceFile)) {
				rng = snap.mapper.lineRange(c.Line, c.Column)
			}
			msg := strings.TrimSpace(c.Message)
			code := nonEmpty(c.Code, "BL900")
			out = append(out, protocol.Diagnostic{
				Range: rng, Severity: protocol.DiagnosticSeverityError, Code: protocol.String(code), CodeDescription: ruleDoc(code),
				Source:  protocol.NewOptional(verifierSource + " " + m.kernels[i]),
				Message: protocol.String(fmt.Sprintf("kernel %s rejects %s: %s", m.kernels[i], p.name, strings.ReplaceAll(msg, "\n", " / "))),
			})
		}
	}
	return out
}

// programHover says, on a program's name, which kernels of the last matrix
// accept it; nil elsewhere or without a matrix for this version.
func (s *Server) programHover(u uri.URI, snap *snapshot, offset int) *protocol.Hover {
	s.mu.Lock()
	m := s.matrices[u]
	s.mu.Unlock()
	if m == nil || m.version != snap.version {
		return nil
	}
	for _, p := range snap.programs {
		if offset < p.span.Start.Offset || offset > p.span.End.Offset {
			continue
		}
		cells, ok := m.rows[p.name]
		if !ok {
			return nil
		}
		text := fmt.Sprintf("**%s** is rejected by every kernel verified (%s).", p.name, strings.Join(m.kernels, ", "))
		if oldest := oldestAccepting(m.kernels, cells); oldest != "" {
			text = fmt.Sprintf("**%s** loads on kernel **%s** and newer verified ones: %s.", p.name, oldest, lensVerdicts(m.kernels, cells))
		}
		rng := snap.mapper.rangeOf(p.span)
		return &protocol.Hover{Contents: &protocol.MarkupContent{Kind: protocol.MarkupKindMarkdown, Value: text}, Range: &rng}
	}
	return nil
}

// oldestAccepting returns the oldest kernel from which every newer
// verified kernel accepts the program ("" when the newest rejects it).
func oldestAccepting(versions []string, cells []verifier.Result) string {
	oldest := ""
	for i := len(cells) - 1; i >= 0 && cells[i].Verdict == verifier.Accept; i-- {
		oldest = versions[i]
	}
	return oldest
}
