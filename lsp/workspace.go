package lsp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// workspace is the background analysis of the workspace's BPF files that
// are not open in the editor: the files `bpf-lsp check ROOT` checks with
// the editor's include flags and compile database, as config.Classifier
// selects them (*.bpf.c, compile database entries built for BPF, config
// globs, files including bpf_helpers.h). One worker analyses them one at a
// time at the lowest priority: it starts a file only when no document
// analysis is pending and gives its parse slot up to any that arrives
// (rankWorkspace), so an edit's diagnostics never wait for it.
// Of each file it keeps only the diagnostics and their result id, never the
// parse: memory grows with the findings, not with the workspace.
//
// Results are pushed with publishDiagnostics (as gopls reports the files of
// workspace packages) until the client pulls them with
// workspace/diagnostic; from then on they are only pulled, or the client
// would show each twice. An open file belongs to the document pipeline.
type workspace struct {
	mu         sync.Mutex         // taken before Server.mu when both are held, never under it
	cancel     context.CancelFunc // stops the worker; nil when it is not running
	root       string
	files      map[string]*wsFile // the workspace's BPF files, by path
	rescan     bool               // list the files again (start, settings, a header or database changed)
	candidates map[string]bool    // .c files created, changed, deleted or closed: classify again
	wake       chan struct{}      // 1-buffered: there is work
	changed    chan struct{}      // closed and replaced when a result changes (pulls wait on it)
	pulled     bool               // the client pulls workspace/diagnostic: push nothing
	passes     int                // numbers the progress tokens

	// classifier caches the compile databases until the next rescan; only
	// the worker uses it.
	classifier *config.Classifier
}

// wsFile is what the workspace keeps of one file.
type wsFile struct {
	uri      uri.URI
	gen      int // bumped when the file must be analysed again
	done     int // the gen diags are for; done != gen: pending
	diags    []protocol.Diagnostic
	resultID string
	pushed   bool // non-empty diagnostics were published: clear them on delete
}

// startWorkspace starts the worker when the setting and a workspace root
// allow it and it is not running.
func (s *Server) startWorkspace() {
	s.mu.Lock()
	on, root := s.settings.workspaceDiagnostics() && s.root != "" && !s.shutdown, s.root
	s.mu.Unlock()
	w := &s.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	if !on || w.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	w.cancel, w.root, w.rescan = cancel, root, true
	w.files, w.candidates = map[string]*wsFile{}, map[string]bool{}
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
	w.changedLocked()
	go s.workspaceLoop(ctx)
}

// stopWorkspace stops the worker and, unless the session is ending,
// clears what it published.
func (s *Server) stopWorkspace(clear bool) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	w := &s.ws
	w.mu.Lock()
	if w.cancel == nil {
		w.mu.Unlock()
		return
	}
	w.cancel()
	w.cancel = nil
	var pushed []uri.URI
	for _, f := range w.files {
		if f.pushed {
			pushed = append(pushed, f.uri)
		}
	}
	w.files = nil
	w.changedLocked()
	w.mu.Unlock()
	if clear {
		for _, u := range pushed {
			s.publishClosed(u, []protocol.Diagnostic{})
		}
	}
}

// workspaceSettingsChanged starts or stops the worker as the setting says
// and, when it runs, lists and analyses every file again (the flags and
// compile database may have changed, and with them which files are BPF
// programs).
func (s *Server) workspaceSettingsChanged() {
	s.mu.Lock()
	on := s.settings.workspaceDiagnostics()
	s.mu.Unlock()
	if !on {
		s.stopWorkspace(true)
		return
	}
	s.startWorkspace()
	s.ws.poke(func(w *workspace) { w.rescan = true })
}

// workspaceFileChanged takes a file change on disk: a .c file is
// classified again (it may have become, or stopped being, a BPF program,
// or be gone); anything else (a header, a compile database, a project
// config) may change every file's result, which are all analysed again.
func (s *Server) workspaceFileChanged(path string) {
	s.ws.poke(func(w *workspace) {
		if w.root == "" || !underDir(w.root, path) {
			return
		}
		if strings.HasSuffix(path, ".c") {
			w.candidates[path] = true
		} else {
			w.rescan = true
		}
	})
}

// poke changes the worker's pending work, if it runs, and wakes it.
func (w *workspace) poke(change func(w *workspace)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		return
	}
	change(w)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// workspaceOpened hands a file over to the document pipeline: its
// workspace result is dropped. A client that pulls open documents gets
// what was pushed cleared (it would show it beside the pulled result);
// one that does not is pushed the document's own result over it.
func (s *Server) workspaceOpened(path string) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	pull := s.caps.pull
	s.mu.Unlock()
	w := &s.ws
	w.mu.Lock()
	f := w.files[path]
	if f == nil {
		w.mu.Unlock()
		return
	}
	pushed := f.pushed
	f.gen++
	f.done, f.diags, f.resultID, f.pushed = f.gen, nil, "", false
	w.mu.Unlock()
	if pushed && pull {
		s.publishClosed(f.uri, []protocol.Diagnostic{})
	}
}

// workspaceClosed takes a file back from the document pipeline: it is
// analysed from disk again if it is one of the workspace's BPF files.
func (s *Server) workspaceClosed(path string) { s.workspaceFileChanged(path) }

func underDir(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// changedLocked wakes the pulls waiting for a change.
func (w *workspace) changedLocked() {
	if w.changed != nil {
		close(w.changed)
	}
	w.changed = make(chan struct{})
}

// workspaceLoop is the worker: it brings the file list up to date, then
// analyses the files whose result is pending, and waits for more work.
func (s *Server) workspaceLoop(ctx context.Context) {
	defer func() {
		// A bug here must not take the editor's session down with it.
		if r := recover(); r != nil {
			s.log.Error("workspace analysis panicked; it stops", "panic", r, "stack", string(debug.Stack()))
			s.stopWorkspace(false)
		}
	}()
	for ctx.Err() == nil {
		s.refreshWorkspace(ctx)
		todo := s.pendingWorkspaceFiles()
		if len(todo) == 0 {
			select {
			case <-s.ws.wake:
			case <-ctx.Done():
			}
			continue
		}
		s.workspacePass(ctx, todo)
	}
}

// refreshWorkspace lists the files again if asked to (with a new
// classifier: the settings or compile databases may have changed),
// classifies the candidates, and clears the results of files that are no
// longer BPF programs of the workspace. Only the worker calls it.
func (s *Server) refreshWorkspace(ctx context.Context) {
	w := &s.ws
	w.mu.Lock()
	if ctx.Err() != nil { // stopped: the flags are the next worker's
		w.mu.Unlock()
		return
	}
	rescan, root, candidates := w.rescan, w.root, w.candidates
	w.rescan, w.candidates = false, map[string]bool{}
	if rescan || w.classifier == nil {
		// With the include flags and compile database the server parses
		// with. Read after the rescan was taken: a settings change applies
		// the settings before it asks for one.
		s.mu.Lock()
		base := parserOptions(s.settings)
		s.mu.Unlock()
		w.classifier = &config.Classifier{Configs: &s.project.cache, Base: base}
	}
	cl := w.classifier // a new worker starts with a rescan: never shared
	w.mu.Unlock()
	if !rescan && len(candidates) == 0 {
		return
	}
	var listed []string
	if rescan {
		var err error
		listed, err = cl.Expand([]string{root})
		var none *config.NoProgramsError
		if err != nil && !errors.As(err, &none) {
			s.log.Warn("workspace: listing BPF files", "root", root, "err", err)
		}
	}
	bpf := map[string]bool{}
	for _, p := range listed {
		bpf[p] = true
	}
	for p := range candidates {
		st, err := os.Stat(p)
		bpf[p] = err == nil && st.Mode().IsRegular() && cl.IsBPF(p, nil)
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	w.mu.Lock()
	if ctx.Err() != nil {
		w.mu.Unlock()
		return
	}
	var cleared []uri.URI
	drop := func(p string) {
		if f := w.files[p]; f != nil {
			if f.pushed && !w.pulled {
				cleared = append(cleared, f.uri)
			}
			delete(w.files, p)
			w.changedLocked()
		}
	}
	if rescan {
		for p := range w.files {
			if !bpf[p] {
				drop(p)
			}
		}
	}
	for p, isBPF := range bpf {
		f := w.files[p]
		switch {
		case !isBPF:
			drop(p)
		case f == nil:
			w.files[p] = &wsFile{uri: uri.File(p), gen: 1}
		default:
			f.gen++
		}
	}
	w.mu.Unlock()
	for _, u := range cleared {
		s.publishClosed(u, []protocol.Diagnostic{})
	}
}

// pendingWorkspaceFiles returns the files to analyse, in path order:
// those whose result is pending and that are not open.
func (s *Server) pendingWorkspaceFiles() []string {
	s.mu.Lock()
	open := map[string]bool{}
	for _, d := range s.docs {
		open[d.path] = true
	}
	s.mu.Unlock()
	w := &s.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	var todo []string
	for p, f := range w.files {
		if f.done != f.gen && !open[p] {
			todo = append(todo, p)
		}
	}
	slices.Sort(todo)
	return todo
}

// workspacePass analyses files one at a time, each once the server is
// idle, reporting progress ("Analysing workspace", i/N and the file).
func (s *Server) workspacePass(ctx context.Context, todo []string) {
	report := s.beginWorkspaceProgress(ctx, len(todo))
	for i, path := range todo {
		if !s.waitIdle(ctx) {
			break
		}
		s.refreshWorkspace(ctx) // a deletion during a long pass clears at once
		report(i, path)
		s.analyseClosed(ctx, path)
	}
	report(len(todo), "")
	s.releaseMemory() // the pass's parses are garbage: give their pages back
}

// beginWorkspaceProgress starts a $/progress report when the client
// supports it; the returned function reports file i of n, and the end
// when i == n.
func (s *Server) beginWorkspaceProgress(ctx context.Context, n int) func(i int, path string) {
	s.mu.Lock()
	progress := s.caps.progress
	s.mu.Unlock()
	nop := func(int, string) {}
	if !progress {
		return nop
	}
	w := &s.ws
	w.mu.Lock()
	w.passes++
	token := protocol.String("bpf-lsp/workspace/" + strconv.Itoa(w.passes))
	w.mu.Unlock()
	if err := s.client.WorkDoneProgressCreate(ctx, &protocol.WorkDoneProgressCreateParams{Token: token}); err != nil {
		s.log.Debug("workDoneProgress/create", "err", err)
		return nop
	}
	s.progress(ctx, token, &protocol.WorkDoneProgressBegin{Kind: "begin", Title: "Analysing workspace",
		Cancellable: ptr(false), Percentage: ptr(uint32(0))})
	return func(i int, path string) {
		if i == n {
			s.progress(context.WithoutCancel(ctx), token, &protocol.WorkDoneProgressEnd{Kind: "end"})
			return
		}
		msg := strconv.Itoa(i+1) + "/" + strconv.Itoa(n) + " " + filepath.Base(path)
		s.progress(ctx, token, &protocol.WorkDoneProgressReport{Kind: "report", Message: ptr(msg), Percentage: ptr(uint32(i * 100 / n))})
	}
}

// analyseClosed analyses one closed file from disk (with the open
// documents' unsaved text for its headers) in a yielding slot, and stores
// and publishes its diagnostics. A preempted analysis stores nothing: the
// file stays pending for the next pass.
func (s *Server) analyseClosed(ctx context.Context, path string) {
	w := &s.ws
	w.mu.Lock()
	f := w.files[path]
	if f == nil || f.done == f.gen {
		w.mu.Unlock()
		return
	}
	gen, u := f.gen, f.uri
	w.mu.Unlock()
	s.mu.Lock()
	overlay := s.overlayLocked()
	_, open := overlay[path]
	parser, st, utf8, timeout := s.parser, s.settings, s.caps.utf8, s.opts.ParseTimeout
	s.mu.Unlock()
	if open {
		return
	}
	text, err := cparse.ReadRegular(path, cparse.DefaultMaxFileSize)
	if err != nil {
		s.workspaceFileChanged(path) // gone or unreadable: classify again
		return
	}
	// Closed files are parsed one at a time and an edit preempts them:
	// collecting harder over one such parse caps the pass's resident set.
	defer s.memory.enter(loadClosed)()
	fctx, preempt := context.WithCancel(ctx)
	defer preempt()
	parser, cfg := s.projectFor(st, parser, path)
	acquire := func() (*parseSlot, error) { return s.slots.acquireYielding(fctx, preempt) }
	// No analysis cache: a closed file keeps nothing but its diagnostics.
	snap := s.analyze(fctx, acquire, parser, nil, path, 0, text, overlay, utf8, timeout)
	if fctx.Err() != nil {
		return // preempted by a document's analysis, or stopping
	}
	snap.uri, snap.path = u, path
	snap.findings = cfg.Apply(nil, snap.findings)
	s.storeClosed(ctx, path, gen, s.toDiagnostics(snap))
}

// storeClosed keeps a file's diagnostics, if still wanted (the worker was
// not stopped, the file did not change or open meanwhile), and pushes
// them when they changed and the client does not pull.
func (s *Server) storeClosed(ctx context.Context, path string, gen int, diags []protocol.Diagnostic) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	s.mu.Lock()
	_, open := s.openPathsLocked()[path]
	s.mu.Unlock()
	w := &s.ws
	w.mu.Lock()
	f := w.files[path]
	if f == nil || f.gen != gen || open || ctx.Err() != nil {
		w.mu.Unlock()
		return
	}
	id := resultID(diags)
	changed := id != f.resultID
	f.done, f.diags, f.resultID = gen, diags, id
	push := changed && !w.pulled && (len(diags) > 0 || f.pushed)
	if push {
		f.pushed = len(diags) > 0
	}
	if changed {
		w.changedLocked()
	}
	u := f.uri
	w.mu.Unlock()
	if push {
		s.publishClosed(u, diags)
	}
}

func (s *Server) openPathsLocked() map[string]struct{} {
	m := make(map[string]struct{}, len(s.docs))
	for _, d := range s.docs {
		m[d.path] = struct{}{}
	}
	return m
}

// publishClosed publishes a closed file's diagnostics (no version: there
// is no document). The caller holds pubMu.
func (s *Server) publishClosed(u uri.URI, diags []protocol.Diagnostic) {
	if err := s.client.PublishDiagnostics(s.ctx, &protocol.PublishDiagnosticsParams{URI: u, Diagnostics: diags}); err != nil {
		s.log.Debug("publishDiagnostics", "err", err)
	}
}

// resultID names a set of diagnostics by a hash of their encoding: a pull
// whose previous id matches gets "unchanged".
func resultID(diags []protocol.Diagnostic) string {
	data, _ := protocol.Marshal(diags)
	sum := sha256.Sum256(data)
	return "ws." + hex.EncodeToString(sum[:12])
}

// waitIdle waits until no document analysis is scheduled; false if ctx
// ended first.
func (s *Server) waitIdle(ctx context.Context) bool {
	if s.busy.Load() == 0 {
		return ctx.Err() == nil
	}
	tick := time.NewTicker(idlePoll)
	defer tick.Stop()
	for s.busy.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
	return ctx.Err() == nil
}

// DiagnosticWorkspace answers workspace/diagnostic with a report per
// closed workspace file: full when its result id differs from the
// client's, unchanged otherwise; a file the client knows that is gone
// gets an empty full report. When nothing changed it waits for a change
// (the client keeps one such request open, and asks again at once when
// answered) or for cancellation; so does a pull while the workspace
// analysis is off, until it is turned on. The first
// pull switches the session to pulling: what was pushed is cleared.
func (s *Server) DiagnosticWorkspace(ctx context.Context, params *protocol.WorkspaceDiagnosticParams) (*protocol.WorkspaceDiagnosticReport, error) {
	jsonrpc2.Async(ctx)
	prev := map[uri.URI]string{}
	for _, p := range params.PreviousResultIds {
		prev[p.URI] = p.Value
	}
	s.switchToPull()
	for {
		items, full, changed := s.workspaceReport(prev)
		if full {
			return &protocol.WorkspaceDiagnosticReport{Items: items}, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, protocol.ErrRequestCancelled
		}
	}
}

// switchToPull stops pushing workspace results and clears those pushed.
func (s *Server) switchToPull() {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	w := &s.ws
	w.mu.Lock()
	if w.pulled {
		w.mu.Unlock()
		return
	}
	w.pulled = true
	var pushed []uri.URI
	for _, f := range w.files {
		if f.pushed {
			pushed = append(pushed, f.uri)
			f.pushed = false
		}
	}
	w.mu.Unlock()
	for _, u := range pushed {
		s.publishClosed(u, []protocol.Diagnostic{})
	}
}

// workspaceReport builds a workspace/diagnostic report against the
// client's previous result ids; full says whether any item is a full
// report, changed is closed at the next change of a result.
func (s *Server) workspaceReport(prev map[uri.URI]string) (items []protocol.WorkspaceDocumentDiagnosticReport, full bool, changed <-chan struct{}) {
	s.mu.Lock()
	open := s.openPathsLocked()
	s.mu.Unlock()
	w := &s.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	known := map[uri.URI]bool{}
	paths := make([]string, 0, len(w.files))
	for p := range w.files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		f := w.files[p]
		if _, isOpen := open[p]; isOpen || f.resultID == "" {
			continue
		}
		known[f.uri] = true
		if prev[f.uri] == f.resultID {
			items = append(items, &protocol.WorkspaceUnchangedDocumentDiagnosticReport{URI: f.uri,
				UnchangedDocumentDiagnosticReport: protocol.UnchangedDocumentDiagnosticReport{Kind: "unchanged", ResultID: f.resultID}})
			continue
		}
		full = true
		items = append(items, &protocol.WorkspaceFullDocumentDiagnosticReport{URI: f.uri,
			FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{Kind: "full", ResultID: ptr(f.resultID), Items: f.diags}})
	}
	for u := range prev {
		if _, isOpen := open[docPath(u)]; !known[u] && !isOpen {
			// Gone from the workspace (deleted, no longer a BPF program):
			// an empty report clears what the client shows.
			full = true
			items = append(items, &protocol.WorkspaceFullDocumentDiagnosticReport{URI: u,
				FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{Kind: "full", Items: []protocol.Diagnostic{}}})
		}
	}
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	return items, full, w.changed
}

// closedFileReport answers textDocument/diagnostic for a closed workspace
// file from the workspace's result; ok is false when there is none.
func (s *Server) closedFileReport(u uri.URI, previous *string) (protocol.DocumentDiagnosticReport, bool) {
	w := &s.ws
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.files[docPath(u)]
	if f == nil || f.resultID == "" {
		return nil, false
	}
	if previous != nil && *previous == f.resultID {
		return &protocol.RelatedUnchangedDocumentDiagnosticReport{UnchangedDocumentDiagnosticReport: protocol.UnchangedDocumentDiagnosticReport{
			Kind: "unchanged", ResultID: f.resultID}}, true
	}
	return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
		Kind: "full", ResultID: ptr(f.resultID), Items: f.diags}}, true
}
