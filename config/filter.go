package config

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// Apply filters findings as the project asks: findings in files that an
// ignore entry covers are dropped, then sel decides which rules report and
// at which severity (nil means the config's own checks and severity). The
// CLI, the server and verify all report through here.
func (c *Config) Apply(sel *Selection, findings []analysis.Finding) []analysis.Finding {
	if sel == nil {
		sel = c.Rules()
	}
	if c != nil && len(c.Ignore) > 0 {
		out := findings[:0]
		for _, f := range findings {
			if !c.ignored(f) {
				out = append(out, f)
			}
		}
		findings = out
	}
	return sel.Apply(findings)
}

func (c *Config) ignored(f analysis.Finding) bool {
	for _, ig := range c.Ignore {
		if !c.matchAny(ig.Files, f.Span.File) {
			continue
		}
		if len(ig.Codes) == 0 {
			return true
		}
		for _, code := range ig.Codes {
			if code == f.Code {
				return true
			}
		}
	}
	return false
}

// matchAny reports whether file matches one of globs, relative to the
// config's directory.
func (c *Config) matchAny(globs []string, file string) bool {
	rel := file
	if dir := c.Dir(); dir != "" {
		r, err := filepath.Rel(dir, file)
		if err != nil || !filepath.IsLocal(r) {
			return false
		}
		rel = filepath.ToSlash(r)
	}
	for _, g := range globs {
		if ok, _ := matchGlob(g, rel); ok {
			return true
		}
	}
	return false
}

// matchGlob matches a slash-separated relative path against a glob: a
// pattern without a slash matches the base name in any directory ("*.bpf.c"),
// otherwise the whole path, where "**" matches any number of directories
// ("vendor/**", "progs/**/*.c"). An empty rel only checks the syntax.
func matchGlob(pattern, rel string) (bool, error) {
	if pattern == "" {
		return false, fmt.Errorf("empty glob")
	}
	if _, err := path.Match(strings.ReplaceAll(pattern, "**", "*"), ""); err != nil {
		return false, fmt.Errorf("glob %q: %w", pattern, err)
	}
	if rel == "" {
		return false, nil
	}
	if !strings.Contains(pattern, "/") {
		return path.Match(pattern, path.Base(rel))
	}
	return matchSegments(strings.Split(pattern, "/"), strings.Split(rel, "/")), nil
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
