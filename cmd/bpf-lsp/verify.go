package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/bpf-lsp/bpf-lsp/config"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/report"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "verify [--clang PATH] [--format text|json] [-I dir] [-D name[=value]] PATH... | --log FILE", stderr)
	var cf cFlags
	cf.register(fs)
	clang := fs.String("clang", "", "the C compiler to use: an absolute `path` or a command on PATH; default clang-19, then clang")
	timeout := fs.Duration("timeout", verifier.DefaultTimeout, "give up on a clang run after this `duration`")
	format := fs.String("format", "text", "output `format`: text or json")
	checks := fs.String("checks", "inherit", "rules the static side reports, staticcheck syntax: `list` such as all,-BL208")
	logFile := fs.String("log", "", "parse a saved verifier log `file` (bpftool -d, veristat, libbpf) instead of loading programs")
	kernel := fs.String("kernel", "", "verify on this kernel: `running` (default) or a catalogued version, booted under qemu")
	kernelList := fs.String("kernels", "", "verify on these kernels under qemu (`list`: 5.10,6.1,6.12,7.3 or all) and print the program × kernel matrix")
	paths, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if *format != "text" && *format != "json" && !(*format == "sarif" && (*kernelList != "" || *kernel != "")) {
		fmt.Fprintf(stderr, "bpf-lsp verify: unknown format %q (want text or json)\n", *format)
		return 2
	}
	if *logFile != "" {
		return verifyLog(*logFile, *format, stdout, stderr)
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	proj := newProject(cf.parserOptions(""), config.ParseChecks(*checks))
	if _, err := config.NewSelection(nil, proj.cliChecks); err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: -checks: %v\n", err)
		return 2
	}
	var files []string
	for _, p := range paths {
		if strings.HasSuffix(p, ".o") {
			files = append(files, p)
			continue
		}
		expanded, err := proj.classifier.Expand([]string{p})
		if err != nil {
			fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
			return 2
		}
		files = append(files, expanded...)
	}
	// SIGINT and SIGTERM cancel the run: clang's process group is killed
	// and the temporary directories are removed before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	list, listErr := verifyKernelList(*kernel, *kernelList)
	if listErr != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", listErr)
		return 2
	}
	if list != "" {
		return runMatrix(ctx, list, *clang, *format, cparse.NewParser(cf.parserOptions("")), files, stdout, stderr)
	}
	var results []verifier.Result
	for _, file := range files {
		// Each file with its config: its compile flag edits and its rule
		// selection for the static side. The compiler is only ever the
		// command line's: a project file in the workspace never names it.
		cfg, parser, sel, cfgErr := proj.forFile(file)
		if cfgErr != nil {
			fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", cfgErr)
		}
		rs, err := verifier.Run(ctx, verifier.Options{Clang: *clang, Parser: parser, Timeout: *timeout}, []string{file})
		var capErr *verifier.CapabilityError
		var badSetting *verifier.ConfigError
		switch {
		case errors.As(err, &capErr):
			fmt.Fprintln(stderr, capErr.Msg)
			return 3
		case errors.As(err, &badSetting):
			fmt.Fprintf(stderr, "bpf-lsp verify: %s\n", badSetting.Msg)
			return 2
		case ctx.Err() != nil:
			fmt.Fprintln(stderr, "bpf-lsp verify: interrupted")
			return 130
		case err != nil:
			fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
			return 2
		}
		for i := range rs {
			rs[i].Static = cfg.Apply(sel, rs[i].Static)
		}
		results = append(results, rs...)
	}
	cwd, _ := os.Getwd()
	paths2 := report.Paths{Dir: cwd}
	var err error
	if *format == "json" {
		err = writeVerifyJSON(stdout, paths2, results)
	} else {
		err = writeVerifyText(stdout, paths2, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
		return 2
	}
	for _, r := range results {
		if r.Verdict != verifier.Accept {
			return 1
		}
	}
	return 0
}

// verifyJSON is the stable JSON shape of one program's result.
type verifyJSON struct {
	File      string               `json:"file"`
	Object    string               `json:"object"`
	Program   string               `json:"program"`
	Section   string               `json:"section"`
	Verdict   string               `json:"verdict"`
	Message   string               `json:"message,omitempty"`
	Line      int                  `json:"line,omitempty"`
	Column    int                  `json:"column,omitempty"`
	Insn      *int                 `json:"insn,omitempty"`
	Code      string               `json:"code,omitempty"`
	Note      string               `json:"note,omitempty"`
	Static    []report.JSONFinding `json:"static"`
	Agreement string               `json:"agreement,omitempty"`
	Reason    string               `json:"reason,omitempty"`
	// A 7.3 kernel's structured error.
	Category     string             `json:"category,omitempty"`
	KernelReason string             `json:"kernelReason,omitempty"`
	Suggestion   string             `json:"suggestion,omitempty"`
	Related      []verifier.Related `json:"related,omitempty"` // the causal path
}

func writeVerifyJSON(w io.Writer, p report.Paths, rs []verifier.Result) error {
	out := make([]verifyJSON, 0, len(rs))
	for _, r := range rs {
		j := verifyJSON{File: p.Show(r.File), Object: r.Object, Program: r.Program, Section: r.Section, Verdict: r.Verdict,
			Message: r.Message, Line: r.Line, Column: r.Column, Code: r.Code, Note: r.Note,
			Static: report.ToJSON(p, r.Static), Agreement: r.Agreement, Reason: r.Reason,
			Category: r.Category, KernelReason: r.KernelReason, Suggestion: r.Suggestion}
		for _, rel := range r.Related {
			rel.File = p.Show(sourceOr(rel.File, r.File))
			j.Related = append(j.Related, rel)
		}
		if r.Insn >= 0 {
			insn := r.Insn
			j.Insn = &insn
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func writeVerifyText(w io.Writer, p report.Paths, rs []verifier.Result) error {
	for _, r := range rs {
		where := p.Show(r.File)
		if r.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d", p.Show(sourceOr(r.SourceFile, r.File)), r.Line, max(r.Column, 1))
		}
		var err error
		switch r.Verdict {
		case verifier.Accept:
			_, err = fmt.Fprintf(w, "%s: %s: accepted by the kernel [%s: %s]\n", p.Show(r.File), r.Program, r.Agreement, r.Reason)
		case verifier.Reject:
			msg := strings.ReplaceAll(r.Message, "\n", " / ")
			_, err = fmt.Fprintf(w, "%s: %s: rejected by the kernel: %s [%s] [%s: %s]\n", where, r.Program, msg, r.Code, r.Agreement, r.Reason)
			if err == nil && r.Note != "" {
				_, err = fmt.Fprintf(w, "  note: %s\n", r.Note)
			}
			if err == nil {
				err = writeExplanation(w, p, r.File, r.Related, r.Suggestion)
			}
		default:
			_, err = fmt.Fprintf(w, "%s: %s: not verified: %s\n", where, r.Program, r.Message)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// writeExplanation prints a 7.3 kernel's causal path and suggestion under
// a rejection.
func writeExplanation(w io.Writer, p report.Paths, src string, related []verifier.Related, suggestion string) error {
	for _, rel := range related {
		where := fmt.Sprintf("insn %d", rel.Insn)
		if rel.Line > 0 {
			where = fmt.Sprintf("%s:%d:%d", p.Show(sourceOr(rel.File, src)), rel.Line, max(rel.Column, 1))
		}
		if _, err := fmt.Fprintf(w, "  because: %s: %s\n", where, rel.Message); err != nil {
			return err
		}
	}
	if suggestion != "" {
		if _, err := fmt.Fprintf(w, "  suggestion: %s\n", suggestion); err != nil {
			return err
		}
	}
	return nil
}

// sourceOr prefers the path from line info, made absolute against the
// source's directory.
func sourceOr(lineFile, src string) string {
	if lineFile == "" {
		return src
	}
	if !filepath.IsAbs(lineFile) && src != "" {
		return filepath.Join(filepath.Dir(src), filepath.Base(lineFile))
	}
	return lineFile
}

func verifyLog(path, format string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "bpf-lsp verify: %v\n", err)
		return 2
	}
	progs := verifier.ParseLog(string(data))
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if progs == nil {
			progs = []verifier.LogProgram{}
		}
		enc.Encode(progs)
	} else {
		paths := report.Paths{}
		for _, pr := range progs {
			loc := path
			if pr.Line > 0 {
				loc = fmt.Sprintf("%s:%d", pr.SourceFile, pr.Line)
			}
			if pr.Column > 0 {
				loc += fmt.Sprintf(":%d", pr.Column)
			}
			fmt.Fprintf(stdout, "%s: %s: rejected by the kernel: %s [%s]\n", loc, pr.Program, strings.ReplaceAll(pr.Message, "\n", " / "), pr.Code)
			writeExplanation(stdout, paths, "", pr.Related, pr.Suggestion)
		}
	}
	if len(progs) > 0 {
		return 1
	}
	return 0
}
