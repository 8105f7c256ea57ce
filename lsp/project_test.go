package lsp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/config"
)

// TestProjectConfigLiveReload: the server applies .bpf-lsp.yaml, and an
// edit of it (announced by didChangeWatchedFiles) changes the published
// diagnostics without a restart; a broken config is shown to the user.
func TestProjectConfigLiveReload(t *testing.T) {
	src, err := os.ReadFile("../testdata/demo/queue.bpf.c")
	if err != nil {
		t.Fatal(err)
	}
	path, text := filepath.Join(t.TempDir(), "queue.bpf.c"), string(src)
	os.WriteFile(path, src, 0o644)
	cfgPath := filepath.Join(filepath.Dir(path), config.FileName)
	c := startServer(t, clientOptions{})
	u := c.open(path, text)
	all := codes(c.waitDiags(u, 1))
	if len(all) < 2 {
		t.Fatalf("the fixture must have at least two findings, got %v", all)
	}
	first := strings.Split(all[0], "@")[0]

	write := func(s string) {
		if err := os.WriteFile(cfgPath, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("checks: [all, -" + first + "]\n")
	c.notifyServer("workspace/didChangeWatchedFiles", map[string]any{"changes": []map[string]any{{"uri": "file://" + cfgPath, "type": 1}}})
	c.change(u, 2, text)
	got := codes(c.waitDiags(u, 2))
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, first+"@") }) || len(got) == 0 {
		t.Errorf("with %s turned off: %v (before: %v)", first, got, all)
	}

	write("checks: [nope]\n")
	c.change(u, 3, text)
	if got := codes(c.waitDiags(u, 3)); !slices.Equal(got, all) {
		t.Errorf("a broken config must fall back to the defaults: %v, want %v", got, all)
	}
	c.waitFor("window/showMessage about the broken config", func() bool { return slices.Contains(c.received, "window/showMessage") })

	write("ignore:\n  - files: [\"*.bpf.c\"]\n    reason: test\n")
	c.change(u, 4, text)
	if got := codes(c.waitDiags(u, 4)); len(got) != 0 {
		t.Errorf("a file-wide ignore must clear the diagnostics: %v", got)
	}
}
