package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// The demo is the README's quick start: it must report its four planted bugs
// at their lines and exit 1.
func TestCheckDemo(t *testing.T) {
	code, out, errs := runCmd("check", "--format", "json", "../../testdata/demo")
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s\nstdout:\n%s", code, errs, out)
	}
	var got []struct {
		File, Code, Severity, Message    string
		Line, Column, EndLine, EndColumn int
		Related                          []struct {
			File         string
			Line, Column int
			Message      string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	want := map[string]int{"BL201": 38, "BL208": 39, "BL203": 52, "BL207": 75}
	seen := map[string]bool{}
	for _, f := range got {
		if !strings.HasSuffix(f.File, "queue.bpf.c") {
			t.Errorf("unexpected finding in %s: %+v", f.File, f)
			continue
		}
		line, ok := want[f.Code]
		if !ok || line != f.Line {
			t.Errorf("unexpected finding %s at line %d: %s", f.Code, f.Line, f.Message)
			continue
		}
		seen[f.Code] = true
		if f.Column < 1 || f.EndLine < f.Line || (f.EndLine == f.Line && f.EndColumn <= f.Column) {
			t.Errorf("%s: bad range %d:%d-%d:%d", f.Code, f.Line, f.Column, f.EndLine, f.EndColumn)
		}
	}
	for code, line := range want {
		if !seen[code] {
			t.Errorf("missing %s at queue.bpf.c:%d", code, line)
		}
	}
}

func TestCheckText(t *testing.T) {
	code, out, _ := runCmd("check", "../../testdata/demo/queue.bpf.c", "-I", "../../testdata/include")
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(out, "queue.bpf.c:38:") || !strings.Contains(out, ": error: ") || !strings.Contains(out, "[BL201]") {
		t.Errorf("text output is not compiler-style:\n%s", out)
	}
}

// TestCheckStats: -stats says, per file on stderr, what parsing and the
// path exploration cost; stdout keeps only findings.
func TestCheckStats(t *testing.T) {
	code, out, errs := runCmd("check", "-stats", "../../testdata/demo/queue.bpf.c", "-I", "../../testdata/include")
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	re := regexp.MustCompile(`queue\.bpf\.c: parse \d+ ms, analysis \d+ ms: [1-9]\d* programs, [1-9]\d* states explored, \d+ pruned`)
	if !re.MatchString(errs) {
		t.Errorf("stderr has no stats line:\n%s", errs)
	}
	if strings.Contains(out, "states explored") {
		t.Errorf("stats on stdout:\n%s", out)
	}
}

func TestCheckCleanFileExitsZero(t *testing.T) {
	code, out, errs := runCmd("check", "../../testdata/demo/buckets.bpf.c")
	if code != 0 {
		t.Fatalf("exit code %d, want 0\n%s%s", code, out, errs)
	}
}

func TestCheckSARIF(t *testing.T) {
	code, out, _ := runCmd("check", "--format=sarif", "../../testdata/demo/queue.bpf.c")
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	var log struct {
		Version string
		Runs    []struct{ Results []struct{ RuleID string } }
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
		t.Fatalf("not a SARIF 2.1.0 log with results (%v):\n%s", err, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"check"},
		{"check", "--format", "xml", "x.bpf.c"},
		{"check", "no/such/file.bpf.c"},
		{"nonsense"},
	} {
		if code, _, errs := runCmd(args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errs)
		}
	}
	if code, out, _ := runCmd("version"); code != 0 || !strings.HasPrefix(out, "bpf-lsp ") {
		t.Errorf("version: %d %q", code, out)
	}
}
