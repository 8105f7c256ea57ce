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
	// serveGC keeps the server near its memory target.
	serveGC = gcTuning{percent: 200, softLimit: 192 << 20}
	// checkGC lets a batch run use more of its 300 MB budget: check on the
	// 798 selftests spent 4-8% less CPU at 400/240 MiB than at 200/192 MiB
	// (254 against 207 MB max RSS).
	checkGC = gcTuning{percent: 400, softLimit: 240 << 20}
)
