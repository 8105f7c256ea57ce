package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// runExplain prints the documentation of the rules named by code or name
// (case-insensitive), or lists every rule when none is named.
func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", "explain [CODE|NAME...]", stderr)
	names, code, ok := parseArgs(fs, args)
	if !ok {
		return code
	}
	if len(names) == 0 {
		for _, r := range analysis.Rules() {
			fmt.Fprintf(stdout, "%s  %-8s %-30s %s\n", r.Code, r.Severity, r.Name, r.Title)
		}
		return 0
	}
	exit := 0
	for i, name := range names {
		r := findRule(name)
		if r == nil {
			fmt.Fprintf(stderr, "bpf-lsp explain: no rule %q (bpf-lsp explain lists them)\n", name)
			exit = 2
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeRule(stdout, r)
	}
	return exit
}

func findRule(name string) *analysis.Rule {
	for _, r := range analysis.Rules() {
		if strings.EqualFold(r.Code, name) || strings.EqualFold(r.Name, name) {
			return r
		}
	}
	return nil
}

func writeRule(w io.Writer, r *analysis.Rule) {
	fmt.Fprintf(w, "%s %s: %s (default severity: %s)\n\n%s\n", r.Code, r.Name, r.Title, r.Severity, r.Doc)
	if r.Kernel != "" {
		fmt.Fprintf(w, "\nThe kernel's verifier reports it as:\n    %s\n", r.Kernel)
	}
	for _, ex := range []struct{ label, code string }{{"Bad", r.Bad}, {"Good", r.Good}} {
		if ex.code != "" {
			fmt.Fprintf(w, "\n%s:\n    %s\n", ex.label, strings.ReplaceAll(ex.code, "\n", "\n    "))
		}
	}
	fmt.Fprintf(w, "\nSilence one finding with a reason: // bpf-lsp:ignore %s why it does not apply\n"+
		"Turn the rule off for a project: checks: [all, -%s] in .bpf-lsp.yaml (or -checks all,-%s).\n", r.Code, r.Code, r.Code)
}
