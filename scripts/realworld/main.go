// Command realworld runs the real-world corpus harness (package
// internal/realworld) and judges the run against the checked-in baseline;
// scripts/realworld.sh fetches the corpus and starts it.
//
// Exit status: 0 no regression, 1 a regression (or kernel verdicts missing
// when BPF_LSP_REQUIRE_KERNEL=1), 2 the harness could not run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/realworld"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
)

func main() { os.Exit(run()) }

func run() int {
	var cfg realworld.Config
	flag.StringVar(&cfg.Source, "source", "", "the extracted linux-source `dir`")
	flag.StringVar(&cfg.Cache, "cache", "", "cache `dir` for objects, headers and verdicts")
	flag.StringVar(&cfg.BpfLSP, "bpf-lsp", "bpf-lsp", "the bpf-lsp `binary` to measure")
	flag.IntVar(&cfg.Jobs, "jobs", 2, "parallel clang, load and check runs")
	flag.DurationVar(&cfg.CheckTimeout, "timeout", time.Minute, "kill a check run after this long (counted as an internal error)")
	repo := flag.String("repo", ".", "the bpf-lsp checkout (its verifier code keys the verdict cache)")
	baselinePath := flag.String("baseline", "testdata/realworld-baseline.json", "the baseline `file` to compare with")
	jsonPath := flag.String("json", "", "also write the full report to this `file`")
	files := flag.String("files", "", "only sources whose name matches one of these comma-separated shell `patterns` (no baseline update)")
	update := flag.Bool("update-baseline", false, "write this run as the new baseline")
	fromReport := flag.String("from-report", "", "judge (or make the baseline from) this earlier full run's JSON `report` instead of running")
	flag.Parse()
	if cfg.Source == "" || cfg.Cache == "" {
		fmt.Fprintln(os.Stderr, "realworld: --source and --cache are required (scripts/realworld.sh sets them)")
		return 2
	}
	if *files != "" {
		cfg.Files = strings.Split(*files, ",")
		if *update {
			fmt.Fprintln(os.Stderr, "realworld: --update-baseline needs the whole corpus, not --files")
			return 2
		}
	}
	var err error
	if cfg.Loader, err = realworld.LoaderFingerprint(*repo); err != nil {
		fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
		return 2
	}

	var rep *realworld.Report
	if *fromReport != "" {
		if rep, err = readReport(*fromReport); err != nil {
			fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
			return 2
		}
		if rep.Subset && *update {
			fmt.Fprintf(os.Stderr, "realworld: %s is from a --files run; the baseline needs the whole corpus\n", *fromReport)
			return 2
		}
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		if rep, err = realworld.Run(ctx, cfg, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
			return 2
		}
		lastPath := filepath.Join(cfg.Cache, "realworld.json")
		if last, err := readReport(lastPath); err == nil {
			realworld.PrintChanges(os.Stdout, "since the last run", realworld.Compare(realworld.NewBaseline(last), rep))
		}
		for _, p := range []string{lastPath, *jsonPath} {
			if p == "" {
				continue
			}
			if err := writeReport(p, rep); err != nil {
				fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
				return 2
			}
		}
	}

	base, err := realworld.ReadBaseline(*baselinePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		base = nil
	case err != nil:
		fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
		return 2
	}
	realworld.PrintDetails(os.Stdout, rep)
	fmt.Println()
	tableBase := base
	if rep.Subset {
		tableBase = nil // the baseline's numbers are the whole corpus's
	}
	realworld.PrintTable(os.Stdout, rep, tableBase)
	if *jsonPath != "" {
		fmt.Printf("\nper-file and per-program detail: %s\n", *jsonPath)
	}

	if *update {
		if err := realworld.NewBaseline(rep).Write(*baselinePath); err != nil {
			fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
			return 2
		}
		fmt.Printf("wrote %s\n", *baselinePath)
		return 0
	}
	code := 0
	if rep.NoVerdicts != "" && testenv.Required() {
		fmt.Printf("FAIL: kernel verdicts are required (%s=1): %s\n", testenv.RequireEnv, rep.NoVerdicts)
		code = 1
	}
	if base == nil {
		fmt.Printf("no baseline at %s: run `make realworld-update-baseline` to create it\n", *baselinePath)
		return code
	}
	if base.Kernel != rep.Kernel {
		fmt.Printf("note: the baseline's verdicts come from kernel %s, this run's from %s; programs whose verdict differs are not compared\n", base.Kernel, rep.Kernel)
	}
	cmp := realworld.Compare(base, rep)
	if files := cmp.RegressedFiles(); len(files) > 0 && *fromReport == "" {
		// A regression must reproduce: check those files once more.
		cfg.Files = files
		fmt.Fprintf(os.Stderr, "realworld: %d files regressed; running them again\n", len(files))
		again, err := realworld.Run(context.Background(), cfg, os.Stderr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "realworld: %v\n", err)
			return 2
		}
		cmp = cmp.Unconfirmed(realworld.Compare(base, again))
	}
	realworld.PrintChanges(os.Stdout, "against the baseline", cmp)
	if len(cmp.Regressions) > 0 {
		fmt.Printf("FAIL: %d regressions against %s\n", len(cmp.Regressions), *baselinePath)
		return 1
	}
	if len(cmp.Improvements) > 0 {
		fmt.Printf("%d improvements over the baseline: run `make realworld-update-baseline` to record them\n", len(cmp.Improvements))
	}
	return code
}

func readReport(path string) (*realworld.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r realworld.Report
	return &r, json.Unmarshal(data, &r)
}

func writeReport(path string, r *realworld.Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
