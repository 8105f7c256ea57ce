package lsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// ping sends a request every server answers (MethodNotFound), proving the
// session still reads and answers.
func (c *testClient) ping(after string) {
	c.t.Helper()
	var rpcErr *jsonrpc2.Error
	if err := c.call("bpf/ping", nil, nil); !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc2.MethodNotFound {
		c.t.Fatalf("after %s: ping: %v", after, err)
	}
}

// Every framing error is followed by a resynchronisation on the next
// Content-Length header: the session keeps answering.
func TestFramingErrorsResynchronise(t *testing.T) {
	c := startServer(t, clientOptions{})
	valid := `{"jsonrpc":"2.0","method":"$/setTrace","params":{"value":"off"}}`
	for _, tc := range []struct{ name, raw string }{
		{"non-numeric length", "Content-Length: abc\r\n\r\n{}"},
		{"zero length", "Content-Length: 0\r\n\r\n"},
		{"negative length", "Content-Length: -5\r\n\r\n{}"},
		{"absurd length", "Content-Length: 99999999999999\r\n\r\n{}"},
		{"header without colon", "hello there\r\n\r\n"},
		{"blank line without header", "\r\n\r\n"},
		{"header without length", "Content-Type: application/json\r\n\r\n{}"},
		{"length longer than the body", "Content-Length: 100000\r\n\r\n{\"jsonrpc\":\"2.0\"}"},
		{"length shorter than the body", fmt.Sprintf("Content-Length: 10\r\n\r\n%s", valid)},
		{"body not JSON", "Content-Length: 5\r\n\r\nhello"},
		{"binary garbage", string(bytes.Repeat([]byte{0, 0xff, '\r', '\n', ':', 0x80}, 50000))},
		{"endless header line", strings.Repeat("X", 100000)},
		{"lower-case header then garbage", "content-length: 3\r\n\r\n{{{garbage"},
		{"header split by garbage", "Content-Len\r\ngth: 2\r\n\r\n{}"},
		// Five bytes too long: the body takes "Conte" of the ping's header.
		{"length 5 over the body", fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(valid)+5, valid)},
	} {
		if _, err := c.raw.Write([]byte(tc.raw)); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c.ping(tc.name)
	}
}

// A long run of garbage ends the session, and the log says why.
func TestGarbageEndsSessionWithReason(t *testing.T) {
	var log testenv.SyncBuffer
	c := startServer(t, clientOptions{log: &log})
	junk := bytes.Repeat([]byte("garbage "), 1<<20)
	go func() {
		for i := 0; i <= maxGarbage/len(junk); i++ {
			if _, err := c.raw.Write(junk); err != nil {
				return
			}
		}
	}()
	select {
	case code := <-c.exit:
		if code != 1 {
			t.Errorf("exit code %d", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the session survived endless garbage")
	}
	if !strings.Contains(log.String(), "without a valid JSON-RPC message") {
		t.Errorf("no reason logged:\n%.2000s", log.String())
	}
}

// Notifications never end the session, not even an initialize sent as
// one after initialization.
func TestInitializeNotificationKeepsSession(t *testing.T) {
	c := startServer(t, clientOptions{})
	c.notifyServer("initialize", map[string]any{"processId": nil, "rootUri": nil, "capabilities": map[string]any{}})
	c.notifyServer("shutdown", nil)
	c.notifyServer("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": "file:///never/opened.c"}})
	c.ping("notifications that fail")
	path, src := fixture(t, "timers.bpf.c")
	c.waitDiags(c.open(path, src), 1)
}

// A request's error always has an LSP code: a handler error without one
// is RequestFailed, a request overtaken by an edit is ContentModified.
func TestRequestErrorsCarryLSPCodes(t *testing.T) {
	failing := func(next jsonrpc2.Handler) jsonrpc2.Handler {
		return func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
			if req.Method() == "textDocument/documentSymbol" {
				return nil, errors.New("no symbols today")
			}
			return next(ctx, req)
		}
	}
	path, src := fixture(t, "timers.bpf.c")
	// Versions 2 and 3 never finish parsing: the hover below must find
	// version 3's analysis pending however fast analyses are.
	p := newStuckParser(t, func(_ string, text []byte) bool { return string(text) != src })
	c := startServer(t, clientOptions{dispatch: failing, debounce: time.Hour, parse: p.parse})
	u := c.open(path, src)
	c.waitDiags(u, 1)
	var rpcErr *jsonrpc2.Error
	err := c.call("textDocument/documentSymbol", map[string]any{"textDocument": map[string]any{"uri": u}}, nil)
	if !errors.As(err, &rpcErr) || rpcErr.Code != codeRequestFailed {
		t.Errorf("handler error: %v, want code %d", err, codeRequestFailed)
	}

	// The hover waits for the analysis of version 3 (stuck, or debounced
	// for an hour); version 4 makes its answer moot.
	c.change(u, 2, src+"\n")
	c.change(u, 3, src+"\n\n")
	errc := make(chan error, 1)
	go func() { errc <- c.call("textDocument/hover", c.position(u, 0, 0), nil) }()
	c.waitFor("the server to receive the hover", func() bool {
		c.server.calls.mu.Lock()
		defer c.server.calls.mu.Unlock()
		return len(c.server.calls.cancel) == 1
	})
	c.change(u, 4, src)
	if err := <-errc; !errors.As(err, &rpcErr) || rpcErr.Code != protocol.CodeContentModified {
		t.Errorf("hover overtaken by an edit: %v, want ContentModified", err)
	}
}

// stuckParser is a parse that never finishes for the files it names: it
// notices its cancellation (recorded) but goes on until released, like a
// parse blocked in a read. Other files parse normally.
type stuckParser struct {
	stuck     func(path string, text []byte) bool
	release   chan struct{}
	mu        sync.Mutex
	started   int
	cancelled int
}

func newStuckParser(t *testing.T, stuck func(path string, text []byte) bool) *stuckParser {
	p := &stuckParser{stuck: stuck, release: make(chan struct{})}
	t.Cleanup(func() { close(p.release) })
	return p
}

func (p *stuckParser) parse(cp *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error) {
	if !p.stuck(path, overlay[path]) {
		return cp.Parse(ctx, path, overlay)
	}
	p.mu.Lock()
	p.started++
	p.mu.Unlock()
	select {
	case <-ctx.Done():
		p.mu.Lock()
		p.cancelled++
		p.mu.Unlock()
	case <-p.release:
	}
	<-p.release
	return nil, errors.New("released")
}

func (p *stuckParser) count() (started, cancelled int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started, p.cancelled
}

// Parses that cannot finish hold every slot; an edit to their documents
// cancels them at once and gives their slots to other documents.
func TestSupersededParseFreesItsSlot(t *testing.T) {
	p := newStuckParser(t, func(_ string, text []byte) bool { return string(text) == "int stuck;\n" })
	c := startServer(t, clientOptions{parse: p.parse, parseTimeout: time.Hour})
	c.server.slots.mu.Lock()
	slots := c.server.slots.free // nothing parses yet
	c.server.slots.mu.Unlock()
	var stuck []uri.URI
	for i := range slots {
		stuck = append(stuck, c.open(filepath.Join(t.TempDir(), fmt.Sprintf("stuck%d.bpf.c", i)), "int stuck;\n"))
	}
	c.waitFor("every slot to be taken", func() bool { started, _ := p.count(); return started == slots })
	for _, u := range stuck {
		c.change(u, 2, "int unstuck;\n")
	}
	c.waitFor("the superseded parses to see their cancellation", func() bool { _, cancelled := p.count(); return cancelled == slots })
	path, src := fixture(t, "timers.bpf.c")
	if d := c.waitDiags(c.open(path, src), 1); len(d) == 0 {
		t.Error("no diagnostics for the other document")
	}
}

// A parse that times out frees its slot, its document is told why, and it
// is analysed again once the server is idle.
func TestTimedOutParseIsRetriedWhenIdle(t *testing.T) {
	var once sync.Once
	p := newStuckParser(t, func(path string, _ []byte) bool {
		first := false
		once.Do(func() { first = true })
		return first
	})
	c := startServer(t, clientOptions{parse: p.parse, parseTimeout: 3 * time.Second}) // the real parse must fit, even on a loaded machine
	path, src := fixture(t, "timers.bpf.c")
	bug, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	u := c.open(path, src)
	c.waitFor("a timeout, then the retry's findings", func() bool {
		pubs := c.diags[u]
		if len(pubs) < 2 {
			return false
		}
		first, last := pubs[0].Diagnostics, pubs[len(pubs)-1].Diagnostics
		return len(first) == 1 && strings.Contains(messageOf(first[0]), "did not finish") &&
			slices.Contains(codes(last), fmt.Sprintf("BL201@%d", bug+1))
	})
}

// A failed analysis never shows the last good findings where they were
// not computed: they move with an edit above them and disappear with an
// edit through them.
func TestNoOldFindingsUnderNewVersion(t *testing.T) {
	p := newStuckParser(t, func(_ string, text []byte) bool { return bytes.Contains(text, []byte("// slow")) })
	c := startServer(t, clientOptions{parse: p.parse, parseTimeout: 3 * time.Second}) // the real parse must fit, even on a loaded machine
	path, src := fixture(t, "timers.bpf.c")
	bug, _ := lineOf(t, src, "bpf_rbtree_add(&wheel")
	u := c.open(path, src)
	if got := codes(c.waitDiags(u, 1)); !slices.Contains(got, fmt.Sprintf("BL201@%d", bug+1)) {
		t.Fatalf("version 1: %v", got)
	}
	failedWith := func(version int32) []string {
		d := c.waitDiags(u, version)
		if !slices.ContainsFunc(d, func(d protocol.Diagnostic) bool { return strings.Contains(messageOf(d), "did not finish") }) {
			t.Fatalf("version %d did not time out: %v", version, codes(d))
		}
		return codes(d)
	}
	// A line added above: the finding moves down with its code.
	above := "// slow\n" + src
	c.change(u, 2, above)
	if got := failedWith(2); !slices.Contains(got, fmt.Sprintf("BL201@%d", bug+2)) || slices.Contains(got, fmt.Sprintf("BL201@%d", bug+1)) {
		t.Errorf("edit above: %v, want BL201 on line %d only", got, bug+2)
	}
	// The finding's own line edited: it cannot be placed, so it goes.
	through := strings.Replace(above, "bpf_rbtree_add(&wheel", "bpf_rbtree_add( &wheel", 1)
	c.change(u, 3, through)
	if got := failedWith(3); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "BL201") }) {
		t.Errorf("edit through the finding: %v, want no BL201", got)
	}
}

// The VS Code Verify command right after a save with verifyOnSave joins
// the save's kernel check instead of cancelling it.
func TestVerifyOnSaveAndCommandShareOneRun(t *testing.T) {
	if err := verifier.Probe(); err != nil {
		testenv.Skip(t, "cannot load BPF programs here: %v", err)
	}
	c := startServer(t, clientOptions{initOptions: map[string]any{"bpfLsp": map[string]any{"verifyOnSave": true}}})
	path, src := fixture(t, "timers.bpf.c")
	u := c.open(path, src)
	c.waitDiags(u, 1)
	for i := range 3 {
		c.notifyServer("textDocument/didSave", map[string]any{"textDocument": map[string]any{"uri": u}})
		var summary string
		if err := c.callJSON("workspace/executeCommand", map[string]any{"command": "bpf-lsp.verify", "arguments": []any{string(u)}}, &summary); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if !strings.Contains(summary, "arm: reject") {
			t.Errorf("round %d: summary %q", i, summary)
		}
	}
}
