package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// testClient drives a server over a pipe like an editor does.
type testClient struct {
	t      *testing.T
	conn   jsonrpc2.Conn
	raw    net.Conn
	exit   chan int
	mu     sync.Mutex
	diags  map[uri.URI][]*protocol.PublishDiagnosticsParams
	notify chan struct{}
}

func startServer(t *testing.T, debounce time.Duration) *testClient {
	t.Helper()
	serverSide, clientSide := net.Pipe()
	c := &testClient{t: t, raw: clientSide, exit: make(chan int, 1), diags: map[uri.URI][]*protocol.PublishDiagnosticsParams{}, notify: make(chan struct{}, 1000)}
	inc, _ := filepath.Abs("../testdata/include")
	go func() {
		c.exit <- Serve(context.Background(), serverSide, Options{Debounce: debounce,
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Settings: Settings{IncludeDirs: []string{inc}}})
		serverSide.Close()
	}()
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(clientSide), jsonrpc2.WithCodec(codec{}))
	c.conn.Go(context.Background(), func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		switch req.Method() {
		case "textDocument/publishDiagnostics":
			var p protocol.PublishDiagnosticsParams
			if err := protocol.Unmarshal(req.Params(), &p); err != nil {
				t.Errorf("bad publishDiagnostics: %v", err)
				return nil, nil
			}
			c.mu.Lock()
			c.diags[p.URI] = append(c.diags[p.URI], &p)
			c.mu.Unlock()
			select {
			case c.notify <- struct{}{}:
			default:
			}
		}
		return nil, nil
	})
	t.Cleanup(func() { c.conn.Close(); clientSide.Close() })
	var res protocol.InitializeResult
	c.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{
		"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}}}}, &res)
	if res.ServerInfo.Name != "bpf-lsp" {
		t.Fatalf("initialize: %+v", res)
	}
	c.notifyServer("initialized", map[string]any{})
	return c
}

func (c *testClient) call(method string, params, result any) error {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

// callJSON decodes the result with encoding/json (for the test's own
// anonymous result structs).
func (c *testClient) callJSON(method string, params, result any) error {
	c.t.Helper()
	var raw json.RawMessage
	if err := c.call(method, params, &raw); err != nil {
		return err
	}
	return json.Unmarshal(raw, result)
}

func (c *testClient) notifyServer(method string, params any) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, params); err != nil {
		c.t.Fatalf("notify %s: %v", method, err)
	}
}

func (c *testClient) open(path, text string) uri.URI {
	u := uri.File(path)
	c.notifyServer("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": u, "languageId": "c", "version": 1, "text": text}})
	return u
}

func (c *testClient) change(u uri.URI, version int, text string) {
	c.notifyServer("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": u, "version": version},
		"contentChanges": []map[string]any{{"text": text}}})
}

// waitDiags waits for diagnostics published for exactly this version.
func (c *testClient) waitDiags(u uri.URI, version int32) []protocol.Diagnostic {
	c.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		for _, p := range c.diags[u] {
			if v, ok := p.Version.Get(); ok && v == version {
				c.mu.Unlock()
				return p.Diagnostics
			}
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("no diagnostics for %s version %d", u, version)
		}
	}
}

func codeOf(d protocol.Diagnostic) string {
	if s, ok := d.Code.(protocol.String); ok {
		return string(s)
	}
	return fmt.Sprint(d.Code)
}

func fixture(t *testing.T, name string) (string, string) {
	t.Helper()
	src, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, string(src)
}

func TestDiagnosticThenQuickFixClearsIt(t *testing.T) {
	c := startServer(t, 10*time.Millisecond)
	path, src := fixture(t, "rb_add_unlocked.bpf.c")
	u := c.open(path, src)
	diags := c.waitDiags(u, 1)
	var bug *protocol.Diagnostic
	for i, d := range diags {
		if codeOf(d) == "BL201" {
			bug = &diags[i]
		}
	}
	if bug == nil || bug.Range.Start.Line != 25 {
		t.Fatalf("want BL201 on line 26, got %+v", diags)
	}
	if src, ok := bug.Source.Get(); !ok || src != "bpf-lsp" || len(bug.RelatedInformation) == 0 || bug.CodeDescription.Href == "" {
		t.Errorf("diagnostic lacks source/related/codeDescription: %+v", bug)
	}

	var actions []json.RawMessage
	if err := c.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": u}, "range": bug.Range,
		"context": map[string]any{"diagnostics": []any{}}}, &actions); err != nil {
		t.Fatal(err)
	}
	if len(actions) == 0 {
		t.Fatal("no quick fix offered")
	}
	var action struct {
		Title       string
		Kind        string
		IsPreferred bool
		Edit        struct {
			Changes map[string][]struct {
				Range   protocol.Range
				NewText string
			}
		}
	}
	if err := json.Unmarshal(actions[0], &action); err != nil {
		t.Fatal(err)
	}
	if action.Kind != "quickfix" || !action.IsPreferred {
		t.Errorf("action %+v", action)
	}
	text := []byte(src)
	edits := action.Edit.Changes[string(u)]
	sort.Slice(edits, func(i, j int) bool {
		a, b := edits[i].Range.Start, edits[j].Range.Start
		return a.Line > b.Line || a.Line == b.Line && a.Character > b.Character
	})
	for _, e := range edits {
		m := newMapper(text, false)
		var err error
		if text, err = applyChange(text, m, e.Range, e.NewText); err != nil {
			t.Fatal(err)
		}
	}
	c.change(u, 2, string(text))
	for _, d := range c.waitDiags(u, 2) {
		t.Errorf("after the fix: %s %v", codeOf(d), d.Message)
	}
}

func TestHoverAndDefinitionOnGuardedField(t *testing.T) {
	c := startServer(t, 10*time.Millisecond)
	path, src := fixture(t, "guarded_map_value.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	// line 29: `	f->bytes += ctx->len;` (0-based 28); hover on "bytes".
	lines := strings.Split(src, "\n")
	col := strings.Index(lines[28], "bytes")
	var hover struct{ Contents struct{ Kind, Value string } }
	if err := c.callJSON("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": u},
		"position": map[string]any{"line": 28, "character": col}}, &hover); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hover.Contents.Value, "Guarded by **`flow.lock`**") || !strings.Contains(hover.Contents.Value, "not held") {
		t.Fatalf("hover: %q", hover.Contents.Value)
	}
	var loc protocol.Location
	if err := c.call("textDocument/definition", map[string]any{"textDocument": map[string]any{"uri": u},
		"position": map[string]any{"line": 28, "character": col}}, &loc); err != nil {
		t.Fatal(err)
	}
	if loc.Range.Start.Line != 5 {
		t.Fatalf("definition: %+v, want the lock field on line 6", loc)
	}
}

// Typing a program from scratch: every prefix is a half-written file. The
// server must survive all of them and still analyse the full text.
func TestHalfTypedPrefixesNeverKillTheServer(t *testing.T) {
	c := startServer(t, time.Millisecond)
	path, src := fixture(t, "sched_queue.bpf.c")
	u := c.open(path, "")
	v := 1
	for i := 0; i <= len(src); i++ {
		v++
		c.change(u, v, src[:i])
		if i%10 == 0 {
			c.waitDiags(u, int32(v)) // analysed, not just superseded
		}
	}
	v++
	c.change(u, v, src+"\nint broken(void) { return 1 + ; }\n")
	diags := c.waitDiags(u, int32(v))
	if len(diags) != 1 || codeOf(diags[0]) != "BL001" {
		t.Fatalf("want exactly the syntax error, got %+v", diags)
	}
	// The other functions were analysed: hover on a root still works.
	lines := strings.Split(src, "\n")
	for i, l := range lines {
		if col := strings.Index(l, "&runq"); col >= 0 {
			var hover struct{ Contents struct{ Value string } }
			if err := c.callJSON("textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": u},
				"position": map[string]any{"line": i, "character": col + 1}}, &hover); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(hover.Contents.Value, "rq_lock") {
				t.Fatalf("hover on runq after the broken function: %q", hover.Contents.Value)
			}
			break
		}
	}
}

func TestRapidEditsPublishTheFinalVersion(t *testing.T) {
	c := startServer(t, 20*time.Millisecond)
	path, src := fixture(t, "rb_add_unlocked.bpf.c")
	u := c.open(path, src)
	for v := 2; v <= 1001; v++ {
		text := src
		if v%2 == 1 {
			text = strings.Replace(src, "\tbpf_rbtree_add(&groot", "\tbpf_spin_lock(&glock);\n\tbpf_rbtree_add(&groot", 1)
			text = strings.Replace(text, "\treturn 0;\n}\n\nchar", "\tbpf_spin_unlock(&glock);\n\treturn 0;\n}\n\nchar", 1)
		}
		c.change(u, v, text)
	}
	// Version 1001 is the fixed program: no findings, and nothing stale
	// published after it.
	if d := c.waitDiags(u, 1001); len(d) != 0 {
		t.Fatalf("final version has findings: %+v", d)
	}
	time.Sleep(200 * time.Millisecond)
	c.mu.Lock()
	last := c.diags[u][len(c.diags[u])-1]
	c.mu.Unlock()
	if v, _ := last.Version.Get(); v != 1001 {
		t.Fatalf("a stale version %d was published after the final one", v)
	}
}

func TestCancelRequest(t *testing.T) {
	c := startServer(t, 5*time.Second) // the analysis waits: the hover blocks on it
	path, src := fixture(t, "rb_add_locked.bpf.c")
	u := c.open(path, src)
	c.change(u, 2, src+"\n")
	c.change(u, 3, src+"\n\n") // typing: this one waits for the 5s debounce
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.conn.Call(ctx, "textDocument/hover", map[string]any{"textDocument": map[string]any{"uri": u},
			"position": map[string]any{"line": 0, "character": 0}}, nil)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel() // sends $/cancelRequest
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("cancelled hover succeeded")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("hover was not cancelled")
	}
	// The connection is still fine.
	var syms []json.RawMessage
	if err := c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, &syms); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputKeepsTheConnection(t *testing.T) {
	c := startServer(t, time.Millisecond)
	err := c.call("bpf/noSuchMethod", map[string]any{}, nil)
	var rpcErr *jsonrpc2.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.MethodNotFound {
		t.Fatalf("unknown method: %v", err)
	}
	c.notifyServer("bpf/noSuchNotification", map[string]any{"x": 1})
	c.notifyServer("$/cancelRequest", map[string]any{"id": true})
	c.notifyServer("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": "file:///not/open.c", "version": 3},
		"contentChanges": []map[string]any{{"text": "x"}}})
	// Invalid UTF-8 and a huge line in a document.
	u := c.open(filepath.Join(t.TempDir(), "bad.bpf.c"), "int x = 1;\n\xff\xfe garbage \xc3(\n"+strings.Repeat("a", 1<<20))
	c.waitDiags(u, 1)
	var syms json.RawMessage
	if err := c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, &syms); err != nil {
		t.Fatalf("server unusable after bad input: %v", err)
	}
}

func TestMalformedFrameKeepsTheServer(t *testing.T) {
	c := startServer(t, time.Millisecond)
	body := `{"jsonrpc":"2.0","id":99,"method":"textDocument/hover","params":{` // truncated JSON
	fmt.Fprintf(c.raw, "Content-Length: %d\r\n\r\n%s", len(body), body)
	var syms json.RawMessage
	err := c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": "file:///x.c"}}, &syms)
	if err == nil || strings.Contains(err.Error(), "closed") {
		t.Fatalf("after a malformed frame: %v (want an error reply for the unopened document, on a live connection)", err)
	}
}

func TestShutdownExit(t *testing.T) {
	c := startServer(t, time.Millisecond)
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	c.notifyServer("exit", nil)
	select {
	case code := <-c.exit:
		if code != 0 {
			t.Fatalf("exit code %d after shutdown, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not exit")
	}
}

func TestExitWithoutShutdownIsError(t *testing.T) {
	c := startServer(t, time.Millisecond)
	c.notifyServer("exit", nil)
	select {
	case code := <-c.exit:
		if code != 1 {
			t.Fatalf("exit code %d without shutdown, want 1", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not exit")
	}
}

// The kernel cross-check from the editor: bpf-lsp.verify publishes the
// kernel's rejection (source bpf-verifier) at the mapped line.
func TestVerifyCommandPublishesKernelVerdict(t *testing.T) {
	if err := verifier.Probe(); err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("clang-19"); err != nil {
		t.Skip("clang-19 not installed")
	}
	c := startServer(t, time.Millisecond)
	path, src := fixture(t, "rb_add_unlocked.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	var summary json.RawMessage
	if err := c.call("workspace/executeCommand", map[string]any{"command": "bpf-lsp.verify", "arguments": []any{string(u)}}, &summary); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		var found *protocol.Diagnostic
		for _, p := range c.diags[u] {
			for i, d := range p.Diagnostics {
				if s, _ := d.Source.Get(); s == "bpf-verifier" {
					found = &p.Diagnostics[i]
				}
			}
		}
		c.mu.Unlock()
		if found != nil {
			if found.Range.Start.Line != 25 || codeOf(*found) != "BL201" || !strings.Contains(fmt.Sprint(found.Message), "agree") {
				t.Fatalf("kernel diagnostic %+v", found)
			}
			return
		}
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatalf("no bpf-verifier diagnostic; command said %s", summary)
		}
	}
}

func TestInlayHintsPullDiagnosticsAndSymbols(t *testing.T) {
	c := startServer(t, time.Millisecond)
	path, src := fixture(t, "static_lock_helpers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	var hints []struct {
		Position protocol.Position
		Label    string
	}
	if err := c.callJSON("textDocument/inlayHint", map[string]any{"textDocument": map[string]any{"uri": u},
		"range": map[string]any{"start": map[string]any{"line": 0, "character": 0}, "end": map[string]any{"line": 100, "character": 0}}}, &hints); err != nil {
		t.Fatal(err)
	}
	// deliver() runs with mq_lock taken in mq_lock_take(): lock state flows
	// through static calls, and the hints say so.
	found := false
	for _, h := range hints {
		if h.Label == "holds mq_lock:" && h.Position.Line == 26 {
			found = true
		}
	}
	if !found {
		t.Errorf("no 'holds mq_lock:' hint at the list push: %+v", hints)
	}
	var report struct {
		Kind  string
		Items []json.RawMessage
	}
	if err := c.callJSON("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": u}}, &report); err != nil {
		t.Fatal(err)
	}
	if report.Kind != "full" || len(report.Items) != 0 {
		t.Errorf("pull diagnostics: %+v", report)
	}
	var syms []struct {
		Name   string
		Detail string
	}
	if err := c.callJSON("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, &syms); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, s := range syms {
		names[s.Name] = s.Detail
	}
	if names["mq_lock"] == "" || names["inbox"] != "bpf_list_head guarded by mq_lock" || names["inbox_len"] != "data guarded by mq_lock" {
		t.Errorf("symbols: %+v", syms)
	}
}

// Settings changes re-analyse open documents with the new flags.
func TestDidChangeConfiguration(t *testing.T) {
	c := startServer(t, time.Millisecond)
	path, src := fixture(t, "rb_add_locked.bpf.c")
	u := c.open(path, src)
	if d := c.waitDiags(u, 1); len(d) != 0 {
		t.Fatalf("unexpected: %+v", d)
	}
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{"includeDirs": []string{}}}})
	deadline := time.After(30 * time.Second)
	for {
		c.mu.Lock()
		last := c.diags[u][len(c.diags[u])-1]
		c.mu.Unlock()
		if len(last.Diagnostics) > 0 {
			if codeOf(last.Diagnostics[0]) != "BL002" || !strings.Contains(fmt.Sprint(last.Diagnostics[0].Message), "bpf_lsp.h") {
				t.Fatalf("want the missing header, got %+v", last.Diagnostics[0])
			}
			return
		}
		select {
		case <-c.notify:
		case <-deadline:
			t.Fatal("no re-analysis after the configuration change")
		}
	}
}
