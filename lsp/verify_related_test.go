package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// A rejection with the kernel's causal path (7.3 logs) carries the path as
// related information, or as "because:" lines for a client without it.
func TestVerifierCausalPathIsRelated(t *testing.T) {
	path := "/w/prog.bpf.c"
	d := &document{uri: uri.File(path), path: path, text: []byte("int a;\nint b;\nint c;\n")}
	r := verifier.Result{Program: "p", Verdict: verifier.Reject, Message: "Unreleased reference id=2", Line: 3, Column: 1, SourceFile: path,
		Related: []verifier.Related{{Insn: 4, File: path, Line: 1, Column: 1, Message: "reference acquired here"}, {Insn: -1, Message: "no line"}}}
	s := &Server{}
	s.caps.related = true
	diags := s.verifierDiagnostics(d, []verifier.Result{r})
	if len(diags) != 1 || len(diags[0].RelatedInformation) != 1 {
		t.Fatalf("diagnostics %+v", diags)
	}
	rel := diags[0].RelatedInformation[0]
	if rel.Location.URI != d.uri || rel.Location.Range.Start.Line != 0 || rel.Message != "reference acquired here" {
		t.Errorf("related %+v", rel)
	}
	s.caps.related = false
	diags = s.verifierDiagnostics(d, []verifier.Result{r})
	if msg := messageOf(diags[0]); len(diags[0].RelatedInformation) != 0 || !strings.Contains(msg, "because: ") || !strings.Contains(msg, ":1: reference acquired here") {
		t.Errorf("flattened: %q", msg)
	}
}
