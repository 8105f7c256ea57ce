package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/bpf-lsp/bpf-lsp/lsp"
)

func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", "serve [-I dir] [-D name[=value]] [--log-file FILE] [--verify-on-save]", stderr)
	var includes, defines listFlag
	fs.Var(&includes, "I", "add `dir` to the include path")
	fs.Var(&defines, "D", "define macro `name[=value]`")
	logFile := fs.String("log-file", "", "write the server log to `file` instead of stderr")
	verify := fs.Bool("verify-on-save", false, "run the kernel cross-check when a file is saved")
	clang := fs.String("clang", "", "the C compiler for the cross-check (`path`)")
	fs.Bool("stdio", true, "speak LSP on stdin/stdout (the only transport; accepted for editors that pass it)")
	if _, code, ok := parseArgs(fs, args); !ok {
		return code
	}
	logOut := stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "bpf-lsp serve: %v\n", err)
			return 2
		}
		defer f.Close()
		logOut = f
	}
	// Parsing allocates a lot of short-lived memory; collecting less often
	// trades a little heap for latency.
	debug.SetGCPercent(200)
	lsp.Version = version
	return lsp.Serve(context.Background(), stdio{stdin, stdout}, lsp.Options{
		Logger:   slog.New(slog.NewTextHandler(logOut, nil)),
		Settings: lsp.Settings{IncludeDirs: includes, Defines: defines, VerifyOnSave: *verify, ClangPath: *clang},
	})
}

// stdio joins stdin and stdout into the stream the server speaks on.
type stdio struct {
	io.Reader
	io.Writer
}

func (stdio) Close() error { return nil }
