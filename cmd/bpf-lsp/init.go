package main

import (
	"fmt"
	"io"

	"github.com/bpf-lsp/bpf-lsp/config"
)

// runInit writes bpf_lsp.h and a commented .bpf-lsp.yaml into a project.
func runInit(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", "init [-force] [DIR]", stderr)
	force := fs.Bool("force", false, "overwrite existing files")
	dirs, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	dir := "."
	switch len(dirs) {
	case 0:
	case 1:
		dir = dirs[0]
	default:
		fs.Usage()
		return 2
	}
	written, kept, err := config.Init(dir, *force)
	for _, f := range written {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	for _, f := range kept {
		fmt.Fprintf(stdout, "kept %s (exists; -force overwrites)\n", f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp init: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout, `Include "bpf_lsp.h" after vmlinux.h and <bpf/bpf_helpers.h> for private(), __contains, __guarded_by and the graph kfuncs.`)
	return 0
}
