package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

func span(line, col, endCol, off int) cparse.Span {
	return cparse.Span{File: "/src/prog.bpf.c",
		Start: cparse.Pos{Line: line, Col: col, Offset: off},
		End:   cparse.Pos{Line: line, Col: endCol, Offset: off + endCol - col}}
}

func sample() []analysis.Finding {
	return []analysis.Finding{{
		Code: "BL201", Severity: analysis.SevError, Span: span(12, 2, 16, 200),
		Message: "bpf_rbtree_add on 'groot' requires holding 'glock'",
		Kernel:  "bpf_spin_lock at off=16 must be held for bpf_rb_root", Func: "add",
		Related: []analysis.Related{{Span: span(4, 30, 35, 60), Message: "'groot' is guarded by 'glock' (same section .data.A)"}},
		Fixes: []analysis.Fix{{Message: "Wrap in bpf_spin_lock/unlock of 'glock'", Preferred: true,
			Edits: []analysis.Edit{{Span: span(12, 2, 2, 200), NewText: "bpf_spin_lock(&glock);\n\t"}}}},
	}, {
		Code: "BL208", Severity: analysis.SevWarning, Span: span(20, 3, 9, 400),
		Message: "writing 'gcount' requires holding 'glock'",
	}}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, Paths{Dir: "/src"}, sample(), false); err != nil {
		t.Fatal(err)
	}
	want := `prog.bpf.c:12:2: error: bpf_rbtree_add on 'groot' requires holding 'glock' (kernel: "bpf_spin_lock at off=16 must be held for bpf_rb_root") [BL201]
prog.bpf.c:4:30: note: 'groot' is guarded by 'glock' (same section .data.A)
prog.bpf.c:20:3: warning: writing 'gcount' requires holding 'glock' [BL208]
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestTextColor(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, Paths{Dir: "/src"}, sample()[1:], true); err != nil {
		t.Fatal(err)
	}
	want := "\x1b[1mprog.bpf.c:20:3\x1b[0m: \x1b[1;35mwarning\x1b[0m: \x1b[1mwriting 'gcount' requires holding 'glock'\x1b[0m [BL208]\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

// TestJSONStream: writing in parts gives what encoding/json gives for the
// whole array, so streamed output stays one valid document.
func TestJSONStream(t *testing.T) {
	p := Paths{Dir: "/src"}
	for _, parts := range [][][]analysis.Finding{{}, {nil, nil}, {sample()}, {sample()[:1], nil, sample()[1:]}} {
		var b bytes.Buffer
		s := &JSONStream{W: &b, Paths: p}
		var all []analysis.Finding
		for _, part := range parts {
			if err := s.Write(part); err != nil {
				t.Fatal(err)
			}
			all = append(all, part...)
		}
		s.Close()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.Encode(ToJSON(p, all))
		if b.String() != want.String() {
			t.Errorf("%d parts: got\n%s\nwant\n%s", len(parts), b.String(), want.String())
		}
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, Paths{Dir: "/elsewhere"}, sample()); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d findings, want 2", len(got))
	}
	f := got[0]
	for k, v := range map[string]any{"file": "/src/prog.bpf.c", "line": 12.0, "column": 2.0, "endLine": 12.0,
		"endColumn": 16.0, "severity": "error", "code": "BL201"} {
		if f[k] != v {
			t.Errorf("%s = %v, want %v", k, f[k], v)
		}
	}
	rel := f["related"].([]any)[0].(map[string]any)
	if rel["line"] != 4.0 || rel["column"] != 30.0 || !strings.Contains(rel["message"].(string), "glock") {
		t.Errorf("related = %v", rel)
	}
	if r, ok := got[1]["related"].([]any); !ok || len(r) != 0 {
		t.Errorf("a finding without related locations must have \"related\": [], got %v", got[1]["related"])
	}
}

func TestSARIFValidates(t *testing.T) {
	var b bytes.Buffer
	rules := []*analysis.Rule{{Code: "BL201", Name: "graph-op-unlocked", Title: "graph call without its lock", Doc: "doc"},
		{Code: "BL208", Name: "guarded-access-unlocked", Title: "guarded data without its lock", Severity: analysis.SevWarning, Doc: "doc"}}
	if err := SARIF(&b, Paths{Dir: "/src"}, "test", rules, sample()); err != nil {
		t.Fatal(err)
	}
	log, err := sarif.FromBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Validate(); err != nil {
		t.Fatalf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
	res := log.Runs[0].Results
	if len(res) != 2 || *res[0].RuleID != "BL201" || res[0].Level != "error" || res[1].Level != "warning" {
		t.Fatalf("unexpected results: %s", b.String())
	}
	if len(res[0].Fixes) != 1 || len(res[0].RelatedLocations) != 1 {
		t.Errorf("fix or related location lost: %s", b.String())
	}
}

// File names are absolute in JSON; one that is not UTF-8 is escaped so that
// every byte comes back.
func TestJSONFileNames(t *testing.T) {
	for _, c := range []struct {
		in, want string
		escaped  bool
	}{
		{"/src/prog.bpf.c", "/src/prog.bpf.c", false},
		{"/src/pr\xffog%.bpf.c", "/src/pr%FFog%25.bpf.c", true},
		{"/src/naïve.bpf.c", "/src/naïve.bpf.c", false},
	} {
		got, esc := jsonPath(c.in)
		if got != c.want || esc != c.escaped {
			t.Errorf("%q: got %q %v, want %q %v", c.in, got, esc, c.want, c.escaped)
		}
	}
	if got, _ := jsonPath("rel.c"); !filepath.IsAbs(got) {
		t.Errorf("relative name stays relative: %q", got)
	}
	if got := fileURI("/src/pr\xffog.c"); got != "file:///src/pr%FFog.c" {
		t.Errorf("file URI %q", got)
	}
}
