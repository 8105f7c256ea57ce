package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

func finding(file, code string, sev analysis.Severity) analysis.Finding {
	return analysis.Finding{Code: code, Severity: sev, Span: cparse.Span{File: file}}
}

func codes(fs []analysis.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code+":"+f.Severity.String())
	}
	return out
}

func TestParseRejects(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"chekcs: [all]", "field chekcs not found"},
		{"checks: [BL999]", `"BL999" matches no rule`},
		{"checks: [all, inherit]", "inherit only first"},
		{"severity: {BL208: fatal}", `severity "fatal"`},
		{"severity: {XX1: error}", `unknown rule "XX1"`},
		{"ignore: [{files: [a.c]}]", "a reason is required"},
		{"ignore: [{reason: r}]", "files is required"},
		{"ignore: [{files: ['['], reason: r}]", "glob"},
		{"ignore: [{files: [a.c], codes: [BL1], reason: r}]", `unknown rule "BL1"`},
		{"compileFlags: {add: [include]}", "not a flag"},
	} {
		_, err := Parse("/p/.bpf-lsp.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.yaml, err, c.want)
		}
	}
}

func TestInitTemplateParses(t *testing.T) {
	dir := t.TempDir()
	written, kept, err := Init(dir, false)
	if err != nil || len(written) != 2 || len(kept) != 0 {
		t.Fatalf("Init = %v, %v, %v", written, kept, err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	c, err := Parse(filepath.Join(dir, FileName), data)
	if err != nil {
		t.Fatal(err)
	}
	fs := []analysis.Finding{finding(filepath.Join(dir, "a.bpf.c"), "BL208", analysis.SevWarning)}
	if got := c.Apply(nil, fs); len(got) != 1 {
		t.Errorf("the template must change nothing, got %v", codes(got))
	}
	os.WriteFile(filepath.Join(dir, "bpf_lsp.h"), []byte("mine"), 0o644)
	written, kept, err = Init(dir, false)
	if err != nil || len(written) != 0 || len(kept) != 2 {
		t.Errorf("second Init = %v, %v, %v; want both kept", written, kept, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "bpf_lsp.h")); string(data) != "mine" {
		t.Error("Init overwrote an existing file without force")
	}
}

// TestPrecedence: defaults < config < command line.
func TestPrecedence(t *testing.T) {
	file := "/p/src/a.bpf.c"
	all := func() []analysis.Finding {
		return []analysis.Finding{finding(file, "BL201", analysis.SevError), finding(file, "BL208", analysis.SevWarning),
			finding(file, "BL210", analysis.SevError)}
	}
	def := &Config{}
	if got := codes(def.Apply(nil, all())); len(got) != 3 {
		t.Fatalf("defaults: %v", got)
	}
	cfg, err := Parse("/p/.bpf-lsp.yaml", []byte("checks: [all, -BL210]\nseverity: {BL208: error}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := codes(cfg.Apply(nil, all())), []string{"BL201:error", "BL208:error"}; !slices.Equal(got, want) {
		t.Errorf("config: %v, want %v", got, want)
	}
	for _, c := range []struct {
		cli  string
		want []string
	}{
		{"BL210", []string{"BL210:error"}},                                       // replaces the config's selection
		{"inherit,-BL201", []string{"BL208:error"}},                              // builds on it
		{"all", []string{"BL201:error", "BL208:error", "BL210:error"}},           // severity still from the config
		{"all,-BL2*,BL208", []string{"BL208:error"}},                             // globs, later wins
		{"inherit,BL210", []string{"BL201:error", "BL208:error", "BL210:error"}}, // re-enabled
	} {
		sel, err := NewSelection(cfg.Rules(), ParseChecks(c.cli))
		if err != nil {
			t.Fatal(err)
		}
		if got := codes(cfg.Apply(sel, all())); !slices.Equal(got, c.want) {
			t.Errorf("-checks %s: %v, want %v", c.cli, got, c.want)
		}
	}
}

func TestIgnore(t *testing.T) {
	cfg, err := Parse("/p/.bpf-lsp.yaml", []byte(`
ignore:
  - files: ["vendor/**"]
    reason: third-party
  - files: ["stats.bpf.c"]
    codes: [BL208]
    reason: racy counters on purpose
`))
	if err != nil {
		t.Fatal(err)
	}
	in := []analysis.Finding{
		finding("/p/vendor/x/y.h", "BL201", analysis.SevError),
		finding("/p/progs/stats.bpf.c", "BL208", analysis.SevWarning),
		finding("/p/progs/stats.bpf.c", "BL201", analysis.SevError),
		finding("/p/progs/other.bpf.c", "BL208", analysis.SevWarning),
		finding("/elsewhere/vendor/z.h", "BL201", analysis.SevError),
	}
	got := cfg.Apply(nil, in)
	var files []string
	for _, f := range got {
		files = append(files, f.Span.File+":"+f.Code)
	}
	want := []string{"/p/progs/stats.bpf.c:BL201", "/p/progs/other.bpf.c:BL208", "/elsewhere/vendor/z.h:BL201"}
	if !slices.Equal(files, want) {
		t.Errorf("got %v, want %v", files, want)
	}
}

func TestMatchGlob(t *testing.T) {
	for _, c := range []struct {
		pat, rel string
		want     bool
	}{
		{"*.bpf.c", "a/b/x.bpf.c", true},
		{"*.bpf.c", "x.c", false},
		{"vendor/**", "vendor/a/b.h", true},
		{"vendor/**", "src/vendor/a.h", false},
		{"progs/**/*.c", "progs/x.c", true},
		{"progs/**/*.c", "progs/a/b/x.c", true},
		{"progs/*.c", "progs/a/x.c", false},
	} {
		if got, err := matchGlob(c.pat, c.rel); err != nil || got != c.want {
			t.Errorf("matchGlob(%q, %q) = %v, %v; want %v", c.pat, c.rel, got, err, c.want)
		}
	}
}

// TestCacheReloads: an edited config is read again, an invalid one is an
// error with the defaults, and a nearer config wins.
func TestCacheReloads(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "progs")
	os.MkdirAll(sub, 0o755)
	file := filepath.Join(sub, "a.bpf.c")
	var cache Cache
	if c, err := cache.For(file); err != nil || c.Path != "" {
		t.Fatalf("no config: %+v, %v", c, err)
	}
	cfgPath := filepath.Join(root, FileName)
	write := func(s string, age time.Duration) {
		os.WriteFile(cfgPath, []byte(s), 0o644)
		mt := time.Now().Add(-age)
		os.Chtimes(cfgPath, mt, mt)
	}
	write("checks: [all, -BL208]\n", time.Hour)
	c, err := cache.For(file)
	if err != nil || c.Rules().Enabled("BL208") {
		t.Fatalf("first read: enabled BL208 = %v, err %v", c.Rules().Enabled("BL208"), err)
	}
	write("checks: [all, -BL201]\n", 0)
	if c, _ := cache.For(file); !c.Rules().Enabled("BL208") || c.Rules().Enabled("BL201") {
		t.Error("the edited config was not read again")
	}
	write("checks: [nope]\n", 2*time.Hour)
	if c, err := cache.For(file); err == nil || c.Path != "" {
		t.Errorf("invalid config: %+v, %v; want an error and the defaults", c, err)
	}
	os.WriteFile(filepath.Join(sub, FileName), []byte("checks: [BL201]\n"), 0o644)
	if c, _ := cache.For(file); c.Dir() != sub {
		t.Errorf("nearest config: got %q, want the one in %s", c.Path, sub)
	}
}

func TestClassifier(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	named := write("a.bpf.c", "int x;")
	helpers := write("progs/b.c", "/* SPDX */\n#include <vmlinux.h>\n# include <bpf/bpf_helpers.h>\n")
	loader := write("loader.c", "#include <stdio.h>\n#include <bpf/libbpf.h>\n")
	dbBPF := write("src/c.c", "int y;")
	dbUser := write("src/d.c", "#include <bpf/bpf_helpers.h>\n")
	glob := write("extra/e.c", "int z;")
	write("build/compile_commands.json", `[
 {"directory": "`+dir+`", "file": "src/c.c", "command": "clang -g -O2 -target bpf -c src/c.c"},
 {"directory": "`+dir+`/src", "file": "d.c", "arguments": ["cc", "-c", "d.c"]}]`)
	write(FileName, "files: [\"extra/*.c\"]\n")
	cl := &Classifier{Configs: &Cache{}}
	for file, want := range map[string]bool{named: true, helpers: true, loader: false, dbBPF: true, dbUser: false, glob: true} {
		if got := cl.IsBPF(file, nil); got != want {
			t.Errorf("IsBPF(%s) = %v, want %v", file, got, want)
		}
	}
	files, err := cl.Expand([]string{dir, named})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{named, glob, helpers, dbBPF}
	if !slices.Equal(files, want) {
		t.Errorf("Expand = %v\nwant %v", files, want)
	}
	if _, err := cl.Expand([]string{filepath.Join(dir, "build")}); err == nil {
		t.Error("a directory without programs must be an error")
	}
}
