package lsp

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"go.lsp.dev/protocol"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Settings are what the editor configures (initializationOptions or
// workspace/didChangeConfiguration, optionally under a "bpfLsp" key).
// Fields absent from a payload keep their previous value.
type Settings struct {
	IncludeDirs     []string `json:"includeDirs"`     // -I, searched first
	Defines         []string `json:"defines"`         // NAME or NAME=VALUE
	CompileFlags    []string `json:"compileFlags"`    // more clang flags: -iquote, -isystem, -idirafter, -include, --sysroot, ...
	CompileCommands string   `json:"compileCommands"` // compile_commands.json / compile_flags.txt or its directory
	VerifyOnSave    bool     `json:"verifyOnSave"`    // run the kernel cross-check on every save
	ClangPath       string   `json:"clangPath"`       // the compiler for the cross-check ("" = clang-19 or clang)
	TargetKernels   []string `json:"targetKernels"`   // kernels checked for and verified on ("" = the running kernel; code_lens.go)
	// WorkspaceDiagnostics analyses the workspace's closed BPF files in the
	// background (workspace.go); nil means the default, on.
	WorkspaceDiagnostics *bool `json:"workspaceDiagnostics"`

	root string // the workspace root: relative paths in CompileFlags are relative to it
}

// Options configure a server from the command line; editor settings are
// merged over them.
type Options struct {
	Settings     Settings
	Logger       *slog.Logger  // stderr or a file, never stdout
	Debounce     time.Duration // delay before re-analysing during a burst of edits; 0 = default
	ParseTimeout time.Duration // give up on one analysis after this long; 0 = default
	// ClosedMemoryLimit is the runtime's soft memory limit while closed
	// files, and no open document, are analysed (the workspace pass); 0
	// leaves the limit alone.
	ClosedMemoryLimit int64
	// OpeningGCPercent is the collector's GOGC while a document's first
	// analysis runs; 0 leaves it alone.
	OpeningGCPercent int
}

const (
	// defaultDebounce: a burst of keystrokes costs one analysis, while an
	// edit made when nothing is pending is analysed at once (see DidChange).
	defaultDebounce = 50 * time.Millisecond
	// defaultParseTimeout bounds one analysis; beyond it the last good
	// result stays in place and the file gets a diagnostic saying why.
	defaultParseTimeout = 20 * time.Second
)

func (st Settings) workspaceDiagnostics() bool {
	return st.WorkspaceDiagnostics == nil || *st.WorkspaceDiagnostics
}

func newParser(st Settings) *cparse.Parser { return cparse.NewParser(parserOptions(st)) }

func parserOptions(st Settings) cparse.Options {
	return cparse.Options{IncludeDirs: st.IncludeDirs, Defines: st.Defines, CompileDB: st.CompileCommands,
		Args: st.CompileFlags, ArgsDir: st.root, OpenPreambles: true}
}

// decodeSettings reads settings from initializationOptions or a
// didChangeConfiguration payload ({"bpfLsp": {...}} or flat). Relative
// paths are resolved against the workspace root. ok is false when the
// payload carries no settings (null, or not an object).
func decodeSettings(raw []byte, base Settings, root string) (st Settings, ok bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return base, false
	}
	var wrapped struct {
		BpfLsp *json.RawMessage `json:"bpfLsp"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && wrapped.BpfLsp != nil {
		raw = *wrapped.BpfLsp
	}
	st = base
	if base.WorkspaceDiagnostics != nil {
		// Unmarshal writes through a non-nil pointer: keep base's own.
		st.WorkspaceDiagnostics = ptr(*base.WorkspaceDiagnostics)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return base, false
	}
	st.root = root
	if root != "" {
		for i, dir := range st.IncludeDirs {
			if !filepath.IsAbs(dir) {
				st.IncludeDirs[i] = filepath.Join(root, dir)
			}
		}
		if st.CompileCommands != "" && !filepath.IsAbs(st.CompileCommands) {
			st.CompileCommands = filepath.Join(root, st.CompileCommands)
		}
	}
	return st, true
}

// DidChangeConfiguration applies new settings and re-analyses every open
// document with them. A payload without settings (what pull-model clients
// send) makes the server ask for the "bpfLsp" section instead.
func (s *Server) DidChangeConfiguration(ctx context.Context, params *protocol.DidChangeConfigurationParams) error {
	s.mu.Lock()
	st, ok := decodeSettings(params.Settings, s.settings, s.root)
	pullConfig := !ok && s.caps.configuration
	if ok {
		s.applySettingsLocked(st)
	}
	s.mu.Unlock()
	if pullConfig {
		// A call to the client: off the read loop, or it would wait for a
		// reply that loop has to read.
		go s.fetchConfiguration(s.ctx)
		return nil
	}
	if ok {
		s.settingsChanged()
	}
	return nil
}

// fetchConfiguration asks the client for the bpfLsp section
// (workspace/configuration) and applies it.
func (s *Server) fetchConfiguration(ctx context.Context) {
	section := "bpfLsp"
	items, err := s.client.Configuration(ctx, &protocol.ConfigurationParams{Items: []protocol.ConfigurationItem{{Section: &section}}})
	if err != nil || len(items) == 0 {
		s.log.Debug("workspace/configuration", "err", err)
		return
	}
	s.mu.Lock()
	st, ok := decodeSettings(items[0], s.settings, s.root)
	if ok {
		s.applySettingsLocked(st)
	}
	s.mu.Unlock()
	if ok {
		s.settingsChanged()
	}
}

// settingsChanged re-analyses what the new settings may change: every
// open document and the workspace files.
func (s *Server) settingsChanged() {
	s.reanalyseAll()
	s.workspaceSettingsChanged()
}

func (s *Server) applySettingsLocked(st Settings) {
	s.settings = st
	s.parser = newParser(st)
	s.log.Info("settings", "includeDirs", st.IncludeDirs, "defines", st.Defines, "compileCommands", st.CompileCommands,
		"verifyOnSave", st.VerifyOnSave, "clangPath", st.ClangPath)
}

// DidChangeWatchedFiles re-analyses open documents when a watched file (a
// compile database, a header) changes on disk: flags and headers are read
// afresh on every parse. A .c file changes no other document (the editor
// saving one sends this too); the workspace pass takes every change.
func (s *Server) DidChangeWatchedFiles(ctx context.Context, params *protocol.DidChangeWatchedFilesParams) error {
	sources := true
	for _, ch := range params.Changes {
		path := docPath(ch.URI)
		sources = sources && strings.HasSuffix(path, ".c")
		s.workspaceFileChanged(path)
	}
	if !sources {
		s.reanalyseAll()
	}
	return nil
}

// reanalyseAll schedules every open document for analysis, and asks a
// pulling client to pull again (its documents did not change, their
// diagnostics may have).
func (s *Server) reanalyseAll() {
	s.mu.Lock()
	docs := make([]*document, 0, len(s.docs))
	for _, d := range s.docs {
		docs = append(docs, d)
	}
	refresh := s.caps.pull && s.caps.refresh
	s.mu.Unlock()
	for _, d := range docs {
		s.schedule(d.uri, s.opts.Debounce, background)
	}
	if refresh {
		go func() {
			if err := s.client.DiagnosticRefresh(s.ctx); err != nil {
				s.log.Debug("workspace/diagnostic/refresh", "err", err)
			}
		}()
	}
}
