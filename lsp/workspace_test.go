package lsp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// buggy is a BPF program with one finding (BL201); clean has none.
var buggy, _ = os.ReadFile("testdata/timers.bpf.c")

const clean = "int x;\n"

// workspaceDir writes files (name -> text) into a new directory.
func workspaceDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// waitPublished waits until the last diagnostics published for u satisfy
// ok, and returns them.
func (c *testClient) waitPublished(u uri.URI, what string, ok func(p *protocol.PublishDiagnosticsParams) bool) *protocol.PublishDiagnosticsParams {
	c.t.Helper()
	var last *protocol.PublishDiagnosticsParams
	c.waitFor(what, func() bool {
		ps := c.diags[u]
		if len(ps) == 0 {
			return false
		}
		last = ps[len(ps)-1]
		return ok(last)
	})
	return last
}

func unversioned(n int) func(p *protocol.PublishDiagnosticsParams) bool {
	return func(p *protocol.PublishDiagnosticsParams) bool {
		_, versioned := p.Version.Get()
		return !versioned && len(p.Diagnostics) == n
	}
}

// progressKinds returns the $/progress values seen, as "begin: title",
// "report: message" and "end".
func (c *testClient) progressKinds() []string {
	var out []string
	for _, raw := range c.progress {
		var v struct{ Kind, Title, Message string }
		json.Unmarshal(raw, &v)
		switch v.Kind {
		case "begin":
			out = append(out, "begin: "+v.Title)
		case "report":
			out = append(out, "report: "+v.Message)
		default:
			out = append(out, v.Kind)
		}
	}
	return out
}

var workspaceClient = map[string]any{
	"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}},
	"window":       map[string]any{"workDoneProgress": true},
	"workspace":    map[string]any{"didChangeWatchedFiles": map[string]any{"dynamicRegistration": true}},
}

// The closed BPF files of the workspace are analysed after initialized,
// with progress, and published without a version; a file that is not a
// BPF program is left alone. Opening a file hands it to the document
// pipeline, closing hands it back; a change on disk re-analyses it and a
// deletion clears it.
func TestWorkspaceDiagnosticsPushed(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"a.bpf.c": string(buggy), "b.bpf.c": clean,
		"user.c": "int main(void) { return 0; }\n"})
	c := startServer(t, clientOptions{root: dir, capabilities: workspaceClient})
	if p, _ := c.capabilities["diagnosticProvider"].(map[string]any); p["workspaceDiagnostics"] != true {
		t.Errorf("diagnosticProvider %v: want workspaceDiagnostics", c.capabilities["diagnosticProvider"])
	}
	a, b := uri.File(filepath.Join(dir, "a.bpf.c")), uri.File(filepath.Join(dir, "b.bpf.c"))
	if got := codes(c.waitPublished(a, "a.bpf.c's workspace diagnostics", unversioned(1)).Diagnostics); !slices.Equal(got, []string{"BL201@41"}) {
		t.Errorf("a.bpf.c: %v", got)
	}
	c.waitFor("the end of the workspace pass", func() bool { return slices.Contains(c.progressKinds(), "end") })
	c.mu.Lock()
	want := []string{"begin: Analysing workspace", "report: 1/2 a.bpf.c", "report: 2/2 b.bpf.c", "end"}
	if got := c.progressKinds(); !slices.Equal(got, want) {
		t.Errorf("progress %q, want %q", got, want)
	}
	for u := range c.diags {
		if u != a {
			t.Errorf("published for %s: a clean file has nothing to clear, user space is not analysed", u)
		}
	}
	c.mu.Unlock()
	if !c.saw("client/registerCapability") {
		t.Error("no watched-files registration")
	}

	// Open: the document pipeline publishes (versioned); close: the
	// workspace takes the file back.
	c.open(a.FsPath(), string(buggy))
	c.waitDiags(a, 1)
	c.notifyServer("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": a}})
	c.waitPublished(a, "a.bpf.c back in the workspace", unversioned(1))

	// A change on disk is analysed again; a deletion is cleared.
	os.WriteFile(b.FsPath(), buggy, 0o644)
	c.notifyServer("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": b, "type": 2}}})
	c.waitPublished(b, "b.bpf.c's new finding", unversioned(1))
	os.Remove(a.FsPath())
	c.notifyServer("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": a, "type": 3}}})
	c.waitPublished(a, "a.bpf.c cleared after its deletion", unversioned(0))
}

// An edit never waits for the workspace pass: with one parse slot, held by
// a workspace file whose parse would never end on its own, opening and
// editing a document preempts it, the document's diagnostics come first,
// and the workspace file is analysed again once the server is idle.
func TestWorkspaceYieldsToEdits(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"w.bpf.c": string(buggy)})
	wsPath := filepath.Join(dir, "w.bpf.c")
	var mu sync.Mutex
	var events []string
	record := func(e string) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}
	started, edited := make(chan struct{}), make(chan struct{})
	attempts := 0
	parse := func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error) {
		if path == wsPath {
			mu.Lock()
			attempts++
			first := attempts == 1
			mu.Unlock()
			if first {
				close(started)
				<-ctx.Done() // only preemption (or the parse timeout) ends this parse
				record("workspace parse ended: " + context.Cause(ctx).Error())
			} else {
				// Later attempts wait for the edits (or are preempted by
				// them), so the order below does not depend on timing.
				select {
				case <-edited:
				case <-ctx.Done():
				}
			}
		}
		return p.Parse(ctx, path, overlay)
	}
	c := startServer(t, clientOptions{root: dir, slots: 1, parse: parse, capabilities: workspaceClient})
	<-started
	doc := filepath.Join(t.TempDir(), "doc.bpf.c")
	u := c.open(doc, string(buggy))
	c.waitDiags(u, 1)
	record("document version 1 published")
	c.change(u, 2, string(buggy)+"\nint y;\n")
	c.waitDiags(u, 2)
	record("document version 2 published")
	close(edited)
	c.waitPublished(uri.File(wsPath), "the workspace file's diagnostics", unversioned(1))
	record("workspace file published")
	mu.Lock()
	defer mu.Unlock()
	want := []string{"workspace parse ended: context canceled", "document version 1 published", "document version 2 published", "workspace file published"}
	if !slices.Equal(events, want) || attempts < 2 {
		t.Errorf("events %q (%d workspace parses), want %q (2 or more)", events, attempts, want)
	}
}

// Shutdown cancels the workspace pass.
func TestWorkspaceStopsOnShutdown(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"w.bpf.c": string(buggy)})
	started, cancelled := make(chan struct{}), make(chan struct{})
	parse := func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return p.Parse(ctx, path, overlay)
	}
	c := startServer(t, clientOptions{root: dir, parse: parse})
	<-started
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	<-cancelled // a test timeout otherwise
}

type workspaceReport struct {
	Items []struct {
		URI      uri.URI
		Kind     string
		ResultID string
		Items    []struct {
			Code  string
			Range protocol.Range
		}
	}
}

func (r workspaceReport) byFile() map[string]string {
	m := map[string]string{}
	for _, it := range r.Items {
		var codes []string
		for _, d := range it.Items {
			codes = append(codes, d.Code+"@"+strconv.Itoa(int(d.Range.Start.Line)+1))
		}
		m[filepath.Base(it.URI.FsPath())] = it.Kind + ":" + strings.Join(codes, ",")
	}
	return m
}

// A client that pulls gets full reports with result ids, then unchanged
// ones; a pull with nothing new waits for a change. The first pull clears
// what was pushed, and nothing is pushed afterwards.
func TestWorkspaceDiagnosticsPulled(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"a.bpf.c": string(buggy), "b.bpf.c": clean})
	caps := map[string]any{
		"textDocument": map[string]any{"publishDiagnostics": map[string]any{"relatedInformation": true}, "diagnostic": map[string]any{}},
		"window":       map[string]any{"workDoneProgress": true},
	}
	c := startServer(t, clientOptions{root: dir, capabilities: caps})
	a, b := uri.File(filepath.Join(dir, "a.bpf.c")), uri.File(filepath.Join(dir, "b.bpf.c"))
	c.waitFor("the end of the workspace pass", func() bool { return slices.Contains(c.progressKinds(), "end") })
	// Before the client pulls the workspace, results are pushed; opening a
	// file clears them (the client pulls open documents), closing it
	// brings them back.
	c.waitPublished(a, "a.bpf.c pushed", unversioned(1))
	c.open(a.FsPath(), string(buggy))
	c.waitPublished(a, "a.bpf.c cleared on open", unversioned(0))
	c.notifyServer("textDocument/didClose", map[string]any{"textDocument": map[string]any{"uri": a}})
	c.waitPublished(a, "a.bpf.c pushed again after close", unversioned(1))
	var first workspaceReport
	if err := c.callJSON("workspace/diagnostic", map[string]any{"previousResultIds": []any{}}, &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a.bpf.c": "full:BL201@41", "b.bpf.c": "full:"}
	if got := first.byFile(); !equalMaps(got, want) {
		t.Fatalf("first pull %v, want %v", got, want)
	}
	c.waitPublished(a, "the pushed diagnostics cleared", unversioned(0))

	var prev []map[string]any
	for _, it := range first.Items {
		prev = append(prev, map[string]any{"uri": it.URI, "value": it.ResultID})
	}
	second := make(chan workspaceReport, 1)
	go func() {
		var r workspaceReport
		if err := c.callJSON("workspace/diagnostic", map[string]any{"previousResultIds": prev}, &r); err != nil {
			t.Error(err)
		}
		second <- r
	}()
	os.WriteFile(b.FsPath(), buggy, 0o644)
	c.notifyServer("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": b, "type": 2}}})
	want = map[string]string{"a.bpf.c": "unchanged:", "b.bpf.c": "full:BL201@41"}
	if got := (<-second).byFile(); !equalMaps(got, want) {
		t.Errorf("pull after b.bpf.c changed %v, want %v", got, want)
	}

	// textDocument/diagnostic on a closed file answers from the workspace.
	var doc struct{ Kind, ResultID string }
	if err := c.callJSON("textDocument/diagnostic", map[string]any{"textDocument": map[string]any{"uri": a}}, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "full" || doc.ResultID != first.Items[0].ResultID {
		t.Errorf("textDocument/diagnostic of closed a.bpf.c: %+v, want full with result id %s", doc, first.Items[0].ResultID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.diags[b]); n != 0 {
		t.Errorf("%d publishes for b.bpf.c: a pulling client must not be pushed to", n)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// workspaceDiagnostics: false keeps the pass off and out of the
// capabilities; turning it on later starts it, off again clears.
func TestWorkspaceDiagnosticsSetting(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"a.bpf.c": string(buggy)})
	c := startServer(t, clientOptions{root: dir, initOptions: map[string]any{"workspaceDiagnostics": false}})
	if p, _ := c.capabilities["diagnosticProvider"].(map[string]any); p["workspaceDiagnostics"] != false {
		t.Errorf("diagnosticProvider %v: want no workspaceDiagnostics", c.capabilities["diagnosticProvider"])
	}
	// A request after initialized: the worker would have started by now.
	if err := c.call("workspace/executeCommand", map[string]any{"command": "none"}, nil); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	c.server.ws.mu.Lock()
	running := c.server.ws.cancel != nil
	c.server.ws.mu.Unlock()
	if running {
		t.Fatal("the workspace pass runs with workspaceDiagnostics: false")
	}
	a := uri.File(filepath.Join(dir, "a.bpf.c"))
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{"workspaceDiagnostics": true}}})
	c.waitPublished(a, "a.bpf.c's workspace diagnostics", unversioned(1))
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{"workspaceDiagnostics": false}}})
	c.waitPublished(a, "a.bpf.c cleared", unversioned(0))
}

// The workspace's classifier resolves headers with the editor's flags: a
// file that is a BPF program only through a header that the settings'
// include flags reach joins the workspace when a settings change adds
// them.
func TestWorkspaceClassifiesWithSettings(t *testing.T) {
	var prog strings.Builder // buggy without its own BPF marks: those are in common.h
	prog.WriteString("#include \"common.h\"\n")
	for _, line := range strings.SplitAfter(string(buggy), "\n") {
		if !strings.Contains(line, "SEC(") {
			prog.WriteString(line)
		}
	}
	dir := workspaceDir(t, map[string]string{"a.bpf.c": clean, "src/prog.c": prog.String(),
		"inc/common.h": "#include \"bpf_lsp.h\"\nchar _license[] SEC(\"license\") = \"GPL\";\n"})
	c := startServer(t, clientOptions{root: dir, capabilities: workspaceClient})
	c.waitFor("the end of the workspace pass", func() bool { return slices.Contains(c.progressKinds(), "end") })
	p := uri.File(filepath.Join(dir, "src", "prog.c"))
	c.mu.Lock()
	published := len(c.diags[p])
	c.mu.Unlock()
	if published > 0 {
		t.Fatal("prog.c analysed before its header could be found")
	}
	c.notifyServer("workspace/didChangeConfiguration", map[string]any{"settings": map[string]any{"bpfLsp": map[string]any{"compileFlags": []string{"-Iinc"}}}})
	if got := codes(c.waitPublished(p, "prog.c's workspace diagnostics", unversioned(1)).Diagnostics); len(got) != 1 || !strings.HasPrefix(got[0], "BL201@") {
		t.Errorf("prog.c: %v, want its BL201", got)
	}
}

// A workspace pull with nothing to report (here: the analysis is off)
// waits rather than answering at once, which a client would re-send in a
// loop, and ends when the client cancels it.
func TestWorkspacePullWaitsUntilCancelled(t *testing.T) {
	dir := workspaceDir(t, map[string]string{"a.bpf.c": string(buggy)})
	c := startServer(t, clientOptions{root: dir, initOptions: map[string]any{"workspaceDiagnostics": false}})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- protocol.Call(ctx, c.conn, "workspace/diagnostic", map[string]any{"previousResultIds": []any{}}, nil)
	}()
	c.waitFor("the server to hold the pull", func() bool {
		c.server.calls.mu.Lock()
		defer c.server.calls.mu.Unlock()
		return len(c.server.calls.cancel) == 1
	})
	select {
	case err := <-errc:
		t.Fatalf("the pull was answered with nothing to report: %v", err)
	default:
	}
	cancel() // sends $/cancelRequest
	if err := <-errc; err == nil {
		t.Fatal("a cancelled pull succeeded")
	}
	c.waitFor("the server to drop the cancelled pull", func() bool {
		c.server.calls.mu.Lock()
		defer c.server.calls.mu.Unlock()
		return len(c.server.calls.cancel) == 0
	})
}
