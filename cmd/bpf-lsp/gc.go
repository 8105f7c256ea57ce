package main

import (
	"os"
	"runtime/debug"
)

// tuneGC trades memory for CPU in the collector unless the user set GOGC
// or GOMEMLIMIT. A parse allocates 20-90 MB that die with it (cc/v4's
// tokens and AST nodes) over a small long-lived heap (the vmlinux.h index,
// header texts), so the default GOGC=100 collects several times per parse:
// at 200 an edit costs 10-20% less CPU (BenchmarkWarmEdit in
// internal/bench). The soft limit (softLimit) keeps the larger target from
// growing the resident set past what the command may use.
func tuneGC(softLimit int64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(200)
	debug.SetMemoryLimit(softLimit)
}

const (
	// checkSoftLimit: check on the 798 selftests took 24.6 s wall, 48 s
	// CPU and 206 MB with it, against 28.9 s, 57 s and 347 MB with the
	// defaults (two parses at once: both cores).
	checkSoftLimit = 192 << 20

	// serveSoftLimit is issue 13's 150 MB resident target less room for
	// what the limit does not count (the binary's pages). One open file
	// never reaches it (88-103 MB over edits of the biggest selftests, the
	// same CPU per edit). The workspace pass over the selftests does: its
	// peak is the parser's caches under the largest single parse (about
	// 100 MB live), which no limit can go below. At a42f117 the pass
	// peaked at 176 MB RSS and took 34 s of CPU, against 201 MB and 29 s
	// with 192 MiB; 128 MiB gave 171 MB for 40 s.
	serveSoftLimit = 144 << 20
)
