package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/report"
	"github.com/bpf-lsp/bpf-lsp/verifier"
	"github.com/bpf-lsp/bpf-lsp/vm"
)

// verify --kernels: the program × kernel matrix, each kernel booted under
// qemu (package vm).

// runMatrix verifies files on the kernels listed in spec ("all" or
// "5.10,6.1,...") and prints the matrix; it returns the exit code.
func runMatrix(ctx context.Context, spec, clang, format string, parser *cparse.Parser, files []string, stdout, stderr io.Writer) int {
	ks, err := kernels.ParseList(spec)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: --kernels: %v\n", err)
		return 2
	}
	opts := vm.Options{Progress: func(msg string) { fmt.Fprintf(stderr, "bpf-lsp verify: %s\n", msg) }}
	m, err := vm.BuildMatrix(ctx, opts, verifier.Options{Clang: clang, Parser: parser}, ks, files)
	var capErr *verifier.CapabilityError
	if errors.As(err, &capErr) {
		fmt.Fprintln(stderr, capErr.Msg)
		return 3
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
		return 2
	}
	cwd, _ := os.Getwd()
	p := report.Paths{Dir: cwd}
	switch format {
	case "json":
		err = writeMatrixJSON(stdout, p, m)
	case "sarif":
		err = report.SARIF(stdout, p, version, analysis.Rules(), matrixFindings(m))
	default:
		err = writeMatrixText(stdout, p, m)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
		return 2
	}
	for _, run := range m.Kernels {
		switch {
		case run.Err != nil:
			fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", run.Err)
		case run.Boot > 0:
			fmt.Fprintf(stderr, "bpf-lsp verify: %s (%s): boot and verify %.1fs, %d object(s) from the cache\n", run.Kernel, run.Release, run.Boot.Seconds(), run.Cached)
		default:
			fmt.Fprintf(stderr, "bpf-lsp verify: %s: every object from the cache\n", run.Kernel)
		}
	}
	for _, row := range m.Rows {
		for _, c := range row.Cells {
			if c.Verdict != verifier.Accept {
				return 1
			}
		}
	}
	return 0
}

// verdictMark is a cell of the text matrix.
func verdictMark(r verifier.Result) string {
	switch r.Verdict {
	case verifier.Accept:
		return "✔"
	case verifier.Reject:
		return "✘"
	case verifier.Failed:
		return "error"
	}
	return "-" // the kernel did not run
}

// writeMatrixText prints the table, then each rejection once with the
// kernels that gave the same message.
func writeMatrixText(w io.Writer, p report.Paths, m *vm.Matrix) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "program")
	for _, run := range m.Kernels {
		fmt.Fprintf(tw, "\t%s", run.Kernel)
	}
	fmt.Fprintln(tw)
	for _, row := range m.Rows {
		fmt.Fprintf(tw, "%s:%s", p.Show(row.File), row.Program)
		for _, c := range row.Cells {
			fmt.Fprintf(tw, "\t%s", verdictMark(c))
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, row := range m.Rows {
		for _, g := range groupCells(m, row) {
			c := g.cell
			where := p.Show(row.File)
			if c.Line > 0 {
				where = fmt.Sprintf("%s:%d:%d", where, c.Line, max(c.Column, 1))
			}
			what := "rejected"
			if c.Verdict == verifier.Failed {
				what = "not verified"
			}
			code := ""
			if c.Code != "" {
				code = " [" + c.Code + "]"
			}
			if _, err := fmt.Fprintf(w, "%s: %s: %s on %s: %s%s\n", where, row.Program, what, strings.Join(g.kernels, ", "),
				strings.ReplaceAll(c.Message, "\n", " / "), code); err != nil {
				return err
			}
		}
	}
	return nil
}

// cellGroup is one non-accept outcome and the kernels that share it.
type cellGroup struct {
	cell    verifier.Result
	kernels []string
}

func groupCells(m *vm.Matrix, row vm.Row) []cellGroup {
	var out []cellGroup
	for k, c := range row.Cells {
		if c.Verdict == verifier.Accept || c.Verdict == "" {
			continue
		}
		found := false
		for i := range out {
			g := &out[i]
			if g.cell.Verdict == c.Verdict && g.cell.Message == c.Message && g.cell.Line == c.Line {
				g.kernels = append(g.kernels, m.Kernels[k].Kernel.Version)
				found = true
				break
			}
		}
		if !found {
			out = append(out, cellGroup{cell: c, kernels: []string{m.Kernels[k].Kernel.Version}})
		}
	}
	return out
}

// matrixJSON is the stable JSON shape of one program's row.
type matrixJSON struct {
	File    string           `json:"file"`
	Program string           `json:"program"`
	Section string           `json:"section"`
	Kernels []matrixCellJSON `json:"kernels"`
}

type matrixCellJSON struct {
	Kernel  string `json:"kernel"`
	Release string `json:"release,omitempty"`
	Verdict string `json:"verdict"` // accept, reject, error, or "unavailable" when the kernel did not run
	Message string `json:"message,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Code    string `json:"code,omitempty"`
}

func writeMatrixJSON(w io.Writer, p report.Paths, m *vm.Matrix) error {
	out := make([]matrixJSON, 0, len(m.Rows))
	for _, row := range m.Rows {
		j := matrixJSON{File: p.Show(row.File), Program: row.Program, Section: row.Section}
		for k, c := range row.Cells {
			cell := matrixCellJSON{Kernel: m.Kernels[k].Kernel.Version, Release: m.Kernels[k].Release, Verdict: c.Verdict,
				Message: c.Message, Line: c.Line, Column: c.Column, Code: c.Code}
			if c.Verdict == "" {
				cell.Verdict = "unavailable"
				if err := m.Kernels[k].Err; err != nil {
					cell.Message = err.Error()
				}
			}
			j.Kernels = append(j.Kernels, cell)
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// matrixFindings turns every rejection into a finding for SARIF, its
// message prefixed with the kernels that gave it.
func matrixFindings(m *vm.Matrix) []analysis.Finding {
	var out []analysis.Finding
	for _, row := range m.Rows {
		for _, g := range groupCells(m, row) {
			c := g.cell
			code := c.Code
			if code == "" {
				code = analysis.CodeVerifierOther
			}
			pos := cparse.Pos{Line: max(c.Line, 1), Col: max(c.Column, 1)}
			out = append(out, analysis.Finding{Code: code, Severity: analysis.SevError, Func: row.Program,
				Span:    cparse.Span{File: row.File, Start: pos, End: pos},
				Message: fmt.Sprintf("%s: rejected by kernel %s: %s", row.Program, strings.Join(g.kernels, ", "), strings.ReplaceAll(c.Message, "\n", " / ")),
				Kernel:  c.Message})
		}
	}
	return out
}

// --kernel on check, verify and serve: which kernel the program targets.

const kernelUsage = "target kernel: `running` (default), a catalogued version (5.10, 6.1, 6.12, 7.2, 7.3), or a BTF file, vmlinux or vmlinux.h"

// targetCache resolves the target kernels of each config once: --kernel
// when given, else the config's targetKernels, else the running kernel
// (when its BTF is readable; otherwise no kernel checks).
type targetCache struct {
	flag string // --kernel

	mu      sync.Mutex
	targets map[*config.Config][]*kernels.Target
}

func newTargetCache(flag string) (*targetCache, error) {
	c := &targetCache{flag: flag, targets: map[*config.Config][]*kernels.Target{}}
	if flag != "" {
		if _, err := kernels.OpenTarget(flag); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// forConfig returns cfg's targets; the error (a bad
// targetKernels entry) only the first time. A nil cache has no targets.
func (c *targetCache) forConfig(cfg *config.Config) ([]*kernels.Target, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ts, ok := c.targets[cfg]; ok {
		return ts, nil
	}
	specs := []string{c.flag}
	if c.flag == "" && cfg != nil && len(cfg.TargetKernels) > 0 {
		specs = cfg.TargetKernels
	}
	ts, err := kernels.OpenTargets(specs)
	c.targets[cfg] = ts
	if err != nil && cfg != nil && cfg.Path != "" {
		err = fmt.Errorf("%s: targetKernels: %w", cfg.Path, err)
	}
	return ts, err
}

// verifyKernelList turns verify's --kernel into a --kernels list: another
// kernel than the running one is verified in a VM.
func verifyKernelList(kernel, list string) (string, error) {
	switch {
	case kernel == "" || kernel == "running":
		return list, nil
	case list != "":
		return "", errors.New("give --kernel or --kernels, not both")
	case strings.ContainsRune(kernel, '/') || strings.HasSuffix(kernel, ".h"):
		return "", fmt.Errorf("--kernel %s: verify loads programs, so it needs a kernel to boot: running or a catalogued version (%s)", kernel, strings.Join(kernels.Versions(), ", "))
	}
	return kernel, nil
}
