package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// versionedEdits is a client that applies versioned workspace edits.
var versionedEdits = map[string]any{
	"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}},
	"workspace":    map[string]any{"workspaceEdit": map[string]any{"documentChanges": true}},
}

type codeAction struct {
	Title       string
	Kind        string
	IsPreferred bool
	Diagnostics []json.RawMessage
	Edit        struct {
		Changes         map[string][]protocol.TextEdit
		DocumentChanges []struct {
			TextDocument struct {
				URI     string
				Version int32
			}
			Edits []protocol.TextEdit
		}
	}
}

func TestDiagnosticThenQuickFixClearsIt(t *testing.T) {
	c := startServer(t, clientOptions{capabilities: versionedEdits})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	line, col := lineOf(t, src, "bpf_rbtree_add(&wheel")
	diags := c.waitDiags(u, 1)
	if got := codes(diags); !slices.Equal(got, []string{fmt.Sprintf("BL201@%d", line+1)}) {
		t.Fatalf("diagnostics %v, want BL201 on line %d", got, line+1)
	}
	bug := diags[0]
	if bug.Range.Start.Character != uint32(col) || bug.Severity != protocol.DiagnosticSeverityError {
		t.Errorf("range/severity %+v", bug)
	}
	if src, _ := bug.Source.Get(); src != "bpf-lsp" || !strings.HasSuffix(string(bug.CodeDescription.Href), "docs/rules.md#bl201") {
		t.Errorf("source %q, codeDescription %q", src, bug.CodeDescription.Href)
	}
	if len(bug.RelatedInformation) == 0 || !strings.Contains(bug.RelatedInformation[0].Message, "wheel_lock") {
		t.Errorf("relatedInformation %+v", bug.RelatedInformation)
	}
	if msg := messageOf(bug); !strings.Contains(msg, "requires holding 'wheel_lock'") || !strings.Contains(msg, "must be held for bpf_rb_root") {
		t.Errorf("message %q: want the operation, the lock and the kernel's wording", msg)
	}

	// A client that asks only for refactorings gets no quick fix.
	var none []json.RawMessage
	if err := c.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": u}, "range": bug.Range,
		"context": map[string]any{"diagnostics": []any{}, "only": []string{"refactor"}}}, &none); err != nil || len(none) != 0 {
		t.Errorf("only=refactor: %v %s", err, none)
	}
	var actions []codeAction
	if err := c.callJSON("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": u}, "range": bug.Range,
		"context": map[string]any{"diagnostics": []any{}}}, &actions); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(actions, func(a codeAction) bool { return a.IsPreferred })
	if i < 0 {
		t.Fatalf("no preferred quick fix among %+v", actions)
	}
	fix := actions[i]
	if fix.Kind != "quickfix" || len(fix.Diagnostics) != 1 || len(fix.Edit.DocumentChanges) != 1 {
		t.Fatalf("fix %+v", fix)
	}
	dc := fix.Edit.DocumentChanges[0]
	if dc.TextDocument.URI != string(u) || dc.TextDocument.Version != 1 {
		t.Errorf("the edit targets %s version %d, want %s version 1", dc.TextDocument.URI, dc.TextDocument.Version, u)
	}
	fixed := applyEdits(t, src, dc.Edits)
	if !strings.Contains(fixed, "bpf_spin_lock(&wheel_lock)") {
		t.Fatalf("%q did not take the lock:\n%s", fix.Title, fixed)
	}
	c.change(u, 2, fixed)
	if d := c.waitDiags(u, 2); len(d) != 0 {
		t.Errorf("after %q: %v", fix.Title, codes(d))
	}
	// Fixes of version 1 are not offered for version 2.
	var after []json.RawMessage
	if err := c.call("textDocument/codeAction", map[string]any{"textDocument": map[string]any{"uri": u}, "range": bug.Range,
		"context": map[string]any{"diagnostics": []any{}}}, &after); err != nil || len(after) != 0 {
		t.Errorf("stale fixes: %v %s", err, after)
	}
}

func TestHoverAndDefinition(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "flows.bpf.c")
	u := c.open(path, src)
	diags := c.waitDiags(u, 1)
	if got := codes(diags); len(got) != 1 || !strings.HasPrefix(got[0], "BL208@") {
		t.Fatalf("diagnostics %v, want one BL208", got)
	}
	lockLine, _ := lineOf(t, src, "struct bpf_spin_lock lock;")

	// The unlocked write in account() (where the finding is): the lock,
	// why, and that it is not held.
	unlocked := int(diags[0].Range.Start.Line)
	lines := strings.Split(src, "\n")
	col := strings.Index(lines[unlocked], "bytes")
	h := c.hover(u, unlocked, col)
	for _, want := range []string{"Guarded by **`flow.lock`**", "explicit __guarded_by(lock)", "is **not held**"} {
		if !strings.Contains(h, want) {
			t.Errorf("hover on account()'s bytes lacks %q:\n%s", want, h)
		}
	}
	// The same field under the lock in count().
	locked, pcol := lineOf(t, src, "f->packets++")
	if h := c.hover(u, locked, pcol+3); !strings.Contains(h, "`flow.lock` **is held**") {
		t.Errorf("hover on count()'s packets:\n%s", h)
	}
	// Definition: from the field to the lock field.
	var loc protocol.Location
	if err := c.call("textDocument/definition", c.position(u, unlocked, col), &loc); err != nil {
		t.Fatal(err)
	}
	if loc.URI != u || int(loc.Range.Start.Line) != lockLine {
		t.Errorf("definition %+v, want line %d", loc, lockLine+1)
	}
	// Nothing to say about plain code.
	var nothing json.RawMessage
	if err := c.call("textDocument/hover", c.position(u, 0, 0), &nothing); err != nil || string(nothing) != "null" {
		t.Errorf("hover on a comment: %s %v", nothing, err)
	}
}

func TestHoverOnGraphCallAndLock(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	line, col := lineOf(t, src, "bpf_rbtree_add(&wheel")
	for _, at := range []int{col + 2, col + len("bpf_rbtree_add(&") + 1} { // the call's name, then its root argument
		h := c.hover(u, line, at)
		for _, want := range []string{"**wheel**", "Guarded by **`wheel_lock`**", "Contains `struct timer.by_deadline`", "is **not held**", "bpf_spin_lock at off=16 must be held for bpf_rb_root"} {
			if !strings.Contains(h, want) {
				t.Errorf("hover at %d:%d lacks %q:\n%s", line+1, at, want, h)
			}
		}
		var loc protocol.Location
		if err := c.call("textDocument/definition", c.position(u, line, at), &loc); err != nil {
			t.Fatal(err)
		}
		if want, _ := lineOf(t, src, "struct bpf_spin_lock wheel_lock;"); int(loc.Range.Start.Line) != want {
			t.Errorf("definition from %d:%d: %+v, want line %d", line+1, at, loc, want+1)
		}
	}
	decl, col := lineOf(t, src, "wheel_lock;")
	if h := c.hover(u, decl, col); !strings.Contains(h, "Guards `wheel`, `armed`") && !strings.Contains(h, "Guards `armed`, `wheel`") {
		t.Errorf("hover on the lock declaration:\n%s", h)
	}
}

// Typing a program from scratch: every prefix is a half-written file. The
// server must survive all of them, and a broken function must not hide
// the findings of the others.
func TestHalfTypedCodeNeverKillsTheServer(t *testing.T) {
	c := startServer(t, clientOptions{})
	for _, name := range []string{"timers.bpf.c", "flows.bpf.c"} {
		path, src := fixture(t, name)
		u := c.open(path, "")
		v := 1
		step := max(1, len(src)/400) // ~400 prefixes per file, each analysed
		for i := 0; i <= len(src); i += step {
			v++
			c.change(u, v, src[:i])
			c.waitDiags(u, int32(v))
		}
		v++
		c.change(u, v, src)
		c.waitDiags(u, int32(v))
	}

	// A half-typed function between two complete ones.
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	bugLine, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	half := strings.Replace(src, "SEC(\"tc\")\nint fire(", "static int typing(int x)\n{\n\tif (x > \n\nSEC(\"tc\")\nint fire(", 1)
	c.change(u, 2, half)
	got := codes(c.waitDiags(u, 2))
	if !slices.Contains(got, fmt.Sprintf("BL201@%d", bugLine+1)) || !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "BL001@") }) {
		t.Fatalf("with a half-typed function: %v, want its syntax error and arm()'s BL201", got)
	}
	// Navigation in the complete functions still works.
	line, col := lineOf(t, half, "bpf_rbtree_add(&wheel")
	if h := c.hover(u, line, col+len("bpf_rbtree_add(&")); !strings.Contains(h, "`wheel_lock` is **not held**") {
		t.Errorf("hover after the broken function:\n%s", h)
	}
}

// 1,000 incremental edits sent without waiting: the server publishes in
// version order, and the last publication is for the final text.
func TestRapidEditsPublishTheFinalVersion(t *testing.T) {
	c := startServer(t, clientOptions{debounce: 20 * time.Millisecond})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	line, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	// Open a comment line above the bug and type into it, a character per
	// version (2..999)...
	at := func(l, ch int) protocol.Range {
		p := protocol.Position{Line: uint32(l), Character: uint32(ch)}
		return protocol.Range{Start: p, End: p}
	}
	c.edit(u, 2, at(line, 0), "\t// \n")
	for v := 3; v <= 999; v++ {
		c.edit(u, v, at(line, 4+v-3), string(rune('a'+v%26)))
	}
	// ...then take the lock around the insert, now one line lower.
	c.edit(u, 1000, at(line+1, 0), "\tbpf_spin_lock(&wheel_lock);\n")
	c.edit(u, 1001, at(line+3, 0), "\tbpf_spin_unlock(&wheel_lock);\n")
	if d := c.waitDiags(u, 1001); len(d) != 0 {
		t.Fatalf("final version: %v", codes(d))
	}
	time.Sleep(200 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	published := c.diags[u]
	prev := int32(0)
	for _, p := range published {
		v, _ := p.Version.Get()
		if v < prev {
			t.Errorf("version %d published after version %d", v, prev)
		}
		prev = v
	}
	if prev != 1001 {
		t.Errorf("last publication is for version %d, want 1001", prev)
	}
	if len(published) > 100 {
		t.Errorf("%d publications for 1,000 edits: debouncing does not work", len(published))
	}
}

func TestCancelRequest(t *testing.T) {
	// The hover waits for an analysis that waits until the test ends (a
	// debounce was not enough: an analysis of an edit between functions
	// can end before the next edit arrives, which is then not debounced).
	release := make(chan struct{})
	var parses atomic.Int32
	parse := func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error) {
		if parses.Add(1) > 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return p.Parse(ctx, path, overlay)
	}
	c := startServer(t, clientOptions{parse: parse})
	t.Cleanup(func() { close(release) })
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	c.change(u, 2, src+"\n")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		// protocol.Call sends $/cancelRequest when ctx is cancelled.
		errc <- protocol.Call(ctx, c.conn, "textDocument/hover", c.position(u, 0, 0), nil)
	}()
	// Cancel once the server holds the hover (not after some time: on a
	// loaded machine the hover may not even have been read by then).
	c.waitFor("the server to receive the hover", func() bool {
		c.server.calls.mu.Lock()
		defer c.server.calls.mu.Unlock()
		return len(c.server.calls.cancel) == 1
	})
	cancel() // sends $/cancelRequest
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("cancelled hover succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hover was not cancelled")
	}
	// The server saw $/cancelRequest: the hover, which would otherwise wait
	// for the analysis, has stopped.
	c.waitFor("the server to drop the cancelled hover", func() bool {
		c.server.calls.mu.Lock()
		defer c.server.calls.mu.Unlock()
		return len(c.server.calls.cancel) == 0
	})
	// Other requests keep working.
	var rpcErr *jsonrpc2.Error
	if err := c.call("bpf/ping", nil, nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.MethodNotFound {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestUnknownAndMalformedMessagesKeepTheConnection(t *testing.T) {
	c := startServer(t, clientOptions{})
	var rpcErr *jsonrpc2.Error
	if err := c.call("bpf/noSuchMethod", map[string]any{}, nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.MethodNotFound {
		t.Fatalf("unknown method: %v", err)
	}
	c.notifyServer("bpf/noSuchNotification", map[string]any{"x": 1})
	c.notifyServer("$/cancelRequest", map[string]any{"id": true})
	c.notifyServer("$/cancelRequest", "not an object")
	c.notifyServer("$/setTrace", map[string]any{"value": "verbose"})
	c.notifyServer("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": "file:///not/open.c", "version": 3},
		"contentChanges": []map[string]any{{"text": "x"}}})
	c.notifyServer("textDocument/didOpen", map[string]any{"textDocument": 42})
	if err := c.call("textDocument/hover", map[string]any{"textDocument": "nope"}, nil); err == nil {
		t.Error("hover with bad params succeeded")
	}
	// Raw frames: truncated JSON, a body that is not JSON, invalid UTF-8 in
	// a string, a wrong jsonrpc version, a bad header.
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":99,"method":"textDocument/hover","params":{`,
		`this is not json`,
		"{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":{\"uri\":\"file:///tmp/u.c\",\"languageId\":\"c\",\"version\":1,\"text\":\"int \xff\xfe x;\"}}}",
		`{"jsonrpc":"1.0","id":98,"method":"shutdown"}`,
		`[]`,
	} {
		fmt.Fprintf(c.raw, "Content-Length: %d\r\n\r\n%s", len(body), body)
	}
	fmt.Fprintf(c.raw, "Content-Type: nothing\r\n\r\n")
	// Invalid UTF-8 and a huge line in a document the client encodes.
	u := c.open(filepath.Join(t.TempDir(), "bad.bpf.c"), "int x = 1;\n\xff\xfe garbage \xc3(\n"+strings.Repeat("a", 1<<20))
	c.waitDiags(u, 1)
	var syms json.RawMessage
	if err := c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, &syms); err != nil {
		t.Fatalf("server unusable after bad input: %v", err)
	}
}

// The recover middleware turns a handler panic into an InternalError
// reply for a request and a log line for a notification; the session
// goes on.
func TestPanicBecomesInternalError(t *testing.T) {
	panicky := func(next jsonrpc2.Handler) jsonrpc2.Handler {
		return func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			if req.Method() == "textDocument/foldingRange" || req.Method() == "textDocument/willSave" {
				panic("boom")
			}
			return next(ctx, req)
		}
	}
	c := startServer(t, clientOptions{dispatch: panicky})
	var rpcErr *jsonrpc2.Error
	if err := c.call("textDocument/foldingRange", map[string]any{"textDocument": map[string]any{"uri": "file:///x.c"}}, nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.InternalError || !strings.Contains(rpcErr.Message, "boom") {
		t.Errorf("panicking request: %v", err)
	}
	c.notifyServer("textDocument/willSave", map[string]any{"textDocument": map[string]any{"uri": "file:///x.c"}, "reason": 1})
	path, src := fixture(t, "flows.bpf.c")
	u := c.open(path, src)
	if d := c.waitDiags(u, 1); len(d) != 1 {
		t.Errorf("after the panics: %v", codes(d))
	}
}

func TestRequestBeforeInitialize(t *testing.T) {
	c := startServer(t, clientOptions{skipInit: true})
	var rpcErr *jsonrpc2.Error
	if err := c.call("textDocument/hover", c.position("file:///x.c", 0, 0), nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.ServerNotInitialized {
		t.Fatalf("hover before initialize: %v", err)
	}
	var res json.RawMessage
	if err := c.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}}, &res); err != nil {
		t.Fatal(err)
	}
	if err := c.call("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}}, &res); !errors.As(err, &rpcErr) {
		t.Fatalf("second initialize: %v", err)
	}
}

func TestShutdownExit(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	c.open(path, src)
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	var rpcErr *jsonrpc2.Error
	if err := c.call("textDocument/hover", c.position("file:///x.c", 0, 0), nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.InvalidRequest {
		t.Errorf("request after shutdown: %v", err)
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
	c := startServer(t, clientOptions{})
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

func TestStreamClosedWithoutExitIsError(t *testing.T) {
	c := startServer(t, clientOptions{})
	c.raw.Close()
	select {
	case code := <-c.exit:
		if code != 1 {
			t.Fatalf("exit code %d when the editor vanished, want 1", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not notice the closed stream")
	}
}

// Edits inside one program re-analyse that program only, a comment between
// declarations none (their findings move with the text), and both publish
// what a fresh server publishes for the same text.
func TestEditsReuseOtherPrograms(t *testing.T) {
	c := startServer(t, clientOptions{})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	text := src
	for v := 2; v <= 7; v++ {
		// A line into drain's body, or a comment on the first line (the
		// finding in arm moves).
		line, ins, reused := 0, "// timers\n", 3
		if v%2 == 0 {
			line, _ = lineOf(t, text, "int drain(")
			line, ins, reused = line+2, "\tskb->mark = 1;\n", 2
		}
		at := protocol.Position{Line: uint32(line)}
		c.edit(u, v, protocol.Range{Start: at, End: at}, ins)
		lines := strings.SplitAfter(text, "\n")
		text = strings.Join(lines[:line], "") + ins + strings.Join(lines[line:], "")
		got := c.waitDiags(u, int32(v))
		c.server.mu.Lock()
		stats := c.server.docs[u].result.result.Stats
		c.server.mu.Unlock()
		if stats.Programs != 3 || stats.Cached != reused {
			t.Errorf("version %d: %d of %d programs reused, want %d", v, stats.Cached, stats.Programs, reused)
		}
		fresh := startServer(t, clientOptions{})
		fu := fresh.open(path, text)
		if want := fresh.waitDiags(fu, 1); len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("version %d: diagnostics differ from a fresh analysis\ngot:  %+v\nwant: %+v", v, got, want)
		}
	}
}
