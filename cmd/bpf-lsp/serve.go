package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bpf-lsp/bpf-lsp/lsp"
)

// runServe runs the language server on stdin/stdout. The log goes to
// stderr (or --log-file), never to stdout, which carries the protocol.
// Editor settings (initializationOptions, didChangeConfiguration) are
// merged over these flags.
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	gc := tuneGC(serveGC)
	fs := newFlagSet("serve", "serve [-I dir] [-D name[=value]] [--log-file FILE] [--verify-on-save] [--clang PATH] [-v]", stderr)
	var includes, defines listFlag
	fs.Var(&includes, "I", "add `dir` to the include path")
	fs.Var(&defines, "D", "define macro `name[=value]`")
	logFile := fs.String("log-file", "", "write the server log to `file` instead of stderr")
	verify := fs.Bool("verify-on-save", false, "run the kernel cross-check when a file is saved")
	clang := fs.String("clang", "", "the C compiler for the cross-check (`path`; default clang-19, then clang)")
	var targetKernels listFlag
	fs.Var(&targetKernels, "kernel", kernelUsage+" (repeatable; the editor's targetKernels win)")
	verbose := fs.Bool("v", false, "log debug messages")
	fs.Bool("stdio", true, "speak LSP on stdin/stdout (the only transport; accepted for editors that pass it)")
	rest, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "bpf-lsp serve: unexpected argument %q (the server takes files from the editor)\n", rest[0])
		return 2
	}
	// A relative -I means the directory the editor started the server in.
	for i, dir := range includes {
		if abs, err := filepath.Abs(dir); err == nil {
			includes[i] = abs
		}
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
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	lsp.Version = versionString()
	return lsp.Serve(context.Background(), stdio{stdin, stdout}, lsp.Options{
		Logger:            slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level})),
		ClosedMemoryLimit: gc.closedLimit,
		OpeningGCPercent:  gc.openingPercent,
		Settings:          lsp.Settings{IncludeDirs: includes, Defines: defines, VerifyOnSave: *verify, ClangPath: *clang, TargetKernels: targetKernels},
	})
}

// stdio joins stdin and stdout into the stream the server speaks on.
type stdio struct {
	io.Reader
	io.Writer
}

// Close closes stdin, which ends a read blocked on it when the platform
// allows (the server gives up waiting after a moment otherwise); stdout
// stays open for the process's last writes.
func (s stdio) Close() error {
	if c, ok := s.Reader.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
