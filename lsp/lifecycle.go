package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// Version is reported in serverInfo; the command sets it at start-up.
var Version = "devel"

// commandVerify runs the kernel cross-check on one file (the editor's
// "Verify this file against the kernel").
const commandVerify = "bpf-lsp.verify"

// Initialize negotiates capabilities and reads initializationOptions.
func (s *Server) Initialize(ctx context.Context, params *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caps = negotiate(params.Capabilities)
	s.root = workspaceRoot(params)
	if st, ok := decodeSettings(params.InitializationOptions, s.settings, s.root); ok {
		s.applySettingsLocked(st)
	}
	s.initialized = true

	enc := protocol.PositionEncodingKindUTF16
	if s.caps.utf8 {
		enc = protocol.PositionEncodingKindUTF8
	}
	change := protocol.TextDocumentSyncKindIncremental
	yes := true
	return &protocol.InitializeResult{
		Capabilities: protocol.ServerCapabilities{
			PositionEncoding: enc,
			TextDocumentSync: &protocol.TextDocumentSyncOptions{OpenClose: &yes, Change: &change,
				Save: &protocol.SaveOptions{IncludeText: ptr(false)}},
			HoverProvider:          protocol.Boolean(true),
			DefinitionProvider:     protocol.Boolean(true),
			DocumentSymbolProvider: protocol.Boolean(true),
			CodeActionProvider:     &protocol.CodeActionOptions{CodeActionKinds: []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}},
			InlayHintProvider:      protocol.Boolean(true),
			DiagnosticProvider: &protocol.DiagnosticOptions{Identifier: ptr("bpf-lsp"), InterFileDependencies: true,
				WorkspaceDiagnostics: s.settings.workspaceDiagnostics()},
			ExecuteCommandProvider: protocol.ExecuteCommandOptions{Commands: []string{commandVerify, commandVerifyKernels}},
			CodeLensProvider:       &protocol.CodeLensOptions{},
		},
		ServerInfo: protocol.ServerInfo{Name: "bpf-lsp", Version: protocol.NewOptional(Version)},
	}, nil
}

// negotiate reads the client capabilities the server adapts to.
func negotiate(caps protocol.ClientCapabilities) clientCaps {
	var c clientCaps
	if g := caps.General; g != nil {
		for _, enc := range g.PositionEncodings {
			if enc == protocol.PositionEncodingKindUTF8 {
				c.utf8 = true
			}
		}
	}
	if td := caps.TextDocument; td != nil {
		if pd := td.PublishDiagnostics; pd != nil && pd.RelatedInformation != nil {
			c.related = *pd.RelatedInformation
		}
		c.pull = td.Diagnostic != nil
	}
	if ws := caps.Workspace; ws != nil {
		if ws.WorkspaceEdit != nil && ws.WorkspaceEdit.DocumentChanges != nil {
			c.versioned = *ws.WorkspaceEdit.DocumentChanges
		}
		if ws.Diagnostics != nil && ws.Diagnostics.RefreshSupport != nil {
			c.refresh = *ws.Diagnostics.RefreshSupport
		}
		if ws.Configuration != nil {
			c.configuration = *ws.Configuration
		}
		if w := ws.DidChangeWatchedFiles; w != nil && w.DynamicRegistration != nil {
			c.watch = *w.DynamicRegistration
		}
	}
	if w := caps.Window; w != nil && w.WorkDoneProgress != nil {
		c.progress = *w.WorkDoneProgress
	}
	return c
}

// workspaceRoot is the directory relative settings paths are resolved
// against: the first workspace folder, else rootUri.
func workspaceRoot(params *protocol.InitializeParams) string {
	if folders, ok := params.WorkspaceFolders.Get(); ok {
		for _, f := range folders {
			if f.URI != "" {
				return f.URI.FsPath()
			}
		}
	}
	//lint:ignore SA1019 clients without workspace folders still send rootUri
	if root := params.RootURI; root != nil && *root != "" {
		return root.FsPath()
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// Initialized starts the background analysis of the workspace and asks
// the client to report file changes on disk, which it follows.
func (s *Server) Initialized(ctx context.Context, params *protocol.InitializedParams) error {
	s.logToClient(ctx, protocol.MessageTypeInfo, "bpf-lsp "+Version+" ready")
	s.startWorkspace()
	// Every analysis needs the target kernels' BTF (tens of milliseconds
	// to read): read it now, not when the first document opens.
	go s.staticTargets()
	s.mu.Lock()
	watch := s.caps.watch
	s.mu.Unlock()
	if watch {
		// A call to the client: off the read loop, which reads its reply.
		go s.registerWatchers(s.ctx)
	}
	return nil
}

// watchedFiles are the files whose changes on disk change results: the
// sources and headers, compile databases and project configs.
var watchedFiles = []string{"**/*.{c,h}", "**/compile_commands.json", "**/compile_flags.txt", "**/.bpf-lsp.yaml"}

func (s *Server) registerWatchers(ctx context.Context) {
	var watchers []protocol.FileSystemWatcher
	for _, glob := range watchedFiles {
		watchers = append(watchers, protocol.FileSystemWatcher{GlobPattern: protocol.Pattern(glob)})
	}
	opts, err := protocol.Marshal(protocol.DidChangeWatchedFilesRegistrationOptions{Watchers: watchers})
	if err == nil {
		err = s.client.RegisterCapability(ctx, &protocol.RegistrationParams{Registrations: []protocol.Registration{{
			ID: "bpf-lsp/watched-files", Method: protocol.MethodWorkspaceDidChangeWatchedFiles, RegisterOptions: protocol.LSPAny(opts)}}})
	}
	if err != nil {
		s.log.Info("client/registerCapability for watched files", "err", err)
	}
}

// Shutdown stops all analyses; later requests fail, exit ends the session.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for _, d := range s.docs {
		d.cancel()
	}
	for u := range s.verifyRuns {
		s.cancelVerifyLocked(u)
	}
	s.mu.Unlock()
	s.stopWorkspace(false)
	return nil
}

// Exit ends the session: exit code 0 after shutdown, 1 otherwise.
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

// logToClient sends window/logMessage (and logs locally, to stderr or the
// log file: stdout carries the protocol).
func (s *Server) logToClient(ctx context.Context, typ protocol.MessageType, msg string) {
	s.log.Info(msg)
	if err := s.client.LogMessage(ctx, &protocol.LogMessageParams{Type: typ, Message: msg}); err != nil {
		s.log.Debug("logMessage", "err", err)
	}
}
