package verifier

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// The corpus test keeps testdata honest: every program is compiled and
// loaded into the running kernel, and the kernel must agree with the file's
// header (`// kernel: accept|reject`) and with its `// verifier "re"`
// markers: each rejection is reported on a marked line whose regexp matches
// the kernel's message, and every marker is hit.

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
	// The known gaps (programs bpf-lsp still gets wrong) must agree with
	// the kernel too.
	gaps, _ := filepath.Glob("../testdata/known-gaps/*.bpf.c")
	files = append(files, gaps...)
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{"../testdata/include"}})
	counts := map[string]int{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
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
			rejected := 0
			for _, r := range rs {
				counts[r.Verdict]++
				switch r.Verdict {
				case Failed:
					t.Errorf("%s: not verified: %s", r.Program, r.Message)
				case Reject:
					rejected++
					checkQuotedKernelText(t, r)
					// Refused before any instruction (a map the program type
					// may not use): no line to point at, any marker may match.
					anyLine := r.Line == 0 && r.SourceFile == ""
					if !anyLine && filepath.Base(r.SourceFile) != filepath.Base(path) {
						t.Errorf("%s: rejection mapped to %s:%d, not to this file: %s", r.Program, r.SourceFile, r.Line, r.Message)
						continue
					}
					found := false
					for _, m := range markers {
						if (anyLine || m.line == r.Line) && m.re.MatchString(r.Message) {
							m.hit, found = true, true
						}
					}
					if !found {
						t.Errorf("%s: the kernel rejects at line %d with %q; no matching // verifier marker there", r.Program, r.Line, r.Message)
					}
				}
			}
			switch {
			case strings.HasPrefix(header, "accept") && rejected > 0:
				t.Errorf("header says accept, the kernel rejected %d program(s)", rejected)
			case header == "reject" && rejected == 0:
				t.Errorf("header says reject, the kernel accepted every program")
			case !strings.HasPrefix(header, "accept") && header != "reject":
				t.Errorf("bad header %q", header)
			}
			for _, m := range markers {
				if !m.hit {
					t.Errorf("line %d: marker %q was not hit by any kernel rejection", m.line, m.re)
				}
			}
		})
	}
	t.Logf("corpus: %d files, %d programs accepted, %d rejected", len(files), counts[Accept], counts[Reject])
}

var kernelIDs = regexp.MustCompile(`(id|alloc_insn)=\d+`)

// checkQuotedKernelText: a finding of the rule the kernel's message maps to
// quotes what the kernel printed (ids and instruction numbers aside).
func checkQuotedKernelText(t *testing.T, r Result) {
	t.Helper()
	norm := func(s string) string { return kernelIDs.ReplaceAllString(s, "$1=N") }
	msg := norm(r.Message)
	for _, fd := range r.Static {
		if fd.Code == r.Code && fd.Kernel != "" && !strings.Contains(msg, norm(fd.Kernel)) {
			t.Errorf("%s: line %d: %s quotes the kernel as %q, the kernel printed %q", r.Program, fd.Span.Start.Line, fd.Code, fd.Kernel, r.Message)
		}
	}
}
