package lsp

import (
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// projectConfigs gives each analysis the .bpf-lsp.yaml above its file. The
// file is looked up and, when it changed on disk, read again on every
// analysis, so edits apply on the next keystroke or save (and
// didChangeWatchedFiles re-analyses open documents at once).
type projectConfigs struct {
	cache config.Cache

	mu      sync.Mutex
	parsers map[string]configParser // by config path
	shown   map[string]string       // config path -> the error last shown
}

// configParser is a parser for the editor's settings plus one config's
// compile flag edits.
type configParser struct {
	base   *cparse.Parser // the settings' parser it extends
	cfg    *config.Config
	parser *cparse.Parser
}

// forFile returns the config that applies to path and the parser to use:
// base when the config edits no flags, else one built for it (kept until
// the settings or the config change). A config that cannot be read is
// shown to the user once and the defaults apply.
func (s *Server) projectFor(st Settings, base *cparse.Parser, path string) (*cparse.Parser, *config.Config) {
	p := &s.project
	cfg, err := p.cache.For(path)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown == nil {
		p.shown = map[string]string{}
		p.parsers = map[string]configParser{}
	}
	if key := config.Find(filepath.Dir(path)); key != "" {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if prev, seen := p.shown[key]; !seen || prev != msg {
			p.shown[key] = msg
			if err != nil {
				go s.showError("bpf-lsp: " + msg + " (using the defaults until it is fixed)")
			} else {
				s.log.Info("project config", "file", key)
			}
		}
	}
	if cfg.Path == "" || len(cfg.CompileFlags.Add)+len(cfg.CompileFlags.Remove) == 0 {
		return base, cfg
	}
	if cp, ok := p.parsers[cfg.Path]; ok && cp.base == base && cp.cfg == cfg {
		return cp.parser, cfg
	}
	parser := cparse.NewParser(cfg.ParserOptions(parserOptions(st)))
	p.parsers[cfg.Path] = configParser{base: base, cfg: cfg, parser: parser}
	return parser, cfg
}

// logAnalysis logs, at debug level, the flags a file was parsed with and
// where they came from, and how long parsing and analysis took: what a
// header problem or a slow file needs to be understood from the log.
func logAnalysis(log *slog.Logger, f *cparse.File, st analysis.Stats, parse, analyse time.Duration) {
	source := f.FlagsSource
	if source == "" {
		source = "no compile database; the editor's settings and the project config only"
	}
	log.Debug("analysed", "file", f.Path, "flags", f.Flags, "from", source,
		"parse", parse.Round(time.Microsecond), "analysis", analyse.Round(time.Microsecond),
		"programs", st.Programs, "reused", st.Cached)
}

// configVerifiesOnSave reports whether the project config turns on the
// kernel cross-check on save (the editor's verifyOnSave turns it on too).
func (s *Server) configVerifiesOnSave(u uri.URI) bool {
	if u.Scheme() != "file" {
		return false
	}
	cfg, _ := s.project.cache.For(u.FsPath())
	return cfg.Verify.OnSave != nil && *cfg.Verify.OnSave
}

// showError tells the user (window/showMessage) and the log.
func (s *Server) showError(msg string) {
	s.log.Warn(msg)
	if err := s.client.ShowMessage(s.ctx, &protocol.ShowMessageParams{Type: protocol.MessageTypeError, Message: msg}); err != nil {
		s.log.Debug("showMessage", "err", err)
	}
}
