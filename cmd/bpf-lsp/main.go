// Command bpf-lsp checks BPF C programs for lock mistakes: as a CLI
// (check, verify, explain, init) and as a language server (serve, the
// default).
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"golang.org/x/sys/unix"
)

// version is set at build time with -ldflags "-X main.version=..."; when
// it is not, versionString reads the module version and VCS revision the
// go command records in the binary.
var version = ""

func main() {
	os.Exit(heapProfiled(func() int {
		return profiled(func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) })
	}))
}

// profiled runs f, writing a CPU profile to $BPF_LSP_CPUPROFILE when it is
// set (as gopls's -profile.cpu does): performance reports from users need
// one, and the benchmarks read it.
func profiled(f func() int) int {
	path := os.Getenv("BPF_LSP_CPUPROFILE")
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bpf-lsp: BPF_LSP_CPUPROFILE: %v\n", err)
		return f()
	}
	defer out.Close()
	if err := pprof.StartCPUProfile(out); err != nil {
		fmt.Fprintf(os.Stderr, "bpf-lsp: BPF_LSP_CPUPROFILE: %v\n", err)
		return f()
	}
	defer pprof.StopCPUProfile()
	return f()
}

// heapProfiled runs f, then writes a heap profile to $BPF_LSP_MEMPROFILE
// when it is set (gopls's -profile.mem): what is still reachable when the
// command ends (pprof -sample_index=inuse_space: the long-lived heap under
// every parse) and what was allocated over its run (alloc_space: where the
// garbage, and so the peak between collections, comes from).
func heapProfiled(f func() int) int {
	code := f()
	path := os.Getenv("BPF_LSP_MEMPROFILE")
	if path == "" {
		return code
	}
	runtime.GC() // the in-use figures are those of the last collection
	out, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bpf-lsp: BPF_LSP_MEMPROFILE: %v\n", err)
	}
	return code
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
		return runCheck(args[1:], stdin, stdout, stderr)
	case "verify":
		return runVerify(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdin, stdout, stderr)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "init":
		return runInit(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "bpf-lsp %s\n", versionString())
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
  bpf-lsp                         run the language server on stdio (same as serve)
  bpf-lsp check [flags] PATH...   report findings (a directory means every BPF program under it)
  bpf-lsp verify [flags] PATH...  compile, load every program into the kernel verifier, compare
  bpf-lsp serve [flags]           run the language server on stdio
  bpf-lsp explain [CODE...]       print a rule's documentation (no CODE: list the rules)
  bpf-lsp init [-force] [DIR]     write bpf_lsp.h and a commented .bpf-lsp.yaml into DIR
  bpf-lsp version                 print the version
  bpf-lsp help                    print this help

Run "bpf-lsp COMMAND -h" for a command's flags. Settings shared by every
command live in .bpf-lsp.yaml (found upward from each file); flags win.
Exit codes: 0 no error finding, 1 findings, 2 usage or internal error, 3 missing capability (verify).
`)
}

// versionString is the -ldflags version, else what the go command
// recorded: the module version (a pseudo-version with +dirty for a
// modified tree) and the VCS revision and time.
func versionString() string {
	if version != "" {
		return version
	}
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(bi)
}

func buildVersion(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	short := rev[:min(12, len(rev))]
	if strings.Contains(v, short) {
		return strings.TrimSpace(v + " " + when) // a pseudo-version names the commit already
	}
	if modified {
		short += "+dirty"
	}
	return strings.TrimSpace(v + " " + short + " " + when)
}

// isTerminal reports whether w is a terminal (progress lines and color
// are for people, not pipes).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
