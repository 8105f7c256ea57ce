package lsp

import (
	"encoding/json"
	"fmt"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Positions are UTF-16 code units unless the client negotiates UTF-8:
// a line with non-ASCII text before the finding shows the difference, in
// published ranges and in incremental edits.
func TestPositionEncodings(t *testing.T) {
	for _, enc := range []string{"utf-16", "utf-8"} {
		t.Run(enc, func(t *testing.T) {
			caps := map[string]any{"general": map[string]any{"positionEncodings": []string{enc}}}
			c := startServer(t, clientOptions{capabilities: caps})
			path, src := fixture(t, "timers.bpf.c")
			src = strings.Replace(src, "\tbpf_rbtree_add(&wheel", "\t/* é😀 */ bpf_rbtree_add(&wheel", 1)
			u := c.open(path, src)
			line, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
			d := c.waitDiags(u, 1)
			// "\t/* é😀 */ " is 1+2+1+1+2+1+2+1 = 11 UTF-16 units, 1+2+1+2+4+1+2+1 = 14 bytes.
			want := map[string]uint32{"utf-16": 11, "utf-8": 14}[enc]
			if len(d) != 1 || int(d[0].Range.Start.Line) != line || d[0].Range.Start.Character != want {
				t.Fatalf("%s: %+v, want line %d character %d", enc, d, line+1, want)
			}
			// Replace the emoji (2 units / 4 bytes after "é") with "x".
			from := map[string]uint32{"utf-16": 5, "utf-8": 6}[enc]
			to := map[string]uint32{"utf-16": 7, "utf-8": 10}[enc]
			c.edit(u, 2, protocol.Range{Start: protocol.Position{Line: uint32(line), Character: from},
				End: protocol.Position{Line: uint32(line), Character: to}}, "x")
			d = c.waitDiags(u, 2)
			want = map[string]uint32{"utf-16": 10, "utf-8": 11}[enc]
			if len(d) != 1 || d[0].Range.Start.Character != want {
				t.Fatalf("%s after the edit: %+v, want character %d", enc, d, want)
			}
		})
	}
}

// A client that pulls diagnostics is not pushed to; a re-pull of the
// same state is "unchanged".
func TestPullDiagnostics(t *testing.T) {
	caps := map[string]any{"textDocument": map[string]any{"diagnostic": map[string]any{}}}
	c := startServer(t, clientOptions{capabilities: caps})
	path, src := fixture(t, "flows.bpf.c")
	u := c.open(path, src)
	type report struct {
		Kind     string
		ResultID string
		Items    []struct{ Code string }
	}
	var first report
	if err := c.callJSON("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": u}}, &first); err != nil {
		t.Fatal(err)
	}
	if first.Kind != "full" || len(first.Items) != 1 || first.Items[0].Code != "BL208" || first.ResultID == "" {
		t.Fatalf("first pull: %+v", first)
	}
	var again report
	if err := c.callJSON("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": u}, "previousResultId": first.ResultID}, &again); err != nil {
		t.Fatal(err)
	}
	if again.Kind != "unchanged" || again.ResultID != first.ResultID {
		t.Errorf("re-pull: %+v", again)
	}
	fixed := strings.Replace(src, "\tf->bytes += skb->len;\n\treturn 0;\n}\n\nchar", "\tbpf_spin_lock(&f->lock);\n\tf->bytes += skb->len;\n\tbpf_spin_unlock(&f->lock);\n\treturn 0;\n}\n\nchar", 1)
	c.change(u, 2, fixed)
	var after report
	if err := c.callJSON("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": u}, "previousResultId": first.ResultID}, &after); err != nil {
		t.Fatal(err)
	}
	if after.Kind != "full" || len(after.Items) != 0 {
		t.Errorf("pull after the fix: %+v", after)
	}
	if c.saw("textDocument/publishDiagnostics") {
		t.Error("diagnostics pushed to a pulling client")
	}
}

// Settings come from initializationOptions and didChangeConfiguration;
// a payload without settings makes the server pull workspace/configuration.
func TestConfiguration(t *testing.T) {
	caps := map[string]any{"workspace": map[string]any{"configuration": true}}
	c := startServer(t, clientOptions{capabilities: caps, initOptions: map[string]any{"defines": []string{"WHEEL_LOCKED"}}})
	path, src := fixture(t, "timers.bpf.c")
	// With WHEEL_LOCKED defined, arm() takes the lock.
	src = strings.Replace(src, "\tbpf_rbtree_add(&wheel, &t->by_deadline, earlier);\n",
		"#ifdef WHEEL_LOCKED\n\tbpf_spin_lock(&wheel_lock);\n#endif\n\tbpf_rbtree_add(&wheel, &t->by_deadline, earlier);\n#ifdef WHEEL_LOCKED\n\tbpf_spin_unlock(&wheel_lock);\n#endif\n", 1)
	u := c.open(path, src)
	if d := c.waitDiags(u, 1); len(d) != 0 {
		t.Fatalf("with -DWHEEL_LOCKED from initializationOptions: %v", codes(d))
	}
	published := func() int { return len(c.diags[u]) }
	last := func() []protocol.Diagnostic { return c.diags[u][len(c.diags[u])-1].Diagnostics }

	c.mu.Lock()
	n := published()
	c.mu.Unlock()
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{"defines": []string{}}}})
	c.waitFor("re-analysis without the define", func() bool { return published() > n && len(last()) == 1 })

	c.mu.Lock()
	n = published()
	c.config = json.RawMessage(`{"defines": ["WHEEL_LOCKED"], "includeDirs": []}`)
	c.mu.Unlock()
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": nil})
	c.waitFor("re-analysis with pulled settings", func() bool {
		return published() > n && slices.ContainsFunc(last(), func(d protocol.Diagnostic) bool { return codeOf(d) == "BL002" })
	})
	if !c.saw("workspace/configuration") {
		t.Error("the server did not ask for its configuration")
	}
}

// An analysis that times out keeps the last good one: its findings stay
// published next to a warning, and navigation keeps working.
func TestTimeoutKeepsLastGoodAnalysis(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	bug, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	c.waitDiags(u, 1)
	c.server.mu.Lock()
	c.server.opts.ParseTimeout = time.Nanosecond
	c.server.mu.Unlock()
	c.change(u, 2, src+"\n// more\n")
	d := c.waitDiags(u, 2)
	got := codes(d)
	if !slices.Contains(got, fmt.Sprintf("BL201@%d", bug+1)) || !slices.ContainsFunc(d, func(d protocol.Diagnostic) bool {
		return strings.Contains(messageOf(d), "did not finish")
	}) {
		t.Fatalf("after a timeout: %v", d)
	}
	line, col := lineOf(t, src, "armed--")
	if h := c.hover(u, line, col); !strings.Contains(h, "wheel_lock") {
		t.Errorf("hover during a failed analysis:\n%s", h)
	}
}

func TestInlayHintsAndSymbols(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	var hints []struct {
		Position protocol.Position
		Label    string
	}
	if err := c.callJSON("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": u},
		"range": map[string]any{"start": map[string]any{"line": 0, "character": 0}, "end": map[string]any{"line": 1000, "character": 0}}}, &hints); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hints {
		got[fmt.Sprintf("%d:%s", h.Position.Line+1, h.Label)] = true
	}
	first, _ := lineOf(t, src, "n = bpf_rbtree_first(&wheel)") // the critical section's first statement
	dec, _ := lineOf(t, src, "armed--")                        // guarded data
	push, _ := lineOf(t, src, "bpf_list_push_back(&expired")   // a graph call
	unlocked, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")     // no lock held: no hint
	for _, want := range []string{
		fmt.Sprintf("%d:holds wheel_lock:", first+1),
		fmt.Sprintf("%d:holds wheel_lock:", dec+1),
		fmt.Sprintf("%d:holds expired_lock:", push+1),
	} {
		if !got[want] {
			t.Errorf("no hint %q in %v", want, got)
		}
	}
	for k := range got {
		if strings.HasPrefix(k, fmt.Sprintf("%d:", unlocked+1)) {
			t.Errorf("hint %q where no lock is held", k)
		}
	}

	var syms []struct {
		Name   string
		Detail string
		Kind   int
	}
	if err := c.callJSON("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, &syms); err != nil {
		t.Fatal(err)
	}
	details := map[string]string{}
	for _, s := range syms {
		details[s.Name] = s.Detail
	}
	for name, want := range map[string]string{
		"wheel":   "bpf_rb_root guarded by wheel_lock",
		"armed":   "data guarded by wheel_lock",
		"expired": "bpf_list_head guarded by expired_lock",
	} {
		if details[name] != want {
			t.Errorf("symbol %s: %q, want %q (all: %v)", name, details[name], want, details)
		}
	}
	if !strings.Contains(details["wheel_lock"], "bpf_spin_lock") {
		t.Errorf("lock symbol: %v", details)
	}
}

// Save with verifyOnSave: the kernel's verdicts arrive as bpf-verifier
// diagnostics at the mapped line, saying whether bpf-lsp agrees, with
// $/progress around the check.
func TestVerifyOnSave(t *testing.T) {
	if err := verifier.Probe(); err != nil {
		testenv.Skip(t, "cannot load BPF programs here: %v", err)
	}
	if _, err := exec.LookPath("clang-19"); err != nil {
		if _, err := exec.LookPath("clang"); err != nil {
			testenv.Skip(t, "no clang-19 or clang to compile the program")
		}
	}
	caps := map[string]any{
		"window":       map[string]any{"workDoneProgress": true},
		"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}},
	}
	c := startServer(t, clientOptions{capabilities: caps, initOptions: map[string]any{"bpfLsp": map[string]any{"verifyOnSave": true}}})
	for _, tc := range []struct {
		file, line, code, severity, says string
	}{
		{"timers.bpf.c", "bpf_rbtree_add(&wheel", "BL201", "error", "kernel verifier rejects arm: bpf_spin_lock at off=16 must be held for bpf_rb_root [agree"},
		{"flows.bpf.c", "\tf->bytes += skb->len;\n\treturn", "BL208", "information", "the kernel verifier accepts account [static-only"},
	} {
		path, src := fixture(t, tc.file)
		u := c.open(path, src)
		c.waitDiags(u, 1)
		c.notifyServer("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": u}})
		var kernel *protocol.Diagnostic
		c.waitFor("bpf-verifier diagnostics for "+tc.file, func() bool {
			for _, p := range c.diags[u] {
				for i, d := range p.Diagnostics {
					if s, _ := d.Source.Get(); s == "bpf-verifier" {
						kernel = &p.Diagnostics[i]
					}
				}
			}
			return kernel != nil
		})
		want := strings.Index(src, tc.line)
		wantLine := strings.Count(src[:want], "\n")
		if strings.HasPrefix(tc.line, "\t") {
			wantLine = strings.Count(src[:want+1], "\n")
		}
		sev := map[string]protocol.DiagnosticSeverity{"error": protocol.DiagnosticSeverityError, "information": protocol.DiagnosticSeverityInformation}[tc.severity]
		if int(kernel.Range.Start.Line) != wantLine || codeOf(*kernel) != tc.code || kernel.Severity != sev || !strings.Contains(messageOf(*kernel), tc.says) {
			t.Errorf("%s: kernel diagnostic at line %d %s %v %q, want line %d %s %s %q", tc.file, kernel.Range.Start.Line+1, codeOf(*kernel),
				kernel.Severity, messageOf(*kernel), wantLine+1, tc.code, tc.severity, tc.says)
		}
	}
	// Each check was announced and finished.
	c.waitFor("two progress begin/end pairs", func() bool {
		kinds := map[string]int{}
		for _, v := range c.progress {
			var p struct{ Kind string }
			if json.Unmarshal(v, &p) == nil {
				kinds[p.Kind]++
			}
		}
		return kinds["begin"] == 2 && kinds["end"] == 2
	})
	if !c.saw("window/workDoneProgress/create") {
		t.Error("no window/workDoneProgress/create")
	}
}

// The editors' "Verify this file against the kernel" command.
func TestVerifyCommand(t *testing.T) {
	if err := verifier.Probe(); err != nil {
		testenv.Skip(t, "cannot load BPF programs here: %v", err)
	}
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	var summary string
	if err := c.callJSON("workspace/executeCommand", map[string]any{"command": "bpf-lsp.verify", "arguments": []any{string(u)}}, &summary); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"arm: reject (agree", "fire: accept (agree", "drain: accept (agree"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if err := c.call("workspace/executeCommand", map[string]any{"command": "bpf-lsp.nope", "arguments": []any{}}, nil); err == nil {
		t.Error("unknown command accepted")
	}
}

// An unsaved buffer (untitled:) is analysed like a file, and its
// diagnostics and locations name the buffer.
func TestUntitledBuffer(t *testing.T) {
	c := startServer(t, clientOptions{capabilities: map[string]any{
		"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}}}})
	_, src := fixture(t, "timers.bpf.c")
	u := uri.URI("untitled:Untitled-1")
	c.notifyServer("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": u, "languageId": "c", "version": 1, "text": src}})
	bug, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	d := c.waitDiags(u, 1)
	if got := codes(d); !slices.Equal(got, []string{fmt.Sprintf("BL201@%d", bug+1)}) {
		t.Fatalf("untitled buffer: %v", got)
	}
	if rel := d[0].RelatedInformation; len(rel) == 0 || rel[0].Location.URI != u {
		t.Errorf("related location %+v, want in %s", rel, u)
	}
}

// Unsaved header text is what including documents see: editing an open
// header re-analyses the other open documents.
func TestOpenHeaderEditReanalysesIncluders(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	header := filepath.Join(filepath.Dir(path), "policy.h")
	if err := os.WriteFile(header, []byte("/* on disk: nothing */\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src = strings.Replace(src, "#include \"bpf_lsp.h\"\n", "#include \"bpf_lsp.h\"\n#include \"policy.h\"\n", 1)
	src = strings.Replace(src, "\tbpf_rbtree_add(&wheel, &t->by_deadline, earlier);\n",
		"#ifdef ARM_LOCKED\n\tbpf_spin_lock(&wheel_lock);\n#endif\n\tbpf_rbtree_add(&wheel, &t->by_deadline, earlier);\n#ifdef ARM_LOCKED\n\tbpf_spin_unlock(&wheel_lock);\n#endif\n", 1)
	h := c.open(header, "#define ARM_LOCKED 1\n")
	u := c.open(path, src)
	if d := c.waitDiags(u, 1); len(d) != 0 {
		t.Fatalf("with the open header's ARM_LOCKED: %v", codes(d))
	}
	c.change(h, 2, "/* ARM_LOCKED dropped */\n")
	c.waitFor("the includer re-analysed with the edited header", func() bool {
		p := c.diags[u]
		last := p[len(p)-1].Diagnostics
		return len(last) == 1 && codeOf(last[0]) == "BL201"
	})
}
