package analysis

import (
	"cmp"
	"fmt"
	"strings"
)

// RulesMarkdown renders docs/rules.md from the rule metadata, so the
// documentation cannot drift from the checks (docs_test.go fails when the
// committed file is stale; `go test ./analysis -run TestRulesDoc -update`
// rewrites it).
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString("# bpf-lsp rules\n\n")
	b.WriteString("<!-- Generated from analysis/rules.go by `go test ./analysis -run TestRulesDoc -update`. Do not edit. -->\n\n")
	b.WriteString("Every finding carries one of these codes. Suppress one finding with a reason:\n")
	b.WriteString("`// bpf-lsp:ignore CODE why it does not apply` on the finding's line or the line before.\n\n")
	b.WriteString("| code | name | severity | kernel 6.18 message |\n|---|---|---|---|\n")
	for _, r := range Rules() {
		kernel := ""
		if r.Kernel != "" {
			kernel = "`" + r.Kernel + "`"
		}
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.Code, strings.ToLower(r.Code), r.Name, r.Severity, kernel)
	}
	for _, r := range Rules() {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** (`%s`, %s)\n\n%s\n", strings.ToLower(r.Code), r.Title, r.Name, r.Severity, r.Doc)
		if r.Kernel != "" {
			fmt.Fprintf(&b, "\nThe kernel's verifier reports it as: `%s`\n", r.Kernel)
			writeWordings(&b, r)
		}
		if r.Bad != "" {
			fmt.Fprintf(&b, "\nBad:\n\n```c\n%s\n```\n", r.Bad)
		}
		if r.Good != "" {
			fmt.Fprintf(&b, "\nGood:\n\n```c\n%s\n```\n", r.Good)
		}
	}
	return b.String()
}

// writeWordings lists each message's wording by release, one group per
// message (a rule may quote several).
func writeWordings(b *strings.Builder, r *Rule) {
	var order []string
	chains := map[string][]KernelWording{}
	for _, w := range r.KernelSince {
		of := cmp.Or(w.Of, r.Kernel)
		if _, ok := chains[of]; !ok {
			order = append(order, of)
		}
		chains[of] = append(chains[of], w)
	}
	for _, of := range order {
		ws := chains[of]
		fmt.Fprintf(b, "\nBy kernel release (`%s`):\n\n", of)
		for i, w := range ws {
			since := "before " + ws[min(i+1, len(ws)-1)].Since
			switch {
			case i == len(ws)-1:
				since = "from " + w.Since
			case w.Since != "":
				since = "from " + w.Since + " " + since
			}
			fmt.Fprintf(b, "- %s: `%s`\n", since, w.Message)
		}
	}
}
