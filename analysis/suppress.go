package analysis

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// suppressRE matches `// bpf-lsp:ignore CODE[,CODE] reason`.
// The reason runs to the end of the line or to another comment.
var suppressRE = regexp.MustCompile(`//\s*bpf-lsp:ignore\s+([A-Z]+[0-9]+(?:,[A-Z]+[0-9]+)*)[ \t]*((?:[^/]|/[^/])*)`)

type suppression struct {
	span   cparse.Span
	codes  []string
	reason string
	line   int // the line it applies to
	used   bool
}

// applySuppressions drops findings covered by a suppression comment on
// their line (a trailing comment) or on the line before (a comment alone on
// its line), and reports suppressions without a reason or that match nothing.
func applySuppressions(f *cparse.File, findings []Finding) []Finding {
	var sups []*suppression
	lines := bytes.Split(f.Src, []byte{'\n'})
	off := 0
	for i, line := range lines {
		if m := suppressRE.FindSubmatchIndex(line); m != nil {
			codeStart := off + m[0]
			s := &suppression{
				span:   cparse.Span{File: f.Path, Start: cparse.PosAt(f.Src, codeStart), End: cparse.PosAt(f.Src, off+m[1])},
				codes:  strings.Split(string(line[m[2]:m[3]]), ","),
				reason: strings.TrimSpace(string(line[m[4]:m[5]])),
				line:   i + 1,
			}
			if len(bytes.TrimSpace(line[:m[0]])) == 0 {
				s.line = i + 2 // a comment on its own line covers the next line
			}
			sups = append(sups, s)
		}
		off += len(line) + 1
	}
	var out []Finding
	for _, fd := range findings {
		if fd.Span.File == f.Path && suppressed(sups, fd) {
			continue
		}
		out = append(out, fd)
	}
	for _, s := range sups {
		if s.reason == "" {
			out = append(out, Finding{Code: codeSuppressionNoReason, Severity: SevWarning, Span: s.span,
				Message: "bpf-lsp:ignore needs a reason: say why the finding does not apply"})
		}
		if !s.used {
			out = append(out, Finding{Code: codeUnusedSuppression, Severity: SevWarning, Span: s.span,
				Message: fmt.Sprintf("this bpf-lsp:ignore %s matches no finding on line %d; remove it", strings.Join(s.codes, ","), s.line)})
		}
	}
	return out
}

func suppressed(sups []*suppression, fd Finding) bool {
	for _, s := range sups {
		if s.line != fd.Span.Start.Line {
			continue
		}
		for _, c := range s.codes {
			if c == fd.Code {
				s.used = true
				return true
			}
		}
	}
	return false
}
