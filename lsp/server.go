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
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Settings are what the editor configures (initializationOptions or
// workspace/didChangeConfiguration, optionally under a "bpfLsp" key).
type Settings struct {
	IncludeDirs     []string `json:"includeDirs"`
	Defines         []string `json:"defines"`
	CompileCommands string   `json:"compileCommands"`
	VerifyOnSave    bool     `json:"verifyOnSave"`
	ClangPath       string   `json:"clangPath"`
}

// Options configure a server from the command line; editor settings are
// merged over them.
type Options struct {
	Settings Settings
	Logger   *slog.Logger  // stderr or a file, never stdout
	Debounce time.Duration // delay before re-analysing after an edit; 0 = default
}

const defaultDebounce = 30 * time.Millisecond

// Server is one language-server session.
type Server struct {
	protocol.UnimplementedServer

	conn   jsonrpc2.Conn
	client protocol.Client
	log    *slog.Logger
	opts   Options

	mu        sync.Mutex
	settings  Settings
	parser    *cparse.Parser
	docs      map[uri.URI]*document
	utf8      bool // negotiated position encoding
	shutdown  bool
	exitCode  chan int
	related   bool // client supports relatedInformation
	pull      bool // client pulls diagnostics: do not also push them (it would show each twice)
	versioned bool // client supports versioned documentChanges
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
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Debounce == 0 {
		opts.Debounce = defaultDebounce
	}
	s := &Server{log: opts.Logger, opts: opts, settings: opts.Settings, docs: map[uri.URI]*document{}, exitCode: make(chan int, 1)}
	s.parser = s.newParser(opts.Settings)

	calls := &inFlight{cancel: map[jsonrpc2.ID]context.CancelFunc{}}
	handler := calls.wrap(s.safe(protocol.ServerHandler(s, nil)))
	stream := tolerantStream{Stream: jsonrpc2.NewStream(rw), log: s.log}
	s.conn = jsonrpc2.NewConn(stream, jsonrpc2.WithCodec(codec{}), jsonrpc2.WithPreempter(cancelPreempter{cancel: calls.cancelID, log: s.log}))
	s.client = protocol.ClientDispatcher(s.conn)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
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
		s.conn.Close()
		return code
	}
}

// safe wraps the protocol handler so that nothing a client sends can take
// the session down: a panic becomes an InternalError reply, a failing
// notification is logged (jsonrpc2 would close the connection), an unknown
// request gets MethodNotFound and an unknown notification is ignored.
func (s *Server) safe(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		method := req.Method()
		isCall := req.IsCall()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("handler panicked", "method", method, "panic", r, "stack", string(debug.Stack()))
				result = nil
				err = jsonrpc2.NewError(jsonrpc2.InternalError, fmt.Sprintf("bpf-lsp: internal error in %s: %v", method, r))
				if !isCall {
					err = nil
				}
			}
		}()
		s.mu.Lock()
		down := s.shutdown
		s.mu.Unlock()
		if down && isCall && method != protocol.MethodShutdown {
			return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "server is shutting down")
		}
		result, err = next(ctx, req)
		if !isCall && err != nil {
			s.log.Warn("notification failed", "method", method, "err", err)
			return nil, nil
		}
		return result, err
	}
}

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
		id := req.ID()
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

// tolerantStream drops frames that are not valid JSON-RPC instead of
// failing the connection (jsonrpc2 closes it on a decode error). Transport
// errors still end the session.
type tolerantStream struct {
	jsonrpc2.Stream
	log *slog.Logger
}

func (t tolerantStream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	for dropped := 0; ; dropped++ {
		msg, n, err := t.Stream.Read(ctx)
		if err == nil || dropped >= 1000 || transportError(err) {
			return msg, n, err
		}
		t.log.Warn("dropping malformed JSON-RPC message", "err", err)
	}
}

func transportError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, os.ErrClosed)
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

func (s *Server) newParser(st Settings) *cparse.Parser {
	return cparse.NewParser(cparse.Options{IncludeDirs: st.IncludeDirs, Defines: st.Defines, CompileDB: st.CompileCommands})
}

// decodeSettings reads settings from initializationOptions or a
// didChangeConfiguration payload ({"bpfLsp": {...}} or flat).
func decodeSettings(raw []byte, base Settings) Settings {
	if len(raw) == 0 || string(raw) == "null" {
		return base
	}
	var wrapped struct {
		BpfLsp *json.RawMessage `json:"bpfLsp"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.BpfLsp != nil {
		raw = *wrapped.BpfLsp
	}
	st := base
	if err := json.Unmarshal(raw, &st); err != nil {
		return base
	}
	return st
}

// Initialize negotiates capabilities.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	caps := params.Capabilities
	if caps.General != nil {
		for _, enc := range caps.General.PositionEncodings {
			if enc == protocol.PositionEncodingKindUTF8 {
				s.utf8 = true
			}
		}
	}
	if td := caps.TextDocument; td != nil && td.PublishDiagnostics != nil && td.PublishDiagnostics.RelatedInformation != nil {
		s.related = *td.PublishDiagnostics.RelatedInformation
	}
	if td := caps.TextDocument; td != nil && td.Diagnostic != nil {
		s.pull = true
	}
	if ws := caps.Workspace; ws != nil && ws.WorkspaceEdit != nil && ws.WorkspaceEdit.DocumentChanges != nil {
		s.versioned = *ws.WorkspaceEdit.DocumentChanges
	}
	s.settings = decodeSettings(params.InitializationOptions, s.settings)
	s.parser = s.newParser(s.settings)

	enc := protocol.PositionEncodingKindUTF16
	if s.utf8 {
		enc = protocol.PositionEncodingKindUTF8
	}
	change := protocol.TextDocumentSyncKindIncremental
	yes := true
	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			PositionEncoding: enc,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{OpenClose: &yes, Change: &change,
				Save: &protocol.SaveOptions{IncludeText: &yes}},
			HoverProvider:          protocol.Boolean(true),
			DefinitionProvider:     protocol.Boolean(true),
			DocumentSymbolProvider: protocol.Boolean(true),
			CodeActionProvider:     &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}},
			InlayHintProvider:      protocol.Boolean(true),
			DiagnosticProvider:     &protocol.DiagnosticOptions{Identifier: ptr("bpf-lsp")},
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{Commands: []string{commandVerify}},
		},
		ServerInfo: protocol.ServerInfo{Name: "bpf-lsp", Version: protocol.NewOptional(Version)},
	}, nil
}

// Version is reported in serverInfo; the command sets it at start-up.
var Version = "devel"

func ptr[T any](v T) *T { return &v }

func (s *Server) Initialized(ctx context.Context, params *protocol.InitializedParams) error {
	s.logToClient(ctx, protocol.MessageTypeInfo, "bpf-lsp "+Version+" ready")
	return nil
}

func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for _, d := range s.docs {
		d.cancel()
	}
	s.mu.Unlock()
	return nil
}

func (s *Server) Exit(ctx context.Context) error {
	s.mu.Lock()
	code := 1
	if s.shutdown {
		code = 0
	}
	s.mu.Unlock()
	select {
	case s.exitCode <- code:
	default:
	}
	return nil
}

func (s *Server) SetTrace(ctx context.Context, params *protocol.SetTraceParams) error {
	s.log.Info("trace set", "value", params.Value)
	return nil
}

func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	s.mu.Lock()
	s.settings = decodeSettings(params.Settings, s.settings)
	s.parser = s.newParser(s.settings)
	s.mu.Unlock()
	return s.DidChangeWatchedFiles(ctx, nil)
}

// logToClient sends window/logMessage (and logs locally).
func (s *Server) logToClient(ctx context.Context, typ protocol.MessageType, msg string) {
	s.log.Info(msg)
	if err := s.client.LogMessage(ctx, &protocol.LogMessageParams{Type: typ, Message: msg}); err != nil {
		s.log.Debug("logMessage", "err", err)
	}
}
