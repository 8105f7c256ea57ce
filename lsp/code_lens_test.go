package lsp

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

// lensTitles returns the code lens titles of a document by line (0-based).
func (c *testClient) lensTitles(u uri.URI) map[int]string {
	c.t.Helper()
	var lenses []struct {
		Range   protocol.Range
		Command struct {
			Title, Command string
			Arguments      []string
		}
	}
	if err := c.callJSON("textDocument/codeLens", map[string]any{"textDocument": map[string]any{"uri": u}}, &lenses); err != nil {
		c.t.Fatal(err)
	}
	out := map[int]string{}
	for _, l := range lenses {
		if l.Command.Command != commandVerifyKernels || len(l.Command.Arguments) != 1 || l.Command.Arguments[0] != string(u) {
			c.t.Errorf("lens %+v does not run %s on the document", l, commandVerifyKernels)
		}
		out[int(l.Range.Start.Line)] = l.Command.Title
	}
	return out
}

// With targetKernels the static checks follow those kernels (graph kfuncs
// are missing on 6.1), and each program gets a lens offering the matrix.
func TestTargetKernelsStatic(t *testing.T) {
	c := startServer(t, clientOptions{initOptions: map[string]any{"bpfLsp": map[string]any{"targetKernels": []string{"6.12", "6.1"}}}})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	var missing []string
	for _, d := range c.waitDiags(u, 1) {
		if codeOf(d) == "BL401" {
			missing = append(missing, messageOf(d))
		}
	}
	if len(missing) == 0 || !strings.Contains(missing[0], "is not available on kernel 6.1;") || !strings.Contains(missing[0], "first appears in 6.2") {
		t.Errorf("BL401 findings for 6.1: %q", missing)
	}
	arm, _ := lineOf(t, src, "int arm(")
	fire, _ := lineOf(t, src, "int fire(")
	titles := c.lensTitles(u)
	if len(titles) != 3 || titles[arm] != "verify on 6.1 · 6.12" || titles[fire] != "verify on 6.1 · 6.12" {
		t.Errorf("lenses: %v", titles)
	}
}

// Running the lens's command boots 6.1 and 6.12: per-kernel diagnostics
// ("bpf-verifier 6.12"), verdicts in the lens, the oldest accepting kernel
// in the hover.
func TestKernelMatrixLens(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Skip(t, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
	if _, err := exec.LookPath("clang-19"); err != nil {
		testenv.Skip(t, "no clang-19 to compile the program")
	}
	caps := map[string]any{
		"window":       map[string]any{"workDoneProgress": true},
		"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}},
	}
	c := startServer(t, clientOptions{capabilities: caps, initOptions: map[string]any{"bpfLsp": map[string]any{"targetKernels": []string{"6.1", "6.12"}}}})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	// A first run fetches two kernel images and boots each under qemu
	// (TCG on machines without a usable KVM).
	c.callTimeout = 10 * time.Minute
	var summary string
	if err := c.callJSON("workspace/executeCommand", map[string]any{"command": commandVerifyKernels, "arguments": []any{string(u)}}, &summary); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"arm: 6.1 ✘ 6.12 ✘", "fire: 6.1 ✘ 6.12 ✔", "drain: 6.1 ✘ 6.12 ✔"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	arm, _ := lineOf(t, src, "int arm(")
	fire, _ := lineOf(t, src, "int fire(")
	if titles := c.lensTitles(u); titles[arm] != "6.1 ✘ 6.12 ✘" || titles[fire] != "6.1 ✘ 6.12 ✔" {
		t.Errorf("lenses after the run: %v", titles)
	}
	// The kernels' rejections, each under its own source.
	bySource := map[string][]string{}
	c.waitFor("per-kernel diagnostics", func() bool {
		last := c.diags[u][len(c.diags[u])-1]
		clear(bySource)
		for _, d := range last.Diagnostics {
			if s, _ := d.Source.Get(); strings.HasPrefix(s, "bpf-verifier ") {
				bySource[s] = append(bySource[s], codeOf(d)+" "+messageOf(d))
			}
		}
		return len(bySource) == 2
	})
	if got := strings.Join(bySource["bpf-verifier 6.1"], "\n"); !strings.Contains(got, "BL401 kernel 6.1 rejects fire: kfunc bpf_rbtree_first is not in this kernel's BTF") {
		t.Errorf("6.1 diagnostics:\n%s", got)
	}
	if got := strings.Join(bySource["bpf-verifier 6.12"], "\n"); !strings.Contains(got, "BL201 kernel 6.12 rejects arm: bpf_spin_lock at off=16 must be held for bpf_rb_root") || len(bySource["bpf-verifier 6.12"]) != 1 {
		t.Errorf("6.12 diagnostics:\n%s", got)
	}
	if h := c.hover(u, fire, len("int fi")); !strings.Contains(h, "loads on kernel **6.12**") {
		t.Errorf("hover on fire: %q", h)
	}
	kinds := map[string]int{}
	for _, v := range c.progress {
		var p struct{ Kind string }
		if json.Unmarshal(v, &p) == nil {
			kinds[p.Kind]++
		}
	}
	if kinds["begin"] != 1 || kinds["end"] != 1 {
		t.Errorf("progress: %v", kinds)
	}
}
