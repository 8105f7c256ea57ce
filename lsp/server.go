// Package lsp is bpf-lsp's language server: it keeps the editor's
// documents, runs the parser and lock analysis off the request queue, and
// maps findings, hovers, fixes and lock locations to LSP. Handlers are thin;
// the work is in cparse, analysis and verifier.
package lsp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Server is one language-server session. Its mutex guards the session
// state below; it is never held across a call to the client.
type Server struct {
	protocol.UnimplementedServer

	conn   jsonrpc2.Conn
	client protocol.Client
	log    *slog.Logger
	opts   Options
	memory *memoryLimits   // the runtime's soft limit for what is being analysed
	ctx    context.Context // the session's lifetime; background work derives from it

	calls *inFlight // requests being handled, by id, for $/cancelRequest
	// parse is cparse.Parser.Parse; tests put a parse that blocks here.
	parse func(p *cparse.Parser, ctx context.Context, path string, overlay map[string][]byte) (*cparse.File, error)

	slots *parseSlots // who may parse now
	// busy counts scheduled analyses not yet finished (debounce included):
	// zero means idle, when timed-out documents are retried.
	busy atomic.Int64
	// pubMu orders publishDiagnostics: a document's versions are published
	// in increasing order even when two analyses finish together.
	pubMu sync.Mutex

	mu          sync.Mutex
	settings    Settings
	parser      *cparse.Parser
	project     projectConfigs // .bpf-lsp.yaml files, read again when changed
	ws          workspace      // closed workspace files analysed in the background (its own lock)
	docs        map[uri.URI]*document
	verifyRuns  map[uri.URI]*verifyRun    // kernel cross-checks in progress
	matrices    map[uri.URI]*kernelMatrix // last kernel matrix per document (code_lens.go)
	caps        clientCaps
	root        string // workspace root: relative settings paths resolve against it
	initialized bool
	freeMemory  *time.Timer // pending debug.FreeOSMemory after documents closed
	shutdown    bool
	exitCode    chan int
}

// clientCaps are the client capabilities the server adapts to.
type clientCaps struct {
	utf8          bool // positions in UTF-8 bytes (else UTF-16 code units)
	related       bool // publishDiagnostics.relatedInformation
	pull          bool // the client pulls diagnostics: do not also push them (it would show each twice)
	refresh       bool // workspace/diagnostic/refresh
	versioned     bool // versioned documentChanges in workspace edits
	progress      bool // window/workDoneProgress
	watch         bool // workspace/didChangeWatchedFiles can be registered
	configuration bool // workspace/configuration
}

// codec marshals LSP payloads with go.lsp.dev/protocol's union-aware
// encoder (what protocol.NewServer installs; we build our own chain).
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	if m, ok := v.(jsonrpc2.RawMessage); ok {
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	}
	return protocol.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if p, ok := v.(*jsonrpc2.RawMessage); ok {
		*p = append(jsonrpc2.RawMessage(nil), data...)
		return nil
	}
	return protocol.Unmarshal(data, v)
}

// Serve runs a session over rw (stdio for editors) until the client exits
// or the stream closes, and returns the process exit code the LSP spec asks
// for: 0 after shutdown+exit, 1 otherwise.
func Serve(ctx context.Context, rw io.ReadWriteCloser, opts Options) int {
	return newServer(opts).serve(ctx, rw)
}

func newServer(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Debounce == 0 {
		opts.Debounce = defaultDebounce
	}
	if opts.ParseTimeout == 0 {
		opts.ParseTimeout = defaultParseTimeout
	}
	s := &Server{log: opts.Logger, opts: opts, settings: opts.Settings, docs: map[uri.URI]*document{},
		verifyRuns: map[uri.URI]*verifyRun{}, parse: (*cparse.Parser).Parse,
		calls:    &inFlight{cancel: map[jsonrpc2.ID]context.CancelFunc{}},
		exitCode: make(chan int, 1), slots: newParseSlots(max(1, runtime.GOMAXPROCS(0)))}
	s.parser = newParser(opts.Settings)
	s.memory = newMemoryLimits(opts.ClosedMemoryLimit, opts.OpeningGCPercent)
	return s
}

func (s *Server) serve(ctx context.Context, rw io.ReadWriteCloser) int {
	return s.serveWith(ctx, rw, protocol.ServerHandler(s, nil))
}

// serveWith runs the session with methods dispatched by h inside the
// server's middleware (tests wrap the protocol dispatcher).
func (s *Server) serveWith(ctx context.Context, rw io.ReadWriteCloser, h jsonrpc2.Handler) int {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	s.ctx = ctx
	handler := s.calls.wrap(s.safe(h))
	stream := newResyncStream(rw, s.log)
	s.conn = jsonrpc2.NewConn(stream, jsonrpc2.WithCodec(codec{}), jsonrpc2.WithPreempter(cancelPreempter{cancel: s.calls.cancelID, log: s.log}))
	s.client = protocol.ClientDispatcher(s.conn)
	s.conn.Go(ctx, handler)
	select {
	case <-s.conn.Done():
		s.mu.Lock()
		clean := s.shutdown
		s.mu.Unlock()
		if err := s.conn.Err(); err != nil && !errors.Is(err, io.EOF) {
			s.log.Info("connection closed", "err", err)
		}
		if clean {
			return 0
		}
		return 1
	case code := <-s.exitCode:
		// Closing the connection waits for its reader, which may sit in a
		// read of stdin forever (an editor need not close it after exit):
		// give it a moment, then end the session regardless.
		closed := make(chan struct{})
		go func() {
			s.conn.Close()
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(200 * time.Millisecond):
			s.log.Debug("exit: the stream is still open; leaving it")
		}
		return code
	}
}

// safe wraps the protocol handler so that nothing a client sends can take
// the session down: a panic becomes an InternalError reply, a notification
// never gets a reply or an error (jsonrpc2 would close the connection on
// one; it is logged instead), an unknown request gets MethodNotFound, an
// unknown notification is ignored, and a request's error always carries an
// LSP code (an error without one would go out as code 0).
func (s *Server) safe(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		// Request strings may borrow the read buffer, which jsonrpc2.Async
		// hands back to the reader: keep a copy for the logs below.
		method := strings.Clone(req.Method())
		isCall := req.IsCall()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("handler panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
				result = nil
				err = jsonrpc2.NewError(jsonrpc2.InternalError, fmt.Sprintf("bpf-lsp: internal error in %s: %v", method, r))
			}
			if err == nil {
				return
			}
			if !isCall {
				level := slog.LevelWarn
				if _, known := clientMethods[method]; !known {
					level = slog.LevelDebug // an extension we do not implement
				}
				s.log.Log(ctx, level, "notification failed", "method", method, "err", err)
				result, err = nil, nil
				return
			}
			err = withCode(ctx, err)
		}()
		return s.dispatch(ctx, req, method, isCall, next)
	}
}

// dispatch refuses what the session's state does not allow, and passes
// the rest to next.
func (s *Server) dispatch(ctx context.Context, req *jsonrpc2.Request, method string, isCall bool, next jsonrpc2.Handler) (any, error) {
	s.mu.Lock()
	down, ready := s.shutdown, s.initialized
	s.mu.Unlock()
	kind, known := clientMethods[method]
	switch {
	case !known:
		// Not an LSP method: refuse a request before decoding params,
		// which may not even be present.
		return nil, jsonrpc2.NewError(jsonrpc2.MethodNotFound, "bpf-lsp does not implement "+strconv.Quote(method))
	case !ready && method != protocol.MethodInitialize && method != protocol.MethodExit:
		// The spec: requests before initialize fail with
		// ServerNotInitialized, notifications are dropped.
		return nil, jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "bpf-lsp: "+method+" before initialize")
	case ready && method == protocol.MethodInitialize:
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "bpf-lsp: initialize sent twice")
	case isCall != (kind == "request"):
		// A request sent as a notification (an initialize or shutdown
		// without an id) or the reverse: not what the method means.
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "bpf-lsp: "+method+" is a "+kind)
	case down && isCall && method != protocol.MethodShutdown:
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "server is shutting down")
	}
	return next(ctx, req)
}

// withCode gives a request's error an LSP error code: a cancelled request
// RequestCancelled, anything else without a code RequestFailed.
func withCode(ctx context.Context, err error) error {
	var rpcErr *jsonrpc2.Error
	switch {
	case errors.As(err, &rpcErr):
		return err
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return protocol.ErrRequestCancelled
	default:
		return jsonrpc2.NewError(codeRequestFailed, err.Error())
	}
}

// clientMethods are the methods a client may send (from the LSP model),
// with their kind: "request" or "notification".
var clientMethods = func() map[string]string {
	m := map[string]string{}
	for _, info := range protocol.Methods {
		if info.Direction != "serverToClient" {
			m[info.Method] = info.Kind
		}
	}
	return m
}()

// inFlight makes calls cancellable by id. (jsonrpc2.CancelHandler derives
// the cancellable context from the pooled request context; the goroutine
// that context.WithCancel starts for it can outlive the request and panic
// on the recycled value. Here the cancellable part derives from the
// connection's detached context, and only values come from the request.)
type inFlight struct {
	mu     sync.Mutex
	cancel map[jsonrpc2.ID]context.CancelFunc
}

func (f *inFlight) wrap(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if !req.IsCall() {
			return next(ctx, req)
		}
		id := ownedID(req.ID())
		cctx, cancel := context.WithCancel(jsonrpc2.DetachContext(ctx))
		f.mu.Lock()
		f.cancel[id] = cancel
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.cancel, id)
			f.mu.Unlock()
			cancel()
		}()
		return next(requestContext{Context: cctx, req: ctx}, req)
	}
}

// ownedID copies a string id out of the read buffer: it outlives the
// handler's synchronous part as a map key.
func ownedID(id jsonrpc2.ID) jsonrpc2.ID {
	if str, ok := id.StringValue(); ok {
		return jsonrpc2.NewStringID(strings.Clone(str))
	}
	return id
}

func (f *inFlight) cancelID(id jsonrpc2.ID) {
	f.mu.Lock()
	cancel := f.cancel[id]
	f.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// requestContext is cancellable like its embedded context and carries the
// request context's values (jsonrpc2.Async finds its release token there).
type requestContext struct {
	context.Context
	req context.Context
}

func (c requestContext) Value(key any) any {
	if v := c.Context.Value(key); v != nil {
		return v
	}
	return c.req.Value(key)
}

// cancelPreempter handles $/cancelRequest ahead of the queue, accepting a
// numeric or string id and ignoring anything malformed (the stock handler
// fails the connection on a bad id).
type cancelPreempter struct {
	cancel func(jsonrpc2.ID)
	log    *slog.Logger
}

func (p cancelPreempter) Preempt(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	if req.Method() != "$/cancelRequest" {
		return nil, jsonrpc2.ErrNotHandled
	}
	var params struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(req.Params(), &params); err != nil {
		p.log.Warn("malformed $/cancelRequest", "err", err)
		return struct{}{}, nil
	}
	var n int64
	var str string
	switch {
	case json.Unmarshal(params.ID, &n) == nil:
		p.cancel(jsonrpc2.NewNumberID(n))
	case json.Unmarshal(params.ID, &str) == nil:
		p.cancel(jsonrpc2.NewStringID(str))
	default:
		p.log.Warn("malformed $/cancelRequest id", "id", string(params.ID))
	}
	return struct{}{}, nil
}

// Request answers methods protocol.Server does not know: notifications are
// ignored, requests get MethodNotFound.
func (s *Server) Request(ctx context.Context, method string, params any) (any, error) {
	return nil, jsonrpc2.NewError(jsonrpc2.MethodNotFound, "bpf-lsp does not implement "+strconv.Quote(method))
}
