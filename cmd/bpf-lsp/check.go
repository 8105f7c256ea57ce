package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"sync"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/report"
)

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [-I dir] [-D name[=value]] [--kernel running|VERSION|PATH] [--format text|json|sarif] PATH...", stderr)
	var cf cFlags
	cf.register(fs)
	format := fs.String("format", "text", "output `format`: text, json or sarif")
	compileDB := fs.String("compile-commands", "", "use this compile_commands.json or compile_flags.txt `path` instead of searching upward")
	kernel := fs.String("kernel", "", kernelUsage)
	paths, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" && *format != "sarif" {
		fmt.Fprintf(stderr, "bpf-lsp check: unknown format %q (want text, json or sarif)\n", *format)
		return 2
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	files, err := expandPaths(paths)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
		return 2
	}

	target, err := openTarget(*kernel)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	parser := cparse.NewParser(cf.parserOptions(*compileDB))
	findings, err := checkFiles(ctx, parser, target, files)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
		return 2
	}

	cwd, _ := os.Getwd()
	paths2 := report.Paths{Dir: cwd}
	switch *format {
	case "json":
		err = report.JSON(stdout, paths2, findings)
	case "sarif":
		err = report.SARIF(stdout, paths2, version, analysis.Rules(), findings)
	default:
		err = report.Text(stdout, paths2, findings)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: write output: %v\n", err)
		return 2
	}
	for _, f := range findings {
		if f.Severity == analysis.SevError {
			return 1
		}
	}
	return 0
}

// checkFiles parses and analyses files in parallel and returns all findings
// in file order, each file's in position order.
func checkFiles(ctx context.Context, parser *cparse.Parser, target *kernels.Target, files []string) ([]analysis.Finding, error) {
	perFile := make([][]analysis.Finding, len(files))
	errs := make([]error, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				perFile[i], errs[i] = checkFile(ctx, parser, target, files[i])
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var all []analysis.Finding
	for _, fs := range perFile {
		all = append(all, fs...)
	}
	return all, nil
}

func checkFile(ctx context.Context, parser *cparse.Parser, target *kernels.Target, path string) ([]analysis.Finding, error) {
	f, err := parser.Parse(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	findings := analysis.FrontendFindings(f)
	findings = append(findings, findingsFor(f, target)...)
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i].Span, findings[j].Span
		if a.File != b.File {
			if a.File == path || b.File == path {
				return a.File == path // the main file first, then headers
			}
			return a.File < b.File
		}
		return a.Start.Offset < b.Start.Offset
	})
	return findings, nil
}
