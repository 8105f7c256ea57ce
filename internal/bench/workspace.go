package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bpf-lsp/bpf-lsp/internal/lspclient"
	"github.com/bpf-lsp/bpf-lsp/internal/realworld"
)

// passQuiet is how long no new pass may begin after one ended for the
// workspace's analysis to count as finished (an edit that preempts a
// closed file's analysis leaves it for a pass that begins at once).
const passQuiet = 3 * time.Second

// passResult is one server's background pass over the selftests'
// closed files, with one file open and edited meanwhile if asked.
type passResult struct {
	WallSeconds  float64 `json:"wallSeconds"`
	ServerCPUSec float64 `json:"serverCpuSeconds"` // the pass's and the edits'
	PeakRSSMB    int     `json:"peakRssMB"`        // VmHWM: the whole session
	EndRSSMB     int     `json:"endRssMB"`         // VmRSS once the pass ended
	Passes       int     `json:"passes"`           // $/progress reports ended
	Open         string  `json:"open,omitempty"`   // the file edited during the pass
	Edits        int     `json:"edits,omitempty"`
	Edit         latency `json:"edit"`
	EditCPU      latency `json:"editCpu"`
}

// workspacePass starts one server on the selftests directory with the
// corpus's compile database and its workspace analysis on, as an editor
// opening the directory would, and waits until the pass over the closed
// files ended: peak RSS and CPU of the whole pass. With a source to open
// (the first one patterns select), it edits that file in its first
// function, one edit a second while the pass runs: the latency the pass
// must not change.
func workspacePass(bin, root, cache string, patterns []string, timeout time.Duration) (*passResult, error) {
	c, err := realworld.Prepare(context.Background(), root, cache)
	if err != nil {
		return nil, err
	}
	var open *realworld.Source
	if len(patterns) > 0 {
		sel := realworld.SelectSources(c.Sources, patterns)
		if len(sel) == 0 {
			return nil, fmt.Errorf("no corpus file matches %v", patterns)
		}
		open = &sel[0]
	}
	tmp, err := os.MkdirTemp("", "bpf-lsp-bench-pass-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	db := filepath.Join(tmp, "compile_commands.json")
	if err := writeCompileDB(db, c.Sources); err != nil {
		return nil, err
	}
	start := time.Now()
	srv, err := lspclient.Start(lspclient.Config{Argv: []string{bin, "serve"}, Dir: filepath.Join(root, "tools/testing/selftests/bpf"),
		InitOptions: map[string]any{"compileCommands": db, "workspaceDiagnostics": true}, InitTimeout: timeout, Progress: true})
	if err != nil {
		return nil, err
	}
	defer srv.Stop() // shutdown and exit: BPF_LSP_MEMPROFILE is written at exit
	res := &passResult{}
	var editMs, editCPUMs []float64
	if open != nil {
		res.Open = open.Name
		src, err := os.ReadFile(open.Path)
		if err != nil {
			return nil, err
		}
		uri := lspclient.FileURI(open.Path)
		srv.Open(uri, string(src))
		if _, ok := srv.WaitVersion(uri, 1, timeout); !ok {
			return nil, fmt.Errorf("%s: no diagnostics after opening (server %s)", open.Name, aliveOr(srv))
		}
		// Edit until the first pass ended: later passes only pick up
		// the files the edits preempted.
		for v := int32(2); ; v++ {
			if ends, _ := srv.Progress(); ends > 0 {
				break
			}
			text, _ := editInFunction(string(src), fmt.Sprintf("edit %d", v))
			cpu0, t0 := srv.CPUTime(), time.Now()
			srv.Replace(uri, v, text)
			if _, ok := srv.WaitVersion(uri, v, timeout); !ok {
				return nil, fmt.Errorf("%s: no diagnostics after edit %d (server %s)", open.Name, v-1, aliveOr(srv))
			}
			editMs = append(editMs, ms(time.Since(t0)))
			editCPUMs = append(editCPUMs, ms(srv.CPUTime()-cpu0))
			time.Sleep(time.Second)
		}
	}
	for lastLog := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if !srv.Alive() {
			return nil, fmt.Errorf("server %s during the pass", srv.Status())
		}
		if time.Since(start) > timeout {
			return nil, fmt.Errorf("the pass did not end in %v", timeout)
		}
		if time.Since(lastLog) > 10*time.Second {
			cur, peak := srv.RSS()
			fmt.Fprintf(os.Stderr, "bench: %.0fs, RSS %d MB, peak %d MB, CPU %.0fs\n", time.Since(start).Seconds(), cur/1024, peak/1024, srv.CPUTime().Seconds())
			lastLog = time.Now()
		}
		ends, idle := srv.Progress()
		if ends > 0 && !idle.IsZero() && time.Since(idle) > passQuiet {
			res.Passes = ends
			res.WallSeconds = idle.Sub(start).Seconds()
			break
		}
	}
	res.ServerCPUSec = srv.CPUTime().Seconds()
	cur, peak := srv.RSS()
	res.EndRSSMB, res.PeakRSSMB = cur/1024, peak/1024
	res.Edits = len(editMs)
	res.Edit = summarizeMs(editMs)
	res.EditCPU = summarizeMs(editCPUMs)
	printPass(res)
	return res, nil
}

func printPass(r *passResult) {
	fmt.Printf("\nOne bpf-lsp server's workspace analysis of the selftests (%d passes): %.0f s wall, %.1f s server CPU, peak RSS %d MB, %d MB at the end.\n",
		r.Passes, r.WallSeconds, r.ServerCPUSec, r.PeakRSSMB, r.EndRSSMB)
	if r.Open != "" {
		fmt.Printf("%d edits of %s during the pass: edit -> diagnostics median %.0f ms, p99 %.0f ms, max %.0f ms; server CPU per edit median %.0f ms.\n",
			r.Edits, r.Open, r.Edit.Median, r.Edit.P99, r.Edit.Max, r.EditCPU.Median)
	}
}
