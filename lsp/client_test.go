package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// testClient drives a server over a pipe like an editor does: it sends
// requests and notifications, records what the server publishes and
// answers the server's own requests.
type testClient struct {
	t      *testing.T
	server *Server
	conn   jsonrpc2.Conn
	raw    net.Conn
	exit   chan int
	// callTimeout bounds each request; 0 means a minute. A test whose
	// request downloads and boots kernels sets more.
	callTimeout time.Duration

	mu       sync.Mutex
	diags    map[uri.URI][]*protocol.PublishDiagnosticsParams
	received []string          // methods the server sent, in order
	progress []json.RawMessage // $/progress values
	config   json.RawMessage   // the answer to workspace/configuration
	notify   chan struct{}
	// capabilities are the server's, from initialize.
	capabilities map[string]any
}

// clientOptions shape the editor the test pretends to be.
type clientOptions struct {
	debounce     time.Duration
	capabilities map[string]any // ClientCapabilities; default: relatedInformation only
	initOptions  any
	skipInit     bool
	// dispatch, when set, wraps the protocol dispatcher inside the
	// server's middleware.
	dispatch func(jsonrpc2.Handler) jsonrpc2.Handler
	// parse, when set, replaces cparse.Parser.Parse.
	parse        func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error)
	parseTimeout time.Duration
	log          io.Writer // the server log; default: discarded
	root         string    // the workspace root (rootUri); default none
	slots        int       // parse slots; default one per CPU

	closedMemoryLimit int64 // Options.ClosedMemoryLimit
}

var includeDir, _ = filepath.Abs("../testdata/include")

func startServer(t *testing.T, o clientOptions) *testClient {
	t.Helper()
	serverSide, clientSide := net.Pipe()
	if o.debounce == 0 {
		o.debounce = time.Millisecond
	}
	if o.log == nil {
		o.log = io.Discard
	}
	s := newServer(Options{Debounce: o.debounce, ParseTimeout: o.parseTimeout, Logger: slog.New(slog.NewTextHandler(o.log, nil)),
		Settings: Settings{IncludeDirs: []string{includeDir}}, ClosedMemoryLimit: o.closedMemoryLimit})
	if o.parse != nil {
		s.parse = o.parse
	}
	if o.slots > 0 {
		s.slots = newParseSlots(o.slots)
	}
	c := &testClient{t: t, server: s, raw: clientSide, exit: make(chan int, 1),
		diags: map[uri.URI][]*protocol.PublishDiagnosticsParams{}, notify: make(chan struct{}, 1)}
	h := protocol.ServerHandler(s, nil)
	if o.dispatch != nil {
		h = o.dispatch(h)
	}
	go func() {
		c.exit <- s.serveWith(context.Background(), serverSide, h)
		serverSide.Close()
	}()
	c.conn = jsonrpc2.NewConn(jsonrpc2.NewStream(clientSide), jsonrpc2.WithCodec(codec{}))
	c.conn.Go(context.Background(), c.handle)
	t.Cleanup(func() { c.conn.Close(); clientSide.Close() })
	if o.skipInit {
		return c
	}
	caps := o.capabilities
	if caps == nil {
		caps = map[string]any{"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}}}
	}
	var res struct {
		Capabilities map[string]any
		ServerInfo   struct{ Name string }
	}
	var root any
	if o.root != "" {
		root = uri.File(o.root)
	}
	if err := c.callJSON("initialize", map[string]any{"processId": nil, "rootUri": root, "capabilities": caps,
		"initializationOptions": o.initOptions}, &res); err != nil {
		t.Fatal(err)
	}
	c.capabilities = res.Capabilities
	if res.ServerInfo.Name != "bpf-lsp" || res.Capabilities["hoverProvider"] != true {
		t.Fatalf("initialize: %+v", res)
	}
	c.notifyServer("initialized", map[string]any{})
	return c
}

// handle answers what the server sends to the client.
func (c *testClient) handle(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	c.mu.Lock()
	defer func() {
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}()
	c.received = append(c.received, strings.Clone(req.Method())) // req is pooled: copy what outlives the call
	switch req.Method() {
	case "textDocument/publishDiagnostics":
		var p protocol.PublishDiagnosticsParams
		if err := protocol.Unmarshal(req.Params(), &p); err != nil {
			c.t.Errorf("bad publishDiagnostics: %v", err)
			return nil, nil
		}
		c.diags[p.URI] = append(c.diags[p.URI], &p)
	case "$/progress":
		var p struct{ Value json.RawMessage }
		if err := json.Unmarshal(req.Params(), &p); err == nil {
			c.progress = append(c.progress, slices.Clone(p.Value))
		}
	case "workspace/configuration":
		return []json.RawMessage{c.config}, nil
	}
	return nil, nil
}

// saw reports whether the server has sent method.
func (c *testClient) saw(method string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.received {
		if m == method {
			return true
		}
	}
	return false
}

// waitFor polls cond (under c.mu) until it holds.
func (c *testClient) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-c.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (c *testClient) call(method string, params, result any) error {
	c.t.Helper()
	timeout := c.callTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := c.conn.Call(ctx, method, params, result)
	return err
}

// callJSON decodes the result with encoding/json (for the tests' own
// result structs).
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

// change replaces the whole text.
func (c *testClient) change(u uri.URI, version int, text string) {
	c.notifyServer("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": u, "version": version},
		"contentChanges": []map[string]any{{"text": text}}})
}

// edit sends one incremental change.
func (c *testClient) edit(u uri.URI, version int, rng protocol.Range, text string) {
	c.notifyServer("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": u, "version": version},
		"contentChanges": []map[string]any{{"range": rng, "text": text}}})
}

// waitDiags waits for diagnostics published for exactly this version.
func (c *testClient) waitDiags(u uri.URI, version int32) []protocol.Diagnostic {
	c.t.Helper()
	var out []protocol.Diagnostic
	c.waitFor(fmt.Sprintf("diagnostics for %s version %d", filepath.Base(u.FsPath()), version), func() bool {
		for _, p := range c.diags[u] {
			if v, ok := p.Version.Get(); ok && v == version {
				out = p.Diagnostics
				return true
			}
		}
		return false
	})
	return out
}

func (c *testClient) position(u uri.URI, line, char int) map[string]any {
	return map[string]any{"textDocument": map[string]any{"uri": u}, "position": map[string]any{"line": line, "character": char}}
}

func (c *testClient) hover(u uri.URI, line, char int) string {
	c.t.Helper()
	var hover struct{ Contents struct{ Kind, Value string } }
	if err := c.callJSON("textDocument/hover", c.position(u, line, char), &hover); err != nil {
		c.t.Fatal(err)
	}
	return hover.Contents.Value
}

func codeOf(d protocol.Diagnostic) string {
	if s, ok := d.Code.(protocol.String); ok {
		return string(s)
	}
	return fmt.Sprint(d.Code)
}

func messageOf(d protocol.Diagnostic) string {
	if s, ok := d.Message.(protocol.String); ok {
		return string(s)
	}
	return fmt.Sprint(d.Message)
}

func codes(diags []protocol.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, fmt.Sprintf("%s@%d", codeOf(d), d.Range.Start.Line+1))
	}
	sort.Strings(out)
	return out
}

// fixture copies lsp/testdata/name into a temporary directory (so that
// saves and the kernel cross-check work on a real file) and returns its
// path and text.
func fixture(t *testing.T, name string) (string, string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, string(src)
}

// lineOf returns the 0-based line of the first line containing substr, and
// the UTF-16 column of substr in it (the fixtures are ASCII).
func lineOf(t *testing.T, text, substr string) (int, int) {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if col := strings.Index(l, substr); col >= 0 {
			return i, col
		}
	}
	t.Fatalf("no line contains %q", substr)
	return 0, 0
}

// applyEdits applies LSP text edits (computed on text) back to front.
func applyEdits(t *testing.T, text string, edits []protocol.TextEdit) string {
	t.Helper()
	sort.Slice(edits, func(i, j int) bool {
		a, b := edits[i].Range.Start, edits[j].Range.Start
		return a.Line > b.Line || a.Line == b.Line && a.Character > b.Character
	})
	out := []byte(text)
	for _, e := range edits {
		var err error
		if out, err = applyChange(out, newMapper(out, false), e.Range, e.NewText); err != nil {
			t.Fatal(err)
		}
	}
	return string(out)
}
