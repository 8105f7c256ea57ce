package cparse

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Options.Args are clang flags as an editor passes them: relative paths are
// relative to ArgsDir, and each flag means what it means to clang.
func TestOptionsArgs(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"sys/a.h":   "#define FROM_ISYSTEM 1\n",
		"after/b.h": "#define FROM_IDIRAFTER 1\n",
		"prog.c":    "#include <a.h>\n#include <b.h>\nint x = FROM_ISYSTEM + FROM_IDIRAFTER + FROM_D;\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := NewParser(Options{Args: []string{"-isystem", "sys", "-idirafter", "after", "-DFROM_D=1"}, ArgsDir: dir})
	f, err := p.Parse(context.Background(), filepath.Join(dir, "prog.c"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range f.Errors {
		t.Errorf("%d:%d: %s", e.Span.Start.Line, e.Span.Start.Col, e.Message)
	}
	want := []string{"-isystem", filepath.Join(dir, "sys"), "-idirafter", filepath.Join(dir, "after"), "-DFROM_D=1"}
	for _, w := range want {
		found := false
		for _, a := range f.Flags {
			if a == w {
				found = true
			}
		}
		if !found {
			t.Errorf("flags %q lack %q", f.Flags, w)
		}
	}
}
