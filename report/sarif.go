package report

import (
	"encoding/json"
	"io"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// RulesURL is where rule documentation lives; a rule's anchor is its code.
const RulesURL = "https://github.com/bpf-lsp/bpf-lsp/blob/main/docs/rules.md"

// SARIF writes findings as a SARIF 2.1.0 log with one run. rules describes
// every code that may appear (the tool's rule table).
func SARIF(w io.Writer, p Paths, version string, rules []*analysis.Rule, findings []analysis.Finding) error {
	run := sarif.NewRunWithInformationURI("bpf-lsp", RulesURL)
	run.Tool.Driver.WithVersion(version)
	index := map[string]int{}
	for _, r := range rules {
		index[r.Code] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.AddRule(sarif.NewRule(r.Code).
			WithName(r.Name).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(r.Title)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(r.Doc)).
			WithHelpURI(RulesURL + "#" + lowerCode(r.Code)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level(r.Severity))))
	}
	for _, f := range findings {
		res := sarif.NewRuleResult(f.Code).
			WithLevel(level(f.Severity)).
			WithMessage(sarif.NewTextMessage(f.Message)).
			WithLocations([]*sarif.Location{location(f.Span, "")})
		if i, ok := index[f.Code]; ok {
			res.WithRuleIndex(i)
		}
		for _, r := range f.Related {
			res.AddRelatedLocation(location(r.Span, r.Message))
		}
		for _, fx := range f.Fixes {
			fix := sarif.NewFix().WithDescription(sarif.NewTextMessage(fx.Message))
			for _, e := range fx.Edits {
				fix.AddArtifactChange(sarif.NewArtifactChange().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(fileURI(e.Span.File))).
					AddReplacement(sarif.NewReplacement().
						WithDeletedRegion(sarif.NewRegion().WithByteOffset(e.Span.Start.Offset).WithByteLength(e.Span.End.Offset - e.Span.Start.Offset)).
						WithInsertedContent(sarif.NewArtifactContent().WithText(e.NewText))))
			}
			res.AddFixe(fix)
		}
		if f.Kernel != "" {
			res.WithProperties(sarif.NewPropertyBag().Add("kernelMessage", f.Kernel))
		}
		run.AddResult(res)
	}
	log := sarif.NewReport().AddRun(run)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func location(s cparse.Span, msg string) *sarif.Location {
	loc := sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewSimpleArtifactLocation(fileURI(s.File))).
		WithRegion(sarif.NewRegion().
			WithStartLine(s.Start.Line).WithStartColumn(s.Start.Col).
			WithEndLine(s.End.Line).WithEndColumn(s.End.Col)))
	if msg != "" {
		loc.WithMessage(sarif.NewTextMessage(msg))
	}
	return loc
}

func level(s analysis.Severity) string {
	switch s {
	case analysis.SevError:
		return "error"
	case analysis.SevWarning:
		return "warning"
	default:
		return "note"
	}
}

// lowerCode turns "BL201" into the Markdown anchor "bl201".
func lowerCode(code string) string {
	b := []byte(code)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
