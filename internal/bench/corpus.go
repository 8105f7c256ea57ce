package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
	"github.com/bpf-lsp/bpf-lsp/internal/realworld"
)

// editBudget is issue 9's bound on one edit -> diagnostics in the server.
const editBudget = 200 * time.Millisecond

// fileTiming is one corpus file's open and edit in the session.
type fileTiming struct {
	File      string  `json:"file"` // tree-relative, as the realworld report names it
	ColdMs    float64 `json:"coldMs"`
	EditMs    float64 `json:"editMs"`
	ColdCPUMs float64 `json:"coldCpuMs"` // the server's CPU time for the open
	EditCPUMs float64 `json:"editCpuMs"` // and for the edit
	// The second edit, the same line changed again: the first edit of a
	// file may build what later edits reuse (a preamble).
	Edit2Ms    float64 `json:"edit2Ms"`
	Edit2CPUMs float64 `json:"edit2CpuMs"`
	// EditLine is the 1-based line the edit inserted; 0 when the file has
	// no function body in kernel style and the edit went to its end.
	EditLine    int            `json:"editLine"`
	Diagnostics int            `json:"diagnostics"`     // published after the edit
	Codes       map[string]int `json:"codes,omitempty"` // their codes: a flags problem shows as BL001/BL002
	Error       string         `json:"error,omitempty"`
}

// latency summarises one column of the session in milliseconds.
type latency struct {
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
	Over   int     `json:"over200ms"` // files above editBudget
	Over1s int     `json:"over1s"`
}

type corpusResult struct {
	Files        int          `json:"files"`
	Workspace    bool         `json:"workspaceDiagnostics"` // the background pass over closed files ran
	Failed       int          `json:"failed"`
	Restarts     int          `json:"restarts"`       // server deaths the session recovered from
	NoFunction   int          `json:"noFunctionEdit"` // files edited at their end
	WallSeconds  float64      `json:"wallSeconds"`
	ServerCPUSec float64      `json:"serverCpuSeconds"`
	PeakRSSMB    int          `json:"peakRssMB"`
	RSSMB        []int        `json:"rssMB"` // after each tenth of the files
	Cold         latency      `json:"cold"`
	ColdCPU      latency      `json:"coldCpu"`
	Edit         latency      `json:"edit"`
	EditCPU      latency      `json:"editCpu"`
	Edit2        latency      `json:"edit2"`
	Edit2CPU     latency      `json:"edit2Cpu"`
	PerFile      []fileTiming `json:"perFile"`
}

// corpusSession runs one bpf-lsp server over every corpus file selected
// by patterns (all when none), as an editor would with the corpus's
// compile database: the root is the selftests directory and the database
// gives every file the flags its Makefile gives clang.
func corpusSession(bin, root, cache string, patterns []string, workspace bool, timeout time.Duration) (*corpusResult, error) {
	ctx := context.Background()
	c, err := realworld.Prepare(ctx, root, cache)
	if err != nil {
		return nil, err
	}
	sources := realworld.SelectSources(c.Sources, patterns)
	if len(sources) == 0 {
		return nil, fmt.Errorf("no corpus file matches %s", strings.Join(patterns, ","))
	}
	tmp, err := os.MkdirTemp("", "bpf-lsp-bench-corpus-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	db := filepath.Join(tmp, "compile_commands.json")
	if err := writeCompileDB(db, sources); err != nil {
		return nil, err
	}
	res := &corpusResult{Files: len(sources), Workspace: workspace}
	cfg := lspclient.Config{Argv: []string{bin, "serve"}, Dir: filepath.Join(root, "tools/testing/selftests/bpf"),
		InitOptions: map[string]any{"compileCommands": db, "workspaceDiagnostics": workspace}, InitTimeout: timeout}
	srv, err := lspclient.Start(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { srv.Stop() }() // shutdown and exit: the profiles are written at exit
	fmt.Fprintf(os.Stderr, "bench: %d corpus files, one server\n", len(sources))

	start := time.Now()
	// The CPU time of servers that died, as last read while they ran.
	var cpuBefore, lastCPU time.Duration
	for i, s := range sources {
		ft := openEditClose(srv, s, timeout)
		if t := srv.CPUTime(); t > 0 {
			lastCPU = t
		}
		if ft.Error != "" {
			res.Failed++
			fmt.Fprintf(os.Stderr, "bench: %s: %s\n", s.Name, ft.Error)
			if !srv.Alive() {
				res.Restarts++
				cpuBefore += lastCPU
				if srv, err = lspclient.Start(cfg); err != nil {
					return nil, fmt.Errorf("restart after %s: %w", s.Name, err)
				}
			}
		}
		if ft.EditLine == 0 {
			res.NoFunction++
		}
		res.PerFile = append(res.PerFile, ft)
		if (i+1)*10/len(sources) > i*10/len(sources) {
			cur, _ := srv.RSS()
			res.RSSMB = append(res.RSSMB, cur/1024)
			fmt.Fprintf(os.Stderr, "bench: %d/%d files, %.0fs, RSS %d MB\n", i+1, len(sources), time.Since(start).Seconds(), cur/1024)
		}
	}
	res.WallSeconds = time.Since(start).Seconds()
	res.ServerCPUSec = (cpuBefore + srv.CPUTime()).Seconds()
	_, peak := srv.RSS()
	res.PeakRSSMB = peak / 1024
	res.Cold = summarize(res.PerFile, func(f fileTiming) float64 { return f.ColdMs })
	res.ColdCPU = summarize(res.PerFile, func(f fileTiming) float64 { return f.ColdCPUMs })
	res.Edit = summarize(res.PerFile, func(f fileTiming) float64 { return f.EditMs })
	res.EditCPU = summarize(res.PerFile, func(f fileTiming) float64 { return f.EditCPUMs })
	res.Edit2 = summarize(res.PerFile, func(f fileTiming) float64 { return f.Edit2Ms })
	res.Edit2CPU = summarize(res.PerFile, func(f fileTiming) float64 { return f.Edit2CPUMs })
	printCorpus(res)
	return res, nil
}

// openEditClose opens s, waits for its diagnostics, makes one edit inside
// its first function and then a second on the same line, waits for each
// version's diagnostics and closes it.
func openEditClose(srv *lspclient.Server, s realworld.Source, timeout time.Duration) fileTiming {
	ft := fileTiming{File: s.Name}
	src, err := os.ReadFile(s.Path)
	if err != nil {
		ft.Error = err.Error()
		return ft
	}
	uri := lspclient.FileURI(s.Path)
	defer srv.Close(uri)
	cpu0, t0 := srv.CPUTime(), time.Now()
	srv.Open(uri, string(src))
	if _, ok := srv.WaitVersion(uri, 1, timeout); !ok {
		ft.Error = fmt.Sprintf("no diagnostics after opening (%v; server %s)", timeout, aliveOr(srv))
		return ft
	}
	ft.ColdMs, ft.ColdCPUMs = ms(time.Since(t0)), ms(srv.CPUTime()-cpu0)
	text, line := editInFunction(string(src), "an edit")
	ft.EditLine = line
	cpu0, t0 = srv.CPUTime(), time.Now()
	srv.Replace(uri, 2, text)
	p, ok := srv.WaitVersion(uri, 2, timeout)
	if !ok {
		ft.Error = fmt.Sprintf("no diagnostics after the edit (%v; server %s)", timeout, aliveOr(srv))
		return ft
	}
	ft.EditMs, ft.EditCPUMs = ms(time.Since(t0)), ms(srv.CPUTime()-cpu0)
	text, _ = editInFunction(string(src), "a second edit")
	cpu0, t0 = srv.CPUTime(), time.Now()
	srv.Replace(uri, 3, text)
	if p, ok = srv.WaitVersion(uri, 3, timeout); !ok {
		ft.Error = fmt.Sprintf("no diagnostics after the second edit (%v; server %s)", timeout, aliveOr(srv))
		return ft
	}
	ft.Edit2Ms, ft.Edit2CPUMs = ms(time.Since(t0)), ms(srv.CPUTime()-cpu0)
	ft.Diagnostics = len(p.Diagnostics)
	for _, d := range p.Diagnostics {
		if ft.Codes == nil {
			ft.Codes = map[string]int{}
		}
		ft.Codes[d.Code]++
	}
	return ft
}

func aliveOr(s *lspclient.Server) string {
	if s.Alive() {
		return "alive"
	}
	return "exited: " + s.Status()
}

// editInFunction inserts a comment line saying what in the middle of the
// body of the file's first function in kernel style (a "{" alone at column 0 after a
// line ending in ")", closed by a "}" at column 0), where an edit changes
// no declaration; a file without one is edited at its end. It returns the
// new text and the inserted line's number (0 at the end).
func editInFunction(src, what string) (string, int) {
	comment := "\t/* bpf-lsp bench: " + what + " */\n"
	lines := strings.SplitAfter(src, "\n")
	prev := ""
	for i, l := range lines {
		trimmed := strings.TrimRight(l, " \t\r\n")
		if trimmed != "{" || !strings.HasSuffix(prev, ")") {
			if trimmed != "" {
				prev = trimmed
			}
			continue
		}
		end := i + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "}") {
			end++
		}
		if end == len(lines) {
			break
		}
		// Insert before line at, in (i, end], never after a line that a
		// backslash continues.
		at := (i + 1 + end) / 2
		for at < end && strings.HasSuffix(strings.TrimRight(lines[at-1], "\r\n"), "\\") {
			at++
		}
		out := slices.Concat(lines[:at], []string{comment}, lines[at:])
		return strings.Join(out, ""), at + 1
	}
	if !strings.HasSuffix(src, "\n") {
		src += "\n"
	}
	return src + comment[1:], 0
}

// writeCompileDB writes the compile database an editor user of the corpus
// would have: every source with its Makefile's directory and clang flags.
func writeCompileDB(path string, sources []realworld.Source) error {
	type entry struct {
		Directory string   `json:"directory"`
		File      string   `json:"file"`
		Arguments []string `json:"arguments"`
	}
	entries := make([]entry, len(sources))
	for i, s := range sources {
		args := slices.Concat([]string{realworld.Clang}, s.Flags, []string{"-c", s.Path})
		entries[i] = entry{Directory: s.Dir, File: s.Path, Arguments: args}
	}
	data, err := json.MarshalIndent(entries, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// summarize gives the median, p99, max and counts over the budget of one
// column, over the files that have it.
func summarize(files []fileTiming, get func(fileTiming) float64) latency {
	var xs []float64
	for _, f := range files {
		if f.Error == "" {
			xs = append(xs, get(f))
		}
	}
	return summarizeMs(xs)
}

// summarizeMs gives the median, p99, max and counts over the budget of
// times in milliseconds.
func summarizeMs(xs []float64) latency {
	var l latency
	for _, x := range xs {
		l.Max = max(l.Max, x)
		if x > ms(editBudget) {
			l.Over++
		}
		if x > 1000 {
			l.Over1s++
		}
	}
	l.Median = realworld.Percentile(xs, 0.5)
	l.P99 = realworld.Percentile(xs, 0.99)
	return l
}

func printCorpus(r *corpusResult) {
	pass := "off"
	if r.Workspace {
		pass = "on"
	}
	fmt.Printf("\nOne bpf-lsp server over %d corpus files: open, two edits inside the first function, close (workspace pass %s).\n", r.Files, pass)
	fmt.Printf("%.0f s wall, %.0f s server CPU, peak RSS %d MB (RSS after each tenth: %v MB); %d failed, %d server restarts, %d files without a function body edited at the end.\n\n",
		r.WallSeconds, r.ServerCPUSec, r.PeakRSSMB, r.RSSMB, r.Failed, r.Restarts, r.NoFunction)
	fmt.Println("| ms per file | median | p99 | max | over 200 ms | over 1 s |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, row := range []struct {
		name string
		l    latency
	}{{"cold open -> diagnostics", r.Cold}, {"server CPU per open", r.ColdCPU},
		{"edit -> diagnostics", r.Edit}, {"server CPU per edit", r.EditCPU},
		{"second edit -> diagnostics", r.Edit2}, {"server CPU per second edit", r.Edit2CPU}} {
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %d | %d |\n", row.name, row.l.Median, row.l.P99, row.l.Max, row.l.Over, row.l.Over1s)
	}
	slowest := func(title string, get func(fileTiming) float64) {
		files := slices.Clone(r.PerFile)
		slices.SortFunc(files, func(a, b fileTiming) int { return cmp.Compare(get(b), get(a)) })
		fmt.Printf("\n%s:\n", title)
		for _, f := range files[:min(10, len(files))] {
			fmt.Printf("  %-70s edit %6.0f ms (CPU %5.0f), second %6.0f ms (CPU %5.0f), cold %6.0f ms\n",
				f.File, f.EditMs, f.EditCPUMs, f.Edit2Ms, f.Edit2CPUMs, f.ColdMs)
		}
	}
	slowest("Slowest 10 edits", func(f fileTiming) float64 { return f.EditMs })
	slowest("Slowest 10 second edits", func(f fileTiming) float64 { return f.Edit2Ms })
	slowest("Slowest 10 cold opens", func(f fileTiming) float64 { return f.ColdMs })
	for _, f := range r.PerFile {
		if f.Error != "" {
			fmt.Printf("failed: %s: %s\n", f.File, f.Error)
		}
	}
}
