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
// internal/bench). The soft limit keeps the larger target from growing the
// resident set past what the command may use on big inputs.
func tuneGC(g gcTuning) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(g.percent)
	debug.SetMemoryLimit(g.softLimit)
}

// gcTuning is a command's collector setting.
type gcTuning struct {
	percent   int
	softLimit int64 // where the collector goes back to working harder
}

var (
	// serveGC keeps the server near its 150 MB resident target: the
	// limit is that less room for what it does not count (the binary's
	// pages). One open file never reaches it (88-103 MB over edits of the
	// biggest selftests, the same CPU per edit). The workspace pass over
	// the selftests does: its peak is the parser's caches under the
	// largest single parse (about 100 MB live), which no limit can go
	// below. At a42f117 the pass peaked at 176 MB RSS and took 34 s of
	// CPU, against 201 MB and 29 s with 192 MiB; 128 MiB gave 171 MB for
	// 40 s.
	serveGC = gcTuning{percent: 200, softLimit: 144 << 20}
	// checkGC lets a batch run use more of its 300 MB budget: check on the
	// 798 selftests on two idle cores took 14.3-14.6 s wall, 27 s CPU and
	// 271 MB at 600/256 MiB, against 14.7-15.1 s, 28 s and 256 MB at
	// 400/240 MiB, 15-16 s and 207 MB at the server's 200/192 MiB; 800/280
	// MiB was faster still but passed 300 MB.
	checkGC = gcTuning{percent: 600, softLimit: 256 << 20}
)
