package analysis

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// TestFuncParseEqualsWhole checks that translating an open document per
// function (cparse/funcs.go) gives what translating its whole text gives:
// the model, the frontend errors and every finding with its span, on a
// cold parse and after a seeded random sequence of edits inside function
// bodies (each parse of the per-function Parser reuses the last one's
// functions). It reports how many programs took the per-function path.
func TestFuncParseEqualsWhole(t *testing.T) {
	files := append(corpusFiles(t, "../testdata"), corpusFiles(t, "../lsp/testdata")...)
	s := compareFuncParse(t, cparse.Options{IncludeDirs: []string{"../testdata/include"}}, files, 6)
	t.Logf("%d test programs: %d cold per-function parses, %d edits of one function, %d whole-file fallbacks %v", len(files), s.Cold, s.Edits, s.Fallbacks, s.Reasons)
	if s.Edits == 0 {
		t.Error("no edit was translated per function")
	}
	if sample, dir := corpusSample(); len(sample) > 0 {
		opts := cparse.Options{IncludeDirs: []string{"/tmp/rw", dir, dir + "/../../../include/uapi", "/tmp/rw/include", dir + "/../../../include"},
			AfterDirs: []string{"/usr/include/x86_64-linux-gnu"}}
		s := compareFuncParse(t, opts, sample, 2)
		t.Logf("%d kernel selftests: %d cold per-function parses, %d edits of one function, %d whole-file fallbacks %v", len(sample), s.Cold, s.Edits, s.Fallbacks, s.Reasons)
	}
}

// compareFuncParse parses each file, then edits of it, with a Parser per
// function and one per whole file, and reports differences.
func compareFuncParse(t *testing.T, opts cparse.Options, files []string, edits int) cparse.FuncStats {
	per := cparse.NewParser(opts)
	opts.WholeFile = true
	whole := cparse.NewParser(opts)
	rng := rand.New(rand.NewSource(1))
	for _, path := range files {
		abs, _ := filepath.Abs(path)
		src, err := os.ReadFile(abs)
		if err != nil {
			t.Fatal(err)
		}
		text := src
		for step := 0; step <= edits; step++ {
			if step > 0 {
				text = editBody(rng, text)
			}
			overlay := map[string][]byte{abs: text}
			a, err := per.Parse(context.Background(), abs, overlay)
			if err != nil {
				t.Fatal(err)
			}
			b, err := whole.Parse(context.Background(), abs, overlay)
			if err != nil {
				t.Fatal(err)
			}
			if x, y := describeParse(a), describeParse(b); x != y {
				t.Errorf("%s, edit %d: per-function and whole translations differ:\n%s", filepath.Base(path), step, firstDiff(x, y))
				break
			}
		}
	}
	return per.FuncStats()
}

// corpusSample is every 20th kernel selftest program (or those matching
// $BPF_LSP_FUNCPARSE_CORPUS, comma-separated patterns of names), and the selftests'
// directory, when the real-world corpus cache and its headers are present
// (see scripts/realworld.sh).
func corpusSample() ([]string, string) {
	home, _ := os.UserHomeDir()
	dir := filepath.Join(home, ".cache/bpf-lsp/realworld/linux-source-6.12/tools/testing/selftests/bpf")
	if _, err := os.Stat("/tmp/rw/vmlinux.h"); err != nil || testing.Short() {
		return nil, ""
	}
	if pats := os.Getenv("BPF_LSP_FUNCPARSE_CORPUS"); pats != "" {
		var out []string
		for _, pat := range strings.Split(pats, ",") {
			m, _ := filepath.Glob(filepath.Join(dir, "progs", pat))
			out = append(out, m...)
		}
		return out, dir
	}
	m, _ := filepath.Glob(filepath.Join(dir, "progs/*.c"))
	sort.Strings(m)
	var out []string
	for i := 0; i < len(m); i += 20 {
		out = append(out, m[i])
	}
	return out, dir
}

// editBody inserts or deletes a line or a few characters inside a random
// function body of text (found by its braces at the start of a line), or
// inserts a comment line after one.
func editBody(rng *rand.Rand, text []byte) []byte {
	lines := strings.SplitAfter(string(text), "\n")
	var inside []int // lines strictly inside a top-level body
	depth := 0
	for i, l := range lines {
		if depth > 0 && !strings.HasPrefix(l, "}") && !strings.HasPrefix(strings.TrimSpace(l), "#") && strings.TrimSpace(l) != "" {
			inside = append(inside, i)
		}
		depth += strings.Count(l, "{") - strings.Count(l, "}")
		if strings.HasPrefix(l, "}") {
			depth = 0
		}
	}
	if len(inside) == 0 {
		return text
	}
	i := inside[rng.Intn(len(inside))]
	switch rng.Intn(5) {
	case 4: // a comment line between top-level declarations
		for j := i; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "}") {
				lines = append(lines[:j+1], append([]string{"// between\n"}, lines[j+1:]...)...)
				break
			}
		}
	case 0: // a comment line
		lines = append(lines[:i], append([]string{"\t// edited\n"}, lines[i:]...)...)
	case 1: // a blank line
		lines = append(lines[:i], append([]string{"\n"}, lines[i:]...)...)
	case 2: // characters: white space at the line's start
		lines[i] = "  " + lines[i]
	default: // delete a comment or blank line, if there is one
		for _, j := range inside {
			if t := strings.TrimSpace(lines[j]); strings.HasPrefix(t, "//") {
				lines = append(lines[:j], lines[j+1:]...)
				break
			}
		}
	}
	return []byte(strings.Join(lines, ""))
}

// describeParse renders what the analysis and the server read from a
// parse: errors, the model with its spans, findings, references and held
// ranges.
func describeParse(f *cparse.File) string {
	var b strings.Builder
	for _, e := range f.Errors {
		fmt.Fprintf(&b, "error %v %s\n", e.Span, e.Message)
	}
	for _, v := range f.Vars {
		fmt.Fprintf(&b, "var %s %v %v %s %s %v\n", v.Name, v.Span, v.DeclSpan, v.TypeName, v.Section, v.Tags)
	}
	var tags []string
	for name, s := range f.Structs {
		line := fmt.Sprintf("struct %s %v", name, s.Span)
		for _, fd := range s.Fields {
			line += fmt.Sprintf(" %s %v %v %s %d %v", fd.Name, fd.Span, fd.DeclSpan, fd.TypeName, fd.Offset, fd.Tags)
		}
		tags = append(tags, line)
	}
	sort.Strings(tags)
	b.WriteString(strings.Join(tags, "\n"))
	for _, fn := range f.Funcs {
		fmt.Fprintf(&b, "\nfunc %s %v %v %v %s\n", fn.Name, fn.Span, fn.BodySpan, fn.Static, fn.Section)
		for _, c := range fn.Calls {
			fmt.Fprintf(&b, "  call %s %s %v %v", c.Name, c.Spelled, c.Span, c.NameSpan)
			if c.Callee != nil {
				fmt.Fprintf(&b, " %s", c.Callee.Type())
			}
			for _, a := range c.Args {
				fmt.Fprintf(&b, " [%v %q %s]", a.Span, a.Text, a.Expr.Type())
			}
			b.WriteByte('\n')
		}
	}
	if f.AST == nil {
		return b.String()
	}
	res := Run(f)
	for _, fd := range append(FrontendFindings(f), res.Findings...) {
		fmt.Fprintf(&b, "finding %s %v %s %s %v %v\n", fd.Code, fd.Span, fd.Message, fd.Func, fd.Related, fd.Fixes)
	}
	for _, r := range res.Refs {
		fmt.Fprintf(&b, "ref %v %d\n", r.Span, len(r.Held))
	}
	for _, h := range res.Held {
		fmt.Fprintf(&b, "held %s %v %v\n", h.Func, h.Span, h.TakenAt)
	}
	return b.String()
}

// firstDiff shows the first differing line of two renderings.
func firstDiff(x, y string) string {
	a, b := strings.Split(x, "\n"), strings.Split(y, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var l, r string
		if i < len(a) {
			l = a[i]
		}
		if i < len(b) {
			r = b[i]
		}
		if l != r {
			return fmt.Sprintf("line %d:\nper-function: %s\nwhole:        %s", i+1, l, r)
		}
	}
	return ""
}
