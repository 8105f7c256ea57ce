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
// internal/bench), and 400 less again while the server opens a file
// (below). The soft limit keeps the larger target from growing the
// resident set past what the command may use on big inputs. It returns
// the setting, zero when the user's stands.
func tuneGC(g gcTuning) gcTuning {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return gcTuning{}
	}
	debug.SetGCPercent(g.percent)
	debug.SetMemoryLimit(g.softLimit)
	return g
}

// gcTuning is a command's collector setting.
type gcTuning struct {
	percent   int
	softLimit int64 // where the collector goes back to working harder
	// closedLimit is the soft limit while the server analyses closed
	// files only (lsp.Options.ClosedMemoryLimit); 0 keeps softLimit.
	closedLimit int64
	// openingPercent is GOGC while the server analyses a document for the
	// first time (lsp.Options.OpeningGCPercent); 0 keeps percent.
	openingPercent int
}

var (
	// serveGC: the workspace pass over the selftests (go run
	// ./internal/bench -workspace-pass) peaked at 156 MB with a 144 MiB
	// limit, filled over its largest parse (93-96 MB live with the
	// parser's caches); collecting harder while closed files alone are
	// analysed holds it at 135-139 MB for about the same CPU (31-35 s
	// against 30-32 s, the machine loaded): 104 and 96 MiB gave 143-147
	// MB, no lower, as that parse's live heap is the floor. An open
	// document keeps its per-function translation and its last result
	// while the next is made: the biggest selftest
	// (tracing_struct_many_args.c, ~120 MB live) thrashed the collector
	// under 144 MiB (edits 0.4-0.6 s, opening 1.9-2.4 s), against
	// 0.05-0.1 s and 0.9 s at 256 MiB (241 MB RSS). Smaller files stay far
	// below it: GOGC decides their heap. A document's first analysis
	// builds its whole live heap (the ASTs) from a young, small one, which
	// at 200 the collector marked several times over: opening the
	// 5,000-line benchmark file took 97 ms against 88-90 at 400 (medians
	// of 7 runs, twice each). 400 throughout also made edits cheaper
	// (19-20 against 24-27 ms) but left linked_list.c at 140 MB after 15
	// edits (94 at 200), near the server's 150 MB budget.
	serveGC = gcTuning{percent: 200, softLimit: 256 << 20, closedLimit: 112 << 20, openingPercent: 400}
	// checkGC lets a batch run use more of its 300 MB budget: check on the
	// 798 selftests on two idle cores took 14.3-14.6 s wall, 27 s CPU and
	// 271 MB at 600/256 MiB, against 14.7-15.1 s, 28 s and 256 MB at
	// 400/240 MiB, 15-16 s and 207 MB at the server's 200/192 MiB; 800/280
	// MiB was faster still but passed 300 MB.
	checkGC = gcTuning{percent: 600, softLimit: 256 << 20}
)
