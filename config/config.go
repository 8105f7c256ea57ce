// Package config reads a project's .bpf-lsp.yaml (found upward from each
// file, like clangd's .clangd) and applies it: which files are BPF
// programs, which checks run at which severity, file-wide ignores, extra
// compile flags, target kernels and verify options. The CLI, the language
// server and verify all go through it, so a setting means the same
// everywhere.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// FileName is the project config file's name.
const FileName = ".bpf-lsp.yaml"

// Config is one .bpf-lsp.yaml. The zero Config (no file) means the
// defaults: every check at its own severity, no ignores, no extra flags.
type Config struct {
	// Path is the file it was read from ("" for the defaults); relative
	// paths and globs in it are relative to its directory.
	Path string `yaml:"-"`

	// Files are globs of extra BPF programs, beside *.bpf.c and the files
	// a compile database builds with -target bpf.
	Files []string `yaml:"files"`
	// Checks selects rules in staticcheck's syntax: "all", "BL2*",
	// "-BL208"; later entries win. Absent means all.
	Checks []string `yaml:"checks"`
	// Severity overrides a rule's severity: error, warning or info.
	Severity map[string]string `yaml:"severity"`
	// Ignore drops findings in whole files, each entry with its reason.
	Ignore []Ignore `yaml:"ignore"`
	// CompileFlags are added to (Add) or taken out of (Remove) every
	// file's compile command.
	CompileFlags CompileFlags `yaml:"compileFlags"`
	// TargetKernels names the kernel versions the programs must load on
	// ("6.12", "6.18"); empty means the running kernel.
	TargetKernels []string `yaml:"targetKernels"`
	// Verify configures the kernel cross-check.
	Verify Verify `yaml:"verify"`

	rules *Selection // Checks and Severity, compiled
}

// Ignore drops findings of some codes (all when Codes is empty) in the
// files matching a glob. A reason is required, as for an inline
// bpf-lsp:ignore comment.
type Ignore struct {
	Files  []string `yaml:"files"`
	Codes  []string `yaml:"codes"`
	Reason string   `yaml:"reason"`
}

// CompileFlags edits compile commands: Add takes -I, -isystem, -D, -U and
// -include; Remove takes the same spellings, matched exactly.
type CompileFlags struct {
	Add    []string `yaml:"add"`
	Remove []string `yaml:"remove"`
}

// Verify holds the kernel cross-check's options. It has no compiler key on
// purpose: verify runs only the compiler the user named (--clang, the
// editor's clangPath), never one named by a file in the workspace.
type Verify struct {
	OnSave *bool `yaml:"onSave"` // the server's verifyOnSave default
}

// Parse reads a config from data; path names it in errors and anchors its
// relative paths. Unknown keys, unknown rule codes, bad severities, bad
// globs and ignores without a reason are errors.
func Parse(path string, data []byte) (*Config, error) {
	c := &Config{Path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func (c *Config) validate() error {
	sel, err := NewSelection(nil, c.Checks)
	if err != nil {
		return fmt.Errorf("checks: %w", err)
	}
	for code, sev := range c.Severity {
		if analysis.RuleByCode(code) == nil {
			return fmt.Errorf("severity: unknown rule %q (bpf-lsp explain lists the rules)", code)
		}
		if _, err := ParseSeverity(sev); err != nil {
			return fmt.Errorf("severity of %s: %w", code, err)
		}
	}
	sel.severity = c.Severity
	c.rules = sel
	for i, ig := range c.Ignore {
		if strings.TrimSpace(ig.Reason) == "" {
			return fmt.Errorf("ignore[%d]: a reason is required", i)
		}
		if len(ig.Files) == 0 {
			return fmt.Errorf("ignore[%d]: files is required (a glob such as \"vendor/**\")", i)
		}
		for _, g := range ig.Files {
			if _, err := matchGlob(g, ""); err != nil {
				return fmt.Errorf("ignore[%d]: %w", i, err)
			}
		}
		for _, code := range ig.Codes {
			if analysis.RuleByCode(code) == nil {
				return fmt.Errorf("ignore[%d]: unknown rule %q", i, code)
			}
		}
	}
	for _, g := range c.Files {
		if _, err := matchGlob(g, ""); err != nil {
			return fmt.Errorf("files: %w", err)
		}
	}
	for _, f := range append(append([]string{}, c.CompileFlags.Add...), c.CompileFlags.Remove...) {
		if !strings.HasPrefix(f, "-") {
			return fmt.Errorf("compileFlags: %q is not a flag", f)
		}
	}
	return nil
}

// Dir is the directory the config's relative paths are relative to.
func (c *Config) Dir() string {
	if c == nil || c.Path == "" {
		return ""
	}
	return filepath.Dir(c.Path)
}

// Rules returns the config's check selection and severities.
func (c *Config) Rules() *Selection {
	if c == nil || c.rules == nil {
		return &Selection{}
	}
	return c.rules
}

// ParseSeverity reads error, warning or info.
func ParseSeverity(s string) (analysis.Severity, error) {
	switch s {
	case "error":
		return analysis.SevError, nil
	case "warning":
		return analysis.SevWarning, nil
	case "info":
		return analysis.SevInfo, nil
	}
	return 0, fmt.Errorf("severity %q: want error, warning or info", s)
}

// Find returns the path of the nearest .bpf-lsp.yaml in dir or above, or
// "" when there is none.
func Find(dir string) string {
	for {
		p := filepath.Join(dir, FileName)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Cache finds and reads configs for files. A config is re-read when its
// file changes (size or modification time), so a long-running server picks
// up edits on the next analysis. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	files map[string]cached
	// none is the one config of every file outside a project: callers key
	// per-config state (check's parser and its caches) by the pointer.
	none *Config
}

type cached struct {
	size  int64
	mtime time.Time
	cfg   *Config
	err   error
}

// For returns the config that applies to file: the nearest .bpf-lsp.yaml
// above it, or the defaults (a Config with an empty Path) when there is
// none. A config that cannot be read or is invalid is an error; callers
// report it and carry on with the defaults.
func (c *Cache) For(file string) (*Config, error) {
	path := Find(filepath.Dir(file))
	if path == "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.none == nil {
			c.none = &Config{}
		}
		return c.none, nil
	}
	return c.Load(path)
}

// maxConfigSize bounds a project config file: a few lines of YAML.
const maxConfigSize = 1 << 20

// Load reads the config at path, from the cache when unchanged.
func (c *Cache) Load(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return &Config{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.files[path]; ok && e.size == st.Size() && e.mtime.Equal(st.ModTime()) {
		return e.cfg, e.err
	}
	data, err := cparse.ReadRegular(path, maxConfigSize)
	cfg := &Config{}
	if err == nil {
		var parsed *Config
		if parsed, err = Parse(path, data); err == nil {
			cfg = parsed
		}
	}
	if c.files == nil {
		c.files = map[string]cached{}
	}
	c.files[path] = cached{size: st.Size(), mtime: st.ModTime(), cfg: cfg, err: err}
	return cfg, err
}
