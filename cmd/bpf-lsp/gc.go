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
// resident set past what the default would reach on big inputs. check on
// the 798 selftests: 24.6 s wall, 48 s CPU, 206 MB, against 28.9 s, 57 s
// and 347 MB with the defaults.
//
// The server keeps the same limit. Its peak, in the workspace pass, is
// the parser's caches plus the largest single parse (a live heap of
// 150-157 MB on the selftests); a lower limit cannot go under that, it
// only makes the collector run more: at 128 MiB the pass over the
// selftests still peaked at 199-200 MB RSS and took 58-66 s of CPU
// instead of 34-37 s. One open file peaks at 88-103 MB either way.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(200)
	debug.SetMemoryLimit(gcSoftLimit)
}

// gcSoftLimit is where the collector goes back to working harder.
const gcSoftLimit = 192 << 20
