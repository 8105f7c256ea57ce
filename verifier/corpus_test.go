package verifier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// The corpus test keeps testdata honest and the two sides in agreement:
// every program is compiled and loaded into the running kernel, and the
// kernel must agree with the file's header (`// kernel: accept|reject`) and
// with its `// verifier "re"` markers (each rejection is reported on a marked
// line whose regexp matches the kernel's message, and every marker is hit),
// and bpf-lsp's static verdict must agree with the kernel's: `agree`, or
// `static-only` only for __guarded_by findings, which the kernel does not
// check. testdata/known-gaps holds programs bpf-lsp still gets wrong; they
// run as expected failures and the test fails when one starts passing.

var markerRE = regexp.MustCompile(`//.*\bverifier\s+("(?:[^"\\]|\\.)*")`)

type marker struct {
	line int
	re   *regexp.Regexp
	hit  bool
}

func TestCorpusAgreesWithKernel(t *testing.T) {
	needKernel(t)
	files, err := filepath.Glob("../testdata/*.bpf.c")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	counts := map[string]int{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, p := range corpusProblems(t, parser, path, counts) {
				t.Error(p)
			}
		})
	}
	t.Logf("corpus: %d files; verdicts and agreements: %v", len(files), counts)
}

func TestKnownGapsStillDisagree(t *testing.T) {
	needKernel(t)
	files, _ := filepath.Glob("../testdata/known-gaps/*.bpf.c")
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			problems := corpusProblems(t, parser, path, map[string]int{})
			if len(problems) == 0 {
				t.Errorf("bpf-lsp and the kernel now agree on every program: move %s back into testdata/", filepath.Base(path))
			}
			for _, p := range problems {
				t.Logf("expected failure: %s", p)
			}
		})
	}
}

// corpusProblems verifies one corpus file and lists every way it falls
// short of the header, the markers or agreement.
func corpusProblems(t *testing.T, parser *cparse.Parser, path string, counts map[string]int) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(src), "\n", 2)[0], "// kernel:"))
	var markers []*marker
	for i, l := range strings.Split(string(src), "\n") {
		if m := markerRE.FindStringSubmatch(l); m != nil {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatalf("line %d: bad verifier marker %s: %v", i+1, m[1], err)
			}
			markers = append(markers, &marker{line: i + 1, re: regexp.MustCompile(s)})
		}
	}
	rs, err := Run(context.Background(), Options{Parser: parser}, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	rejected := 0
	for _, r := range rs {
		counts[r.Verdict]++
		counts[r.Agreement]++
		switch r.Verdict {
		case Failed:
			problems = append(problems, fmt.Sprintf("%s: not verified: %s", r.Program, r.Message))
			continue
		case Reject:
			rejected++
			problems = append(problems, quotedKernelTextProblems(r)...)
			// Refused before any instruction (a map the program type may
			// not use): no line to point at, any marker may match.
			anyLine := r.Line == 0 && r.SourceFile == ""
			if !anyLine && filepath.Base(r.SourceFile) != filepath.Base(path) {
				problems = append(problems, fmt.Sprintf("%s: rejection mapped to %s:%d, not to this file: %s", r.Program, r.SourceFile, r.Line, r.Message))
				break
			}
			found := false
			for _, m := range markers {
				if (anyLine || m.line == r.Line) && m.re.MatchString(r.Message) {
					m.hit, found = true, true
				}
			}
			if !found {
				problems = append(problems, fmt.Sprintf("%s: the kernel rejects at line %d with %q; no matching // verifier marker there", r.Program, r.Line, r.Message))
			}
		}
		if r.Agreement != Agree && !(r.Agreement == StaticOnly && onlyGuardedBy(r.Static)) {
			problems = append(problems, fmt.Sprintf("%s: %s: %s", r.Program, r.Agreement, r.Reason))
		}
	}
	switch {
	case strings.HasPrefix(header, "accept") && rejected > 0:
		problems = append(problems, fmt.Sprintf("header says accept, the kernel rejected %d program(s)", rejected))
	case header == "reject" && rejected == 0:
		problems = append(problems, "header says reject, the kernel accepted every program")
	case !strings.HasPrefix(header, "accept") && header != "reject":
		problems = append(problems, fmt.Sprintf("bad header %q", header))
	}
	for _, m := range markers {
		if !m.hit {
			problems = append(problems, fmt.Sprintf("line %d: marker %q was not hit by any kernel rejection", m.line, m.re))
		}
	}
	return problems
}

// onlyGuardedBy reports whether the static errors are all about
// __guarded_by data (BL208), which the kernel does not check.
func onlyGuardedBy(fs []analysis.Finding) bool {
	for _, f := range fs {
		if f.Severity == analysis.SevError && f.Code != "BL208" {
			return false
		}
	}
	return true
}

var kernelIDs = regexp.MustCompile(`(id|alloc_insn)=\d+`)

// quotedKernelTextProblems: a finding of the rule the kernel's message maps
// to, or of a rule for the same bug (SameBug), quotes what the kernel
// printed (ids and instruction numbers aside). When such findings sit on
// the kernel's line, only those are held to it: the kernel stops at its
// first error, and a second bug of the same rule has its own message.
func quotedKernelTextProblems(r Result) []string {
	norm := func(s string) string { return kernelIDs.ReplaceAllString(s, "$1=N") }
	msg := norm(r.Message)
	var same []analysis.Finding
	onLine := false
	for _, fd := range r.Static {
		if SameBug(r.Code, fd.Code) && fd.Kernel != "" {
			same = append(same, fd)
			onLine = onLine || fd.Span.Start.Line == r.Line
		}
	}
	var problems []string
	for _, fd := range same {
		if onLine && fd.Span.Start.Line != r.Line {
			continue
		}
		if !strings.Contains(msg, norm(fd.Kernel)) {
			problems = append(problems, fmt.Sprintf("%s: line %d: %s quotes the kernel as %q, the kernel printed %q", r.Program, fd.Span.Start.Line, fd.Code, fd.Kernel, r.Message))
		}
	}
	return problems
}
