// Command bpf-lsp checks BPF C programs for lock mistakes: as a CLI
// (check, verify) and as a language server (serve, the default).
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "devel"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code:
// 0 no error-severity finding, 1 findings, 2 usage or internal error,
// 3 a capability the command needs is missing (verify).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runServe(nil, stdin, stdout, stderr)
	}
	switch args[0] {
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "bpf-lsp %s\n", version)
		return 0
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "bpf-lsp: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `bpf-lsp finds lock mistakes in BPF C programs.

Usage:
  bpf-lsp                      run the language server on stdio (same as serve)
  bpf-lsp check [flags] PATH...   report findings (a directory means every *.bpf.c under it)
  bpf-lsp verify [flags] PATH...  compile, load every program into the kernel verifier, compare
  bpf-lsp serve [flags]        run the language server on stdio
  bpf-lsp version              print the version
  bpf-lsp help                 print this help

Run "bpf-lsp COMMAND -h" for a command's flags.
Exit codes: 0 no error finding, 1 findings, 2 usage or internal error, 3 missing capability (verify).
`)
}
