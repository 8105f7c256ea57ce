package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/report"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	tuneGC(checkGC)
	fs := newFlagSet("check", "check [-I dir] [-D name[=value]] [-checks list] [--kernel running|VERSION|PATH] [--format text|json|sarif] [--color auto|always|never] PATH...", stderr)
	var cf cFlags
	cf.register(fs)
	format := fs.String("format", "text", "output `format`: text, json or sarif")
	compileDB := fs.String("compile-commands", "", "use this compile_commands.json or compile_flags.txt `path` instead of searching upward")
	checks := fs.String("checks", "inherit", "rules to report, staticcheck syntax: `list` such as all,-BL208 (inherit = the config file's)")
	stdinName := fs.String("stdin-filename", "", "read the text of the one PATH from stdin (an editor's unsaved buffer); `path` names it")
	kernel := fs.String("kernel", "", kernelUsage)
	color := fs.String("color", "auto", "color the text output: `when` (auto: on a terminal, unless NO_COLOR is set; always; never)")
	stats := fs.Bool("stats", false, "print each file's parse and analysis time and the analysis's work (states explored, pruned) to stderr")
	paths, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" && *format != "sarif" {
		fmt.Fprintf(stderr, "bpf-lsp check: unknown format %q (want text, json or sarif)\n", *format)
		return 2
	}
	useColor, err := colorWanted(*color, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
		return 2
	}
	terms := config.ParseChecks(*checks)
	if _, err := config.NewSelection(nil, terms); err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: -checks: %v\n", err)
		return 2
	}
	if len(paths) == 0 && *stdinName == "" {
		fs.Usage()
		return 2
	}
	opts := cf.parserOptions(*compileDB)
	// A file's own preamble pays off when its region is parsed again and
	// again, as in an editor; check parses each file once (on the 825
	// kernel selftests, such preambles cost 129 s of CPU against 93 s
	// without). Files that start alike share one instead (shareHeaders).
	opts.NoPreamble = true
	proj := newProject(opts, terms)
	if proj.targets, err = newTargetCache(*kernel); err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: --kernel: %v\n", err)
		return 2
	}
	var files []string
	if *stdinName != "" {
		if files, err = stdinFile(proj, *stdinName, paths, stdin); err != nil {
			fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
			return 2
		}
	} else if files, err = proj.classifier.Expand(paths); err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: %v\n", err)
		return 2
	}

	proj.shareHeaders(files)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cwd, _ := os.Getwd()
	out := newFindingWriter(*format, stdout, report.Paths{Dir: cwd}, useColor)
	prog := newProgress(stderr, len(files))
	exit := 0
	check := func(i int) fileResult { return checkFile(ctx, proj, files[i]) }
	checkFiles(ctx, len(files), check, func(i int, r fileResult) {
		prog.clear()
		if r.configErr != nil {
			fmt.Fprintf(stderr, "bpf-lsp check: %v\n", r.configErr)
			exit = 2
		}
		if r.err != nil {
			fmt.Fprintf(stderr, "bpf-lsp check: %v\n", r.err)
			exit = 2
		}
		if *stats && r.stats != "" {
			fmt.Fprintf(stderr, "%s: %s\n", files[i], r.stats)
		}
		if err := out.write(r.findings); err != nil && exit == 0 {
			fmt.Fprintf(stderr, "bpf-lsp check: write output: %v\n", err)
			exit = 2
		}
		for _, f := range r.findings {
			if f.Severity == analysis.SevError && exit == 0 {
				exit = 1
			}
		}
		prog.update(i+1, files[i])
	})
	prog.clear()
	if err := out.close(); err != nil {
		fmt.Fprintf(stderr, "bpf-lsp check: write output: %v\n", err)
		return 2
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "bpf-lsp check: interrupted")
		return 2
	}
	return exit
}

// project is what checking a file needs beyond its path: the configs that
// apply, a parser per config (its compile flag edits differ), and the
// command line's rule selection over each config's.
type project struct {
	base       cparse.Options
	cliChecks  []string
	configs    *config.Cache
	classifier *config.Classifier

	overlay map[string][]byte // unsaved text by absolute path (--stdin-filename)

	mu      sync.Mutex
	parsers map[string]*cparse.Parser // by config file path
	reports map[string]error          // config errors already reported, by path
	targets *targetCache              // target kernels per config (kernels.go)
}

func newProject(base cparse.Options, cliChecks []string) *project {
	configs := &config.Cache{}
	return &project{base: base, cliChecks: cliChecks, configs: configs, classifier: &config.Classifier{Configs: configs, Base: base},
		parsers: map[string]*cparse.Parser{}, reports: map[string]error{}}
}

// forFile returns the config for file, its parser, its rule selection
// (the command line over the config) and the config's error if it is the
// first file to meet it.
func (p *project) forFile(file string) (*config.Config, *cparse.Parser, *config.Selection, error) {
	cfg, err := p.configs.For(file)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, seen := p.reports[cfg.Path]; seen {
		err = nil
	} else {
		p.reports[cfg.Path] = err
	}
	// Validated in runCheck; a selection over a valid one cannot fail.
	sel, _ := config.NewSelection(cfg.Rules(), p.cliChecks)
	return cfg, p.parserLocked(cfg), sel, err
}

// parserLocked returns the parser of cfg. One parser per config file (""
// for none), so files share its caches (the vmlinux.h index, header texts,
// trimming seeds).
func (p *project) parserLocked(cfg *config.Config) *cparse.Parser {
	parser, ok := p.parsers[cfg.Path]
	if !ok {
		parser = cparse.NewParser(cfg.ParserOptions(p.base))
		p.parsers[cfg.Path] = parser
	}
	return parser
}

// shareHeaders lets each parser plan the preambles its files share
// (cparse.Parser.ShareHeaders): the files are checked in this order.
func (p *project) shareHeaders(files []string) {
	byParser := map[*cparse.Parser][]string{}
	var order []*cparse.Parser
	for _, file := range files {
		cfg, _ := p.configs.For(file) // its error is reported with its first file's findings
		p.mu.Lock()
		parser := p.parserLocked(cfg)
		p.mu.Unlock()
		if byParser[parser] == nil {
			order = append(order, parser)
		}
		byParser[parser] = append(byParser[parser], file)
	}
	for _, parser := range order {
		parser.ShareHeaders(byParser[parser], p.overlay)
	}
}

// stdinFile reads the text of the file named by --stdin-filename from
// stdin, the way formatters and linters take an editor's buffer.
func stdinFile(proj *project, name string, paths []string, stdin io.Reader) ([]string, error) {
	if len(paths) > 1 || len(paths) == 1 && paths[0] != "-" {
		return nil, fmt.Errorf("--stdin-filename takes no PATH (or just -)")
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	text, err := io.ReadAll(io.LimitReader(stdin, maxStdin+1))
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	if len(text) > maxStdin {
		return nil, fmt.Errorf("stdin: more than %d MiB", maxStdin>>20)
	}
	proj.overlay = map[string][]byte{abs: text}
	return []string{abs}, nil
}

// maxStdin bounds what --stdin-filename reads: a source file, not a stream.
const maxStdin = 64 << 20

// fileResult is one file's outcome.
type fileResult struct {
	findings  []analysis.Finding
	err       error // the file could not be read
	configErr error // its config is invalid (reported once per config)
	stats     string
}

// checkFiles runs check on files 0..n-1 on every core and calls emit for
// each file in order as soon as it and all before it are done. At most a
// window of files is in flight or waiting to be emitted, so memory stays
// bounded however many files there are, and each result is released once
// emitted.
func checkFiles(ctx context.Context, n int, check func(int) fileResult, emit func(int, fileResult)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	window := make(chan struct{}, checkWindow*workers)
	results := make([]chan fileResult, n)
	for i := range results {
		results[i] = make(chan fileResult, 1)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] <- check(i)
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range n {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			work <- i
		}
	}()
	for i := range n {
		select {
		case r := <-results[i]:
			emit(i, r)
			results[i] = nil
			<-window
		case <-ctx.Done():
			wg.Wait()
			return
		}
	}
	wg.Wait()
}

// checkWindow is how many files per worker may be in flight or done and
// waiting for an earlier file: enough to keep the cores busy behind a slow
// file, few enough that memory does not grow with the number of files.
const checkWindow = 4

func checkFile(ctx context.Context, proj *project, path string) fileResult {
	cfg, parser, sel, cfgErr := proj.forFile(path)
	start := time.Now()
	f, err := parser.Parse(ctx, path, proj.overlay)
	if err != nil {
		return fileResult{err: err, configErr: cfgErr}
	}
	parsed := time.Now()
	targets, targetErr := proj.targets.forConfig(cfg)
	res := analysis.Run(f)
	findings := append(analysis.FrontendFindings(f), analysis.ForKernels(f, res, targets)...)
	st := res.Stats
	stats := fmt.Sprintf("parse %d ms, analysis %d ms: %d programs, %d states explored, %d pruned, %d callee summaries (%d calls reused)",
		parsed.Sub(start).Milliseconds(), time.Since(parsed).Milliseconds(), st.Programs, st.Explored, st.Pruned, st.Summaries, st.Reused)
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
	return fileResult{findings: cfg.Apply(sel, findings), configErr: errors.Join(cfgErr, targetErr), stats: stats}
}

// findingWriter prints findings in the chosen format as they come: text
// and JSON stream; SARIF is one document, written at the end.
type findingWriter struct {
	format string
	w      io.Writer
	paths  report.Paths
	color  bool
	json   *report.JSONStream
	sarif  []analysis.Finding
}

func newFindingWriter(format string, w io.Writer, p report.Paths, color bool) *findingWriter {
	fw := &findingWriter{format: format, w: w, paths: p, color: color}
	if format == "json" {
		fw.json = &report.JSONStream{W: w, Paths: p}
	}
	return fw
}

func (fw *findingWriter) write(findings []analysis.Finding) error {
	switch fw.format {
	case "json":
		return fw.json.Write(findings)
	case "sarif":
		fw.sarif = append(fw.sarif, findings...)
		return nil
	default:
		return report.Text(fw.w, fw.paths, findings, fw.color)
	}
}

func (fw *findingWriter) close() error {
	switch fw.format {
	case "json":
		return fw.json.Close()
	case "sarif":
		return report.SARIF(fw.w, fw.paths, versionString(), analysis.Rules(), fw.sarif)
	}
	return nil
}

// colorWanted decides --color: auto colors a terminal unless NO_COLOR is
// set (https://no-color.org).
func colorWanted(when string, w io.Writer) (bool, error) {
	switch when {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return os.Getenv("NO_COLOR") == "" && isTerminal(w), nil
	}
	return false, errors.New("--color: want auto, always or never")
}

// progress draws "[done/total] file" on stderr when it is a terminal, at
// most every 100 ms; clear erases it before other output.
type progress struct {
	w     io.Writer
	total int
	shown bool
	last  time.Time
}

func newProgress(stderr io.Writer, total int) *progress {
	if !isTerminal(stderr) || total < 2 {
		return &progress{}
	}
	return &progress{w: stderr, total: total}
}

func (p *progress) update(done int, file string) {
	if p.w == nil || done == p.total || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\x1b[K[%d/%d] %s", done, p.total, file)
	p.shown = true
}

func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
