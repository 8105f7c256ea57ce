package config

import (
	"fmt"
	"path"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// Selection is which rules report and at which severity. The zero value
// (and a nil pointer) keeps every rule at its own severity.
type Selection struct {
	disabled map[string]bool   // nil: every rule on
	severity map[string]string // code -> error|warning|info
}

// NewSelection applies terms in staticcheck's syntax over parent (nil =
// defaults). Terms are applied in order and later ones win: "all" turns
// every rule on, "CODE" or a glob ("BL2*") turns rules on, "-CODE" or
// "-BL2*" off. A list starts from nothing unless its first term is
// "inherit", which starts from parent; an empty list is parent itself.
// Severity overrides are inherited from parent.
func NewSelection(parent *Selection, terms []string) (*Selection, error) {
	if parent == nil {
		parent = &Selection{}
	}
	if len(terms) == 0 {
		return parent, nil
	}
	s := &Selection{disabled: map[string]bool{}, severity: parent.severity}
	start := 0
	if strings.TrimSpace(terms[0]) == "inherit" {
		for code, off := range parent.disabled {
			s.disabled[code] = off
		}
		start = 1
	} else {
		for _, r := range analysis.Rules() {
			s.disabled[r.Code] = true
		}
	}
	for _, t := range terms[start:] {
		t = strings.TrimSpace(t)
		on := !strings.HasPrefix(t, "-")
		pat := strings.TrimPrefix(t, "-")
		if pat == "all" {
			pat = "*"
		}
		if pat == "" || pat == "inherit" {
			return nil, fmt.Errorf("%q: want all, a rule code, a glob such as BL2*, or one of these after '-' (inherit only first)", t)
		}
		matched := false
		for _, r := range analysis.Rules() {
			ok, err := path.Match(pat, r.Code)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", t, err)
			}
			if ok {
				matched = true
				s.disabled[r.Code] = !on
			}
		}
		if !matched {
			return nil, fmt.Errorf("%q matches no rule (bpf-lsp explain lists the rules)", t)
		}
	}
	return s, nil
}

// ParseChecks splits a -checks value ("all,-BL208") into terms.
func ParseChecks(v string) []string {
	var terms []string
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	return terms
}

// Enabled reports whether findings with this code are reported.
func (s *Selection) Enabled(code string) bool {
	return s == nil || !s.disabled[code]
}

// Apply drops disabled findings and applies severity overrides, in place.
func (s *Selection) Apply(findings []analysis.Finding) []analysis.Finding {
	if s == nil {
		return findings
	}
	out := findings[:0]
	for _, f := range findings {
		if s.disabled[f.Code] {
			continue
		}
		if sev, ok := s.severity[f.Code]; ok {
			// validated when the config was read
			f.Severity, _ = ParseSeverity(sev)
		}
		out = append(out, f)
	}
	return out
}
