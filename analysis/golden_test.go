package analysis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// The golden driver: every testdata program states, with `// want "re"`
// comments, the findings it must get, line by line; the match is 1:1 (no
// missing, no unexpected finding). The first line says what the kernel does
// with the program; an accepted program must have no finding at all, unless
// it is marked "(guarded_by)": annotations only bpf-lsp reads.

var wantRE = regexp.MustCompile(`//\s*want\s+((?:"(?:[^"\\]|\\.)*"\s*)+)`)
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

type want struct {
	line int
	re   *regexp.Regexp
	hit  bool
}

func parseWants(t *testing.T, src []byte) []*want {
	var ws []*want
	for i, line := range strings.Split(string(src), "\n") {
		m := wantRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, q := range quotedRE.FindAllString(m[1], -1) {
			s, err := strconv.Unquote(q)
			if err != nil {
				t.Fatalf("line %d: bad want %s: %v", i+1, q, err)
			}
			ws = append(ws, &want{line: i + 1, re: regexp.MustCompile(s)})
		}
	}
	return ws
}

// kernelHeader reads the first line: "// kernel: accept", "// kernel: reject"
// or "// kernel: accept (guarded_by)".
func kernelHeader(src []byte) string {
	first, _, _ := strings.Cut(string(src), "\n")
	v, ok := strings.CutPrefix(strings.TrimSpace(first), "// kernel:")
	if !ok {
		return ""
	}
	return strings.TrimSpace(v)
}

func corpusFiles(t testing.TB, dirs ...string) []string {
	var files []string
	for _, d := range dirs {
		m, err := filepath.Glob(filepath.Join(d, "*.bpf.c"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

func TestGolden(t *testing.T) {
	files := corpusFiles(t, "../testdata")
	if len(files) == 0 {
		t.Fatal("no test programs found")
	}
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, p := range goldenProblems(t, parser, path) {
				t.Error(p)
			}
		})
	}
}

// TestKnownGaps runs the programs bpf-lsp still gets wrong as expected
// failures: each must still disagree with its markers, and one that starts
// passing fails the test so it moves back into testdata.
func TestKnownGaps(t *testing.T) {
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	for _, path := range corpusFiles(t, "../testdata/known-gaps") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if len(goldenProblems(t, parser, path)) == 0 {
				t.Errorf("%s passes now: move it to testdata/ and out of known-gaps/README.md", filepath.Base(path))
			}
		})
	}
}

// goldenProblems checks one program against its header and `// want`
// markers and returns every disagreement.
func goldenProblems(t *testing.T, parser *cparse.Parser, path string) []string {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := kernelHeader(src)
	if header != "accept" && header != "reject" && header != "accept (guarded_by)" {
		t.Fatalf("first line must be `// kernel: accept|reject|accept (guarded_by)`, got %q", header)
	}
	f, err := parser.Parse(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	findings := append(FrontendFindings(f), Run(f).Findings...)
	problems := checkWants(f.Path, parseWants(t, src), findings)
	for _, fd := range findings {
		if fd.Severity == SevInfo {
			continue // "not checked" claims nothing about the program
		}
		if header == "accept" || header == "accept (guarded_by)" && !kernelBlind[fd.Code] {
			problems = append(problems, fmt.Sprintf("kernel accepts this program, but bpf-lsp reports %s at line %d: %s", fd.Code, fd.Span.Start.Line, fd.Message))
		}
	}
	if header == "reject" && len(findings) == 0 {
		problems = append(problems, "kernel rejects this program, but bpf-lsp finds nothing")
	}
	return problems
}

// kernelBlind lists what an accepted "(guarded_by)" program may still get:
// findings about annotations and suppressions the kernel never sees.
var kernelBlind = map[string]bool{codeGuardedByUnknown: true, codeGuardedByOtherAlloc: true, codeGuardedUnlocked: true,
	codeUnusedSuppression: true, codeSuppressionNoReason: true}

// checkWants matches findings to wants 1:1 by line and regexp (against
// "CODE message") and returns the mismatches.
func checkWants(path string, wants []*want, findings []Finding) []string {
	var problems []string
	for _, fd := range findings {
		text := fd.Code + " " + fd.Message
		matched := false
		for _, w := range wants {
			if !w.hit && fd.Span.File == path && w.line == fd.Span.Start.Line && w.re.MatchString(text) {
				w.hit, matched = true, true
				break
			}
		}
		if !matched {
			problems = append(problems, fmt.Sprintf("%s:%d:%d: unexpected finding: %s", filepath.Base(fd.Span.File), fd.Span.Start.Line, fd.Span.Start.Col, text))
		}
	}
	for _, w := range wants {
		if !w.hit {
			problems = append(problems, fmt.Sprintf("%s:%d: no finding matches %q", filepath.Base(path), w.line, w.re))
		}
	}
	return problems
}

// Every finding must have a code with documentation, and a fix that applies
// must make the finding go away.
func TestFixesResolveFindings(t *testing.T) {
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	fixed := 0
	for _, path := range corpusFiles(t, "../testdata") {
		f, err := parser.Parse(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range Run(f).Findings {
			if RuleByCode(fd.Code) == nil {
				t.Errorf("%s: finding with undocumented code %s", path, fd.Code)
			}
			for _, fix := range fd.Fixes {
				if !fix.Preferred {
					continue
				}
				src, err := applyEdits(f.Src, fix.Edits)
				if err != nil {
					t.Errorf("%s:%d: fix %q: %v", path, fd.Span.Start.Line, fix.Message, err)
					continue
				}
				g, err := parser.Parse(context.Background(), path, map[string][]byte{f.Path: src})
				if err != nil {
					t.Fatal(err)
				}
				if len(g.Errors) > 0 {
					t.Errorf("%s:%d: fix %q breaks the code: %s\n%s", path, fd.Span.Start.Line, fix.Message, g.Errors[0].Message, src)
					continue
				}
				for _, after := range Run(g).Findings {
					if after.Code == fd.Code && after.Func == fd.Func && sameLineAfterFix(fd, after, fix) {
						t.Errorf("%s:%d: fix %q leaves %s in place:\n%s", path, fd.Span.Start.Line, fix.Message, fd.Code, src)
					}
				}
				fixed++
			}
		}
	}
	if fixed == 0 {
		t.Error("no fix was exercised")
	}
}

// sameLineAfterFix reports whether after is fd at its new position.
func sameLineAfterFix(fd, after Finding, fix Fix) bool {
	shift := 0
	for _, e := range fix.Edits {
		if e.Span.Start.Offset <= fd.Span.Start.Offset {
			shift += strings.Count(e.NewText, "\n") - (e.Span.End.Line - e.Span.Start.Line)
		}
	}
	return after.Span.Start.Line == fd.Span.Start.Line+shift
}

func applyEdits(src []byte, edits []Edit) ([]byte, error) {
	sorted := append([]Edit{}, edits...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Span.Start.Offset > sorted[j].Span.Start.Offset })
	out := append([]byte{}, src...)
	last := len(out) + 1
	for _, e := range sorted {
		s, en := e.Span.Start.Offset, e.Span.End.Offset
		if s < 0 || en > len(out) || s > en || en > last {
			return nil, fmt.Errorf("edit %d-%d out of range or overlapping", s, en)
		}
		out = append(out[:s], append([]byte(e.NewText), out[en:]...)...)
		last = s
	}
	return out, nil
}
