package realworld

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Config says what to run.
type Config struct {
	Source string // the extracted linux-source tree
	Cache  string // objects, headers and verdicts
	BpfLSP string // the bpf-lsp binary under test
	Loader string // LoaderFingerprint of the verifier code
	Jobs   int    // parallel clang, load and check runs
	// Files, when set, limits the run to sources whose base name or
	// tree-relative name matches one of these shell patterns.
	Files        []string
	CheckTimeout time.Duration
}

// Report is the outcome of one run.
type Report struct {
	Kernel      string          `json:"kernel"` // uname -r of the verdicts
	Loader      string          `json:"loader"`
	Subset      bool            `json:"subset,omitempty"` // --files limited the run
	CheckFlags  []string        `json:"checkFlags"`       // preprocessor flags passed to bpf-lsp check
	NoVerdicts  string          `json:"noVerdicts,omitempty"`
	Scores      Scores          `json:"scores"`
	Files       []FileResult    `json:"files"`
	Programs    []ProgramResult `json:"programs"`
	WallSeconds float64         `json:"wallSeconds"`
}

// Run builds, loads and checks the corpus. A missing capability for loading
// (no root, no kernel BTF) leaves the programs out and says why in
// Report.NoVerdicts; the file metrics are still measured.
func Run(ctx context.Context, cfg Config, log io.Writer) (*Report, error) {
	start := time.Now()
	corpus, err := Prepare(ctx, cfg.Source, cfg.Cache)
	if err != nil {
		return nil, err
	}
	sources := SelectSources(corpus.Sources, cfg.Files)
	if len(sources) == 0 {
		return nil, fmt.Errorf("no source matches --files %s", strings.Join(cfg.Files, ","))
	}
	kernel, err := NewKernel(cfg.BpfLSP, filepath.Join(cfg.Cache, "verdicts"), cfg.Loader)
	if err != nil {
		return nil, err
	}
	checker, err := NewChecker(ctx, cfg.BpfLSP, cfg.CheckTimeout)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kernel: kernel.Release, Loader: cfg.Loader, Subset: len(cfg.Files) > 0, CheckFlags: checker.Supported()}
	files := make([]FileResult, len(sources))
	for i, s := range sources {
		files[i].Name = s.Name
	}

	phase := time.Now()
	builds := make([]Build, len(sources))
	parallel(cfg.Jobs, len(sources), func(i int) { builds[i] = compile(ctx, sources[i], filepath.Join(cfg.Cache, "build", "obj")) })
	failed := 0
	for i, b := range builds {
		files[i].Compiled, files[i].CompileError = b.Object != "", b.Error
		if b.Object == "" {
			failed++
		}
	}
	fmt.Fprintf(log, "realworld: compiled %d files with %s (%d failed) in %.0fs\n", len(sources), Clang, failed, time.Since(phase).Seconds())

	phase = time.Now()
	verdicts := make([][]Verdict, len(sources))
	var capErr error
	var capOnce sync.Once
	parallel(cfg.Jobs, len(sources), func(i int) {
		if builds[i].Object == "" {
			return
		}
		t := time.Now()
		vs, err := kernel.Verdicts(ctx, builds[i].Object)
		files[i].LoadSeconds = time.Since(t).Seconds()
		var ce *CapabilityError
		switch {
		case errors.As(err, &ce):
			capOnce.Do(func() { capErr = err })
		case err != nil:
			vs = []Verdict{{Verdict: verifier.Failed, Message: err.Error()}}
		}
		verdicts[i] = vs
	})
	if capErr != nil {
		rep.NoVerdicts = capErr.Error()
		verdicts = make([][]Verdict, len(sources))
		fmt.Fprintf(log, "realworld: no kernel verdicts: %v\n", capErr)
	} else {
		n := 0
		for _, vs := range verdicts {
			n += len(vs)
		}
		fmt.Fprintf(log, "realworld: loaded %d programs into kernel %s in %.0fs\n", n, kernel.Release, time.Since(phase).Seconds())
	}

	phase = time.Now()
	runs := make([]CheckRun, len(sources))
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &before)
	parallel(cfg.Jobs, len(sources), func(i int) { runs[i] = checker.Run(ctx, sources[i]) })
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &after)
	checkWall := time.Since(phase).Seconds()
	fmt.Fprintf(log, "realworld: checked %d files with bpf-lsp in %.0fs\n", len(sources), checkWall)

	lock := lockCodes()
	for i, s := range sources {
		fileFromRun(&files[i], runs[i])
		progs := make([]*ProgramResult, len(verdicts[i]))
		names := make([]string, len(verdicts[i]))
		for j, v := range verdicts[i] {
			progs[j] = &ProgramResult{File: s.Name, Verdict: v}
			names[j] = v.Program
		}
		g := CallGraph{Programs: names}
		if needsCallGraph(&files[i], names) {
			if g, err = callGraph(ctx, s, names); err != nil {
				files[i].Attribution = err.Error() + "; findings in helpers are charged to no program"
				g = CallGraph{Programs: names}
			}
		}
		if src, err := os.ReadFile(s.Path); err == nil {
			files[i].UsesLocks = usesLocks(src)
		}
		attribute(&files[i], g, progs, lock)
		for _, p := range progs {
			rep.Programs = append(rep.Programs, *p)
		}
	}
	rep.Files = files
	rep.Scores = score(files, rep.Programs)
	rep.Scores.CheckWall = checkWall
	rep.Scores.CheckCPU = cpuSeconds(after) - cpuSeconds(before)
	rep.WallSeconds = time.Since(start).Seconds()
	return rep, nil
}

func cpuSeconds(r syscall.Rusage) float64 {
	return float64(r.Utime.Sec+r.Stime.Sec) + float64(r.Utime.Usec+r.Stime.Usec)/1e6
}

// SelectSources keeps the sources matching one of the patterns (all when
// there are none).
func SelectSources(all []Source, patterns []string) []Source {
	if len(patterns) == 0 {
		return all
	}
	var out []Source
	for _, s := range all {
		if slices.ContainsFunc(patterns, func(p string) bool {
			base, _ := path.Match(p, path.Base(s.Name))
			full, _ := path.Match(p, s.Name)
			return base || full
		}) {
			out = append(out, s)
		}
	}
	return out
}
