// Package report renders findings for people and tools: compiler-style text,
// a JSON array, and SARIF 2.1.0. The check and verify commands share it.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Paths turns absolute file names into the form shown to the user: relative
// to Dir when the file lies below it, absolute otherwise.
type Paths struct{ Dir string }

// Show returns the displayed form of path.
func (p Paths) Show(path string) string {
	if p.Dir == "" || path == "" {
		return path
	}
	rel, err := filepath.Rel(p.Dir, path)
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return rel
}

func (p Paths) pos(s cparse.Span) string {
	return fmt.Sprintf("%s:%d:%d", p.Show(s.File), s.Start.Line, s.Start.Col)
}

// Text writes findings like a compiler does:
//
//	file:line:col: severity: message [code]
//	file:line:col: note: related message
//
// With color, the location is bold and the severity colored as clang
// colors its diagnostics.
func Text(w io.Writer, p Paths, findings []analysis.Finding, color bool) error {
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	for _, f := range findings {
		msg := f.Message
		if f.Kernel != "" {
			msg += fmt.Sprintf(" (kernel: %q)", f.Kernel)
		}
		sev := f.Severity.String()
		if _, err := fmt.Fprintf(w, "%s: %s: %s [%s]\n", paint("1", p.pos(f.Span)), paint(severityColor[f.Severity], sev), paint("1", msg), f.Code); err != nil {
			return err
		}
		for _, r := range f.Related {
			if _, err := fmt.Fprintf(w, "%s: %s: %s\n", paint("1", p.pos(r.Span)), paint("1;30", "note"), r.Message); err != nil {
				return err
			}
		}
	}
	return nil
}

// severityColor are clang's: bold red errors, bold magenta warnings, bold
// cyan remarks.
var severityColor = map[analysis.Severity]string{analysis.SevError: "1;31", analysis.SevWarning: "1;35", analysis.SevInfo: "1;36"}

// JSONFinding is the stable JSON shape of one finding (1-based lines and
// byte columns; the end is exclusive). File names are absolute; a name that
// is not valid UTF-8 has its invalid bytes and every '%' written as %XX and
// FileEscaped set, so it survives JSON exactly.
type JSONFinding struct {
	File        string        `json:"file"`
	FileEscaped bool          `json:"fileEscaped,omitempty"`
	Line        int           `json:"line"`
	Column      int           `json:"column"`
	EndLine     int           `json:"endLine"`
	EndColumn   int           `json:"endColumn"`
	Severity    string        `json:"severity"`
	Code        string        `json:"code"`
	Message     string        `json:"message"`
	Kernel      string        `json:"kernel,omitempty"`
	Function    string        `json:"function,omitempty"`
	Related     []JSONRelated `json:"related"`
	Fixes       []JSONFix     `json:"fixes,omitempty"`
}

// JSONRelated is a related location of a JSONFinding.
type JSONRelated struct {
	File        string `json:"file"`
	FileEscaped bool   `json:"fileEscaped,omitempty"`
	Line        int    `json:"line"`
	Column      int    `json:"column"`
	Message     string `json:"message"`
}

// JSONFix is a suggested fix of a JSONFinding.
type JSONFix struct {
	Message   string     `json:"message"`
	Preferred bool       `json:"preferred,omitempty"`
	Edits     []JSONEdit `json:"edits"`
}

// JSONEdit replaces the bytes [Offset, Offset+Length) of File with NewText.
type JSONEdit struct {
	File        string `json:"file"`
	FileEscaped bool   `json:"fileEscaped,omitempty"`
	Offset      int    `json:"offset"`
	Length      int    `json:"length"`
	NewText     string `json:"newText"`
}

// ToJSON converts findings to their JSON shape.
func ToJSON(p Paths, findings []analysis.Finding) []JSONFinding {
	out := make([]JSONFinding, 0, len(findings))
	for _, f := range findings {
		file, esc := jsonPath(f.Span.File)
		j := JSONFinding{
			File: file, FileEscaped: esc, Line: f.Span.Start.Line, Column: f.Span.Start.Col,
			EndLine: f.Span.End.Line, EndColumn: f.Span.End.Col,
			Severity: f.Severity.String(), Code: f.Code, Message: f.Message,
			Kernel: f.Kernel, Function: f.Func, Related: []JSONRelated{},
		}
		for _, r := range f.Related {
			file, esc := jsonPath(r.Span.File)
			j.Related = append(j.Related, JSONRelated{File: file, FileEscaped: esc, Line: r.Span.Start.Line, Column: r.Span.Start.Col, Message: r.Message})
		}
		for _, fx := range f.Fixes {
			jf := JSONFix{Message: fx.Message, Preferred: fx.Preferred, Edits: []JSONEdit{}}
			for _, e := range fx.Edits {
				file, esc := jsonPath(e.Span.File)
				jf.Edits = append(jf.Edits, JSONEdit{File: file, FileEscaped: esc, Offset: e.Span.Start.Offset, Length: e.Span.End.Offset - e.Span.Start.Offset, NewText: e.NewText})
			}
			j.Fixes = append(j.Fixes, jf)
		}
		out = append(out, j)
	}
	return out
}

// jsonPath returns the absolute form of path for JSON, escaped losslessly
// when it is not valid UTF-8 (JSON would turn those bytes into U+FFFD).
func jsonPath(path string) (string, bool) {
	if path != "" && !filepath.IsAbs(path) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	if utf8.ValidString(path) {
		return path, false
	}
	var b strings.Builder
	for i := 0; i < len(path); {
		r, n := utf8.DecodeRuneInString(path[i:])
		if r == utf8.RuneError && n <= 1 || path[i] == '%' {
			fmt.Fprintf(&b, "%%%02X", path[i])
			i++
			continue
		}
		b.WriteString(path[i : i+n])
		i += n
	}
	return b.String(), true
}

// fileURI is path as an absolute file: URI; percent-encoding keeps every
// byte of a name that is not UTF-8.
func fileURI(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: "file", Path: path}).String()
}

// JSON writes findings as one indented JSON array.
func JSON(w io.Writer, p Paths, findings []analysis.Finding) error {
	s := &JSONStream{W: w, Paths: p}
	if err := s.Write(findings); err != nil {
		return err
	}
	return s.Close()
}

// JSONStream writes one JSON array in parts, so a long run prints each
// file's findings as soon as they are known; the output is the same as
// JSON's for all the findings at once.
type JSONStream struct {
	W     io.Writer
	Paths Paths
	n     int
}

// Write appends findings to the array.
func (s *JSONStream) Write(findings []analysis.Finding) error {
	for _, j := range ToJSON(s.Paths, findings) {
		data, err := json.MarshalIndent(j, "  ", "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if s.n == 0 {
			sep = "[\n  "
		}
		s.n++
		if _, err := fmt.Fprintf(s.W, "%s%s", sep, data); err != nil {
			return err
		}
	}
	return nil
}

// Close ends the array.
func (s *JSONStream) Close() error {
	end := "\n]\n"
	if s.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(s.W, end)
	return err
}
