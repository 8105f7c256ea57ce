package config

import (
	"embed"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed init/bpf_lsp.h init/bpf-lsp.yaml
var initFS embed.FS

// initFiles are the embedded files and the names Init writes them as.
var initFiles = []struct{ src, name string }{{"init/bpf_lsp.h", "bpf_lsp.h"}, {"init/bpf-lsp.yaml", FileName}}

// Init writes bpf_lsp.h (the annotation macros and graph kfunc
// declarations) and a commented .bpf-lsp.yaml into dir. Existing files are
// kept unless force is set. It returns the files written and those kept.
func Init(dir string, force bool) (written, kept []string, err error) {
	for _, f := range initFiles {
		dst := filepath.Join(dir, f.name)
		if _, err := os.Stat(dst); err == nil && !force {
			kept = append(kept, dst)
			continue
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return written, kept, err
		}
		data, err := initFS.ReadFile(f.src)
		if err != nil {
			return written, kept, err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return written, kept, err
		}
		written = append(written, dst)
	}
	return written, kept, nil
}
