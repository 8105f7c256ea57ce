// Command bench measures bpf-lsp's edit latency, CPU time and memory, in
// two modes.
//
// By default, side by side with clangd-19 and `clangd --sync` in the same
// run, on a small vmlinux.h program, generated 2,000- and 5,000-line files
// and kernel selftests: cold open -> first diagnostics, the median of warm
// edits -> diagnostics (the servers' edits interleaved, so machine load hits
// all of them alike), each server's CPU time per edit and peak RSS; the
// medians of -runs such runs, with bpf-lsp's ratios to clangd.
//
//	go run ./internal/bench -bin ./bpf-lsp [-runs 3] [-edits 15] [-files rbtree.c,linked_list.c] [-json out.json]
//
// With -corpus-edits, one bpf-lsp server session over every file of the
// real-world corpus (internal/realworld), as an editor with the corpus's
// compile database would run it: open, two edits inside the first function,
// close; cold and edit latency per file, the slowest files, peak RSS.
//
//	go run ./internal/bench -bin ./bpf-lsp -corpus-edits [-files 'rbtree*,tools/sched_ext/*'] [-json out.json]
//
// With -workspace-pass, one server's background analysis of the selftests'
// closed files (lsp/workspace.go), as an editor opening the directory
// starts it: the session's peak RSS and the pass's CPU time; with -files,
// the edit latency of the first file they match, open and edited during
// the pass.
//
//	go run ./internal/bench -bin ./bpf-lsp -workspace-pass [-files rbtree.c] [-json out.json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "./bpf-lsp", "the bpf-lsp binary")
	clangd := flag.String("clangd", "clangd-19", "the clangd binary")
	edits := flag.Int("edits", 15, "warm edits per file, server and run")
	runs := flag.Int("runs", 3, "interleaved runs per file; the table shows their medians")
	only := flag.String("files", "", "comma-separated case names to run (default all; 5000 lines for 5,000 lines); with -corpus-edits, shell patterns of corpus files (base or tree-relative name)")
	cache := flag.String("cache", filepath.Join(os.Getenv("HOME"), ".cache/bpf-lsp/realworld"), "the real-world corpus cache (scripts/realworld.sh fills it)")
	corpus := flag.String("corpus", "", "linux source tree (default CACHE/linux-source-6.12)")
	rw := flag.String("rw", "/tmp/rw", "directory with vmlinux.h and include/bpf/*.h for the selftest cases (as COMMON in the realworld harness)")
	corpusEdits := flag.Bool("corpus-edits", false, "one server over every corpus file: open, edit, close")
	pass := flag.Bool("workspace-pass", false, "one server's background analysis of the selftests' closed files: peak RSS and CPU of the pass; with -files, the first file they match is open and edited meanwhile")
	workspace := flag.Bool("workspace", false, "with -corpus-edits, leave the server's background analysis of the workspace's closed files on (editors' default; its CPU then counts in the edits')")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	timeout := flag.Duration("timeout", 120*time.Second, "longest wait for one publication")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	if *corpus == "" {
		*corpus = filepath.Join(*cache, "linux-source-6.12")
	}
	var patterns []string
	if *only != "" {
		patterns = strings.Split(*only, ",")
	}
	// Wall times move with the machine's load (CPU times much less):
	// the output says what the load was.
	out := output{Commit: sourceCommit(), LoadStart: loadAverage()}
	switch {
	case *pass:
		out.Pass, err = workspacePass(abs, *corpus, *cache, patterns, *timeout)
	case *corpusEdits:
		out.Corpus, err = corpusSession(abs, *corpus, *cache, patterns, *workspace, *timeout)
	default:
		out.Runs, out.Edits = *runs, *edits
		out.Cases, err = sideBySide(abs, *clangd, *corpus, *rw, patterns, *runs, *edits, *timeout)
	}
	if err != nil {
		fatal(err)
	}
	out.LoadEnd = loadAverage()
	fmt.Printf("\nbpf-lsp at %s; load average %s at the start, %s at the end.\n", out.Commit, out.LoadStart, out.LoadEnd)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			fatal(err)
		}
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			fatal(err)
		}
	}
}

// output is what -json writes.
type output struct {
	Commit    string        `json:"commit"`
	LoadStart string        `json:"loadAverageStart"` // 1, 5 and 15 minutes
	LoadEnd   string        `json:"loadAverageEnd"`
	Corpus    *corpusResult `json:"corpus,omitempty"`
	Pass      *passResult   `json:"workspacePass,omitempty"`
	Runs      int           `json:"runs,omitempty"`
	Edits     int           `json:"edits,omitempty"`
	Cases     []caseResult  `json:"cases,omitempty"`
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}

// sourceCommit names the checkout's commit ("-dirty" with uncommitted
// changes): the binary is built from it (make bench), and its --version
// says "devel" in a worktree.
func sourceCommit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "unknown commit"
	}
	return strings.TrimSpace(string(out))
}

// ms is a duration in milliseconds, as the tables and the JSON give them.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
