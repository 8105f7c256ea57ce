package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
)

type serverSpec struct {
	name string
	argv []string
	init any // initializationOptions
}

// measure is one server's numbers on one file in one run, or their
// medians over the runs.
type measure struct {
	ColdMs float64 `json:"coldMs"` // didOpen -> first publication
	WarmMs float64 `json:"warmMs"` // median didChange -> publication of that version
	// CPUMsPerEdit is the server's user+system time over the warm edits
	// divided by their number: the cost of a rebuild, whatever the
	// server's debounce.
	CPUMsPerEdit float64 `json:"cpuMsPerEdit"`
	PeakRSSMB    int     `json:"peakRssMB"`
}

type serverResult struct {
	Server string    `json:"server"`
	Runs   []measure `json:"runs"`
	Median *measure  `json:"median,omitempty"` // nil when no run finished
	Errors []string  `json:"errors,omitempty"`
}

type caseResult struct {
	File    string         `json:"file"`
	Skipped string         `json:"skipped,omitempty"`
	Servers []serverResult `json:"servers,omitempty"`
}

// sideBySide runs every case against bpf-lsp, clangd and `clangd --sync`
// (when clangd is installed), runs times each, and prints the table of
// medians and bpf-lsp's ratios.
func sideBySide(bin, clangd, corpus, rw string, only []string, runs, edits int, timeout time.Duration) ([]caseResult, error) {
	// Background work on closed files off in both: clangd's index,
	// bpf-lsp's workspace pass.
	servers := []serverSpec{{"bpf-lsp", []string{bin, "serve"}, map[string]any{"workspaceDiagnostics": false}}}
	if _, err := exec.LookPath(clangd); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s not found (apt-get install clangd-19): bpf-lsp alone\n", clangd)
	} else {
		base := []string{clangd, "--log=error", "--background-index=false"}
		servers = append(servers, serverSpec{"clangd", base, nil}, serverSpec{"clangd --sync", append(slices.Clone(base), "--sync"), nil})
	}
	var out []caseResult
	for _, c := range cases(corpus, rw) {
		// "5,000 lines" is also "5000 lines": -files splits at commas.
		if len(only) > 0 && !slices.Contains(only, c.name) && !slices.Contains(only, strings.ReplaceAll(c.name, ",", "")) {
			continue
		}
		cr := caseResult{File: c.name}
		res := make([]serverResult, len(servers))
		for i, s := range servers {
			res[i].Server = s.name
		}
		for r := range runs {
			skip, err := runCase(c, func(path, src string) {
				ms, errs := run(servers, path, src, edits, timeout)
				for i := range servers {
					if errs[i] != nil {
						res[i].Errors = append(res[i].Errors, errs[i].Error())
						fmt.Fprintf(os.Stderr, "bench: %s run %d: %s: %v\n", c.name, r+1, servers[i].name, errs[i])
						continue
					}
					res[i].Runs = append(res[i].Runs, ms[i])
					fmt.Fprintf(os.Stderr, "bench: %s run %d: %-13s cold %7.0f ms, warm %7.1f ms, CPU %7.1f ms/edit, peak RSS %d MB\n",
						c.name, r+1, servers[i].name, ms[i].ColdMs, ms[i].WarmMs, ms[i].CPUMsPerEdit, ms[i].PeakRSSMB)
				}
			})
			if err != nil {
				return out, err
			}
			if skip != "" {
				cr.Skipped = skip
				break
			}
		}
		for i := range res {
			res[i].Median = medianOf(res[i].Runs)
		}
		if cr.Skipped == "" {
			cr.Servers = res
		}
		out = append(out, cr)
	}
	printTable(out, runs, edits)
	return out, nil
}

// runCase sets the case up in a fresh directory and calls measure on it,
// or returns why it cannot run here.
func runCase(c benchCase, measure func(path, src string)) (skip string, err error) {
	dir, err := os.MkdirTemp("", "bpf-lsp-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	path, src, skip := c.setup(dir)
	if skip == "" {
		measure(path, src)
	}
	return skip, nil
}

// run starts every server on path, times the open in each, then makes the
// same edits in turn in each server (one edit, every server, next edit).
// A server that fails is left out of the rest of the run.
func run(specs []serverSpec, path, src string, edits int, timeout time.Duration) ([]measure, []error) {
	out := make([]measure, len(specs))
	errs := make([]error, len(specs))
	live := make([]*lspclient.Server, len(specs))
	defer func() {
		for _, s := range live {
			if s != nil {
				s.Stop() // shutdown and exit: BPF_LSP_CPUPROFILE is written at exit
			}
		}
	}()
	uri := lspclient.FileURI(path)
	for i, spec := range specs {
		s, err := lspclient.Start(lspclient.Config{Argv: spec.argv, Dir: filepath.Dir(path), InitOptions: spec.init})
		if err != nil {
			errs[i] = err
			continue
		}
		live[i] = s
		t0 := time.Now()
		s.Open(uri, src)
		if _, ok := s.WaitVersion(uri, 1, timeout); !ok {
			errs[i] = fmt.Errorf("no diagnostics after opening (%v)", timeout)
			continue
		}
		out[i].ColdMs = ms(time.Since(t0))
	}
	warm := make([][]float64, len(specs))
	cpu0 := make([]time.Duration, len(specs))
	for i, s := range live {
		if s != nil && errs[i] == nil {
			cpu0[i] = s.CPUTime()
		}
	}
	for v := int32(2); v <= int32(edits)+1; v++ {
		// A user typing inside a function (the first, as in the corpus
		// session): a comment between declarations is no edit for a server
		// that re-analyses only what changed. Each version's text differs,
		// so no server can skip it.
		text, _ := editInFunction(src, "edit "+strconv.Itoa(int(v)))
		for i, s := range live {
			if s == nil || errs[i] != nil {
				continue
			}
			t0 := time.Now()
			s.Replace(uri, v, text)
			if _, ok := s.WaitVersion(uri, v, timeout); !ok {
				errs[i] = fmt.Errorf("no diagnostics for version %d (%v)", v, timeout)
				continue
			}
			warm[i] = append(warm[i], ms(time.Since(t0)))
		}
	}
	for i, s := range live {
		if s == nil || errs[i] != nil {
			continue
		}
		out[i].WarmMs = median(warm[i])
		out[i].CPUMsPerEdit = ms(s.CPUTime()-cpu0[i]) / float64(edits)
		_, peak := s.RSS()
		out[i].PeakRSSMB = peak / 1024
	}
	return out, errs
}

// medianOf is the per-metric median of the runs, nil when there are none.
func medianOf(runs []measure) *measure {
	if len(runs) == 0 {
		return nil
	}
	pick := func(f func(measure) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	return &measure{
		ColdMs:       pick(func(m measure) float64 { return m.ColdMs }),
		WarmMs:       pick(func(m measure) float64 { return m.WarmMs }),
		CPUMsPerEdit: pick(func(m measure) float64 { return m.CPUMsPerEdit }),
		PeakRSSMB:    int(pick(func(m measure) float64 { return float64(m.PeakRSSMB) })),
	}
}

// median is the middle value (the upper one of an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// printTable prints the medians as issue 13's table: bpf-lsp's numbers and
// its ratios to clangd (below 1: bpf-lsp is faster or smaller).
func printTable(results []caseResult, runs, edits int) {
	fmt.Printf("\nMedians of %d interleaved runs, %d warm edits each; ratio = bpf-lsp / clangd.\n\n", runs, edits)
	fmt.Println("| file | cold ms bpf-lsp / clangd (ratio) | warm ms bpf-lsp / clangd (ratio) | warm vs `clangd --sync` | CPU ms per edit bpf-lsp / `clangd --sync` (ratio) | peak RSS MB bpf-lsp / clangd |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, c := range results {
		if c.Skipped != "" {
			fmt.Printf("| %s | skipped: %s | | | | |\n", c.File, c.Skipped)
			continue
		}
		get := func(name string) (*measure, string) {
			for _, s := range c.Servers {
				if s.Server == name {
					if s.Median == nil && len(s.Errors) > 0 {
						return nil, s.Errors[0]
					}
					return s.Median, ""
				}
			}
			return nil, ""
		}
		b, bErr := get("bpf-lsp")
		d, _ := get("clangd")
		sy, _ := get("clangd --sync")
		if b == nil {
			fmt.Printf("| %s | bpf-lsp failed: %s | | | | |\n", c.File, bErr)
			continue
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", c.File,
			pair(b.ColdMs, d, func(m *measure) float64 { return m.ColdMs }, "%.0f"),
			pair(b.WarmMs, d, func(m *measure) float64 { return m.WarmMs }, "%.1f"),
			pair(b.WarmMs, sy, func(m *measure) float64 { return m.WarmMs }, "%.1f"),
			pair(b.CPUMsPerEdit, sy, func(m *measure) float64 { return m.CPUMsPerEdit }, "%.1f"),
			rss(b, d))
	}
}

// pair renders "ours / theirs (ratio)", or ours alone when the other
// server has no result.
func pair(ours float64, other *measure, get func(*measure) float64, format string) string {
	if other == nil {
		return fmt.Sprintf(format, ours)
	}
	theirs := get(other)
	ratio := "∞"
	if theirs > 0 {
		ratio = fmt.Sprintf("%.2f", ours/theirs)
	}
	return fmt.Sprintf(format+" / "+format+" (%s)", ours, theirs, ratio)
}

func rss(b, d *measure) string {
	if d == nil {
		return strconv.Itoa(b.PeakRSSMB)
	}
	return fmt.Sprintf("%d / %d", b.PeakRSSMB, d.PeakRSSMB)
}
