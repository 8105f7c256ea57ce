package verifier

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
)

// Reading verifier logs: the classic format (instruction lines, then the
// error) and the structured error block kernels since 7.3 append to it
// ("Verification failed: <category>", Reason, At, Causal path,
// Suggestion), alone or wrapped in bpftool, libbpf or veristat output.

var (
	// insnLine is a verifier log line for one instruction: "16: (85) call ...".
	insnLine = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\) (.*)$`)
	// srcLine is a log source annotation: "; bpf_rbtree_add(...) @ t.bpf.c:35".
	srcLine = regexp.MustCompile(`^; .* @ (\S+):(\d+)$`)
	// statsLine matches the log's trailing statistics.
	statsLine = regexp.MustCompile(`^(processed \d+ insns|verification time|stack depth|max_states_per_insn|total_states|peak_states|mark_read)`)
	// failedLine opens a 7.3 structured error block.
	failedLine = regexp.MustCompile(`^Verification failed: (.*)$`)
	// blockHeading is a section of the block.
	blockHeading = regexp.MustCompile(`^(Reason|At|Causal path|Suggestion):$`)
	// blockSite opens an entry of At or Causal path: "stamp @ f.bpf.c:11:2".
	blockSite = regexp.MustCompile(`^(\S+) @ ([^\s:]+):(\d+)(?::(\d+))?$`)
	// blockCaret explains a site: "| ^-- context: entered lock region".
	blockCaret = regexp.MustCompile(`^\|\s*\^-- (?:(\w+): )?(.*)$`)
	// blockInsn marks a site's instruction: ">>>  3 | (85) call ...".
	blockInsn = regexp.MustCompile(`^>>>\s*(\d+) \| \([0-9a-f]{2}\) (.*)$`)
)

// logError is what a verifier log says about a rejection.
type logError struct {
	insn     int    // raw offset of the failing instruction, -1 if none
	insnText string // e.g. "call bpf_spin_lock#93"
	message  string // the kernel's error lines
	file     string // where: the 7.3 At site, else the last source annotation
	line     int
	column   int
	// From a 7.3 structured block ("" and nil in older logs).
	category, reason, suggestion string
	path                         []Related
}

// Related is a step of a 7.3 causal path: where the verifier saw an event
// that led to the error (a lock taken, a reference acquired).
type Related struct {
	Function string `json:"function,omitempty"`
	Insn     int    `json:"insn"` // -1 if the entry names none
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Message  string `json:"message"`
	hasInsn  bool
}

// parseProgramLog extracts the failing instruction (the last instruction
// line: the verifier stops there), the message that follows it and, from a
// 7.3 log, the structured block.
func parseProgramLog(log string) logError {
	le := logError{insn: -1}
	lines := strings.Split(log, "\n")
	block := len(lines)
	for i, l := range lines {
		if m := failedLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			block, le.category = i, m[1]
			break
		}
	}
	last := -1
	for i, l := range lines[:block] {
		if m := insnLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			last = i
			le.insn, _ = strconv.Atoi(m[1])
			le.insnText = m[2]
		}
	}
	for i := 0; i < last; i++ {
		if m := srcLine.FindStringSubmatch(strings.TrimSpace(lines[i])); m != nil {
			le.file = m[1]
			le.line, _ = strconv.Atoi(m[2])
		}
	}
	msg := messageLines(lines[last+1 : block])
	if block < len(lines) {
		msg = append(msg, le.parseBlock(lines[block+1:])...)
	}
	le.message = strings.Join(msg, "\n")
	return le
}

// messageLines keeps the error lines of a log section: no statistics,
// source annotations or register dumps.
func messageLines(lines []string) []string {
	var msg []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || statsLine.MatchString(l) || strings.HasPrefix(l, ";") || strings.HasPrefix(l, "arg#0 reference type('UNKNOWN ')") {
			continue
		}
		// Register state dumps ("R1=... R10=fp0") are not the message.
		if strings.HasPrefix(l, "R") && strings.Contains(l, "=") && !strings.Contains(l, " ") {
			continue
		}
		msg = append(msg, l)
	}
	return msg
}

// parseBlock reads the sections of a 7.3 structured error block and
// returns the classic message lines the kernel prints after it.
func (le *logError) parseBlock(lines []string) []string {
	section := ""
	var reason, suggestion []string
	var at *Related
	var tail []string
	for _, raw := range lines {
		l := strings.TrimSpace(raw)
		if m := blockHeading.FindStringSubmatch(l); m != nil {
			section = m[1]
			continue
		}
		indented := raw != l
		if section == "Suggestion" && l == "" {
			section = "end" // the classic message may follow
			continue
		}
		switch section {
		case "Reason":
			if l != "" {
				reason = append(reason, l)
			}
		case "Suggestion":
			suggestion = append(suggestion, l)
		case "At", "Causal path":
			if m := blockSite.FindStringSubmatch(l); m != nil {
				site := Related{Insn: -1, Function: m[1], File: m[2]}
				site.Line, _ = strconv.Atoi(m[3])
				site.Column, _ = strconv.Atoi(m[4])
				if section == "At" {
					at = &site
				} else {
					le.path = append(le.path, site)
				}
				continue
			}
			cur := at
			if section == "Causal path" && len(le.path) > 0 {
				cur = &le.path[len(le.path)-1]
			}
			if cur == nil {
				continue
			}
			if m := blockCaret.FindStringSubmatch(l); m != nil && cur.Message == "" {
				cur.Message = strings.TrimSpace(m[2])
				if m[1] != "" && m[1] != "error" {
					cur.Message = m[1] + ": " + cur.Message
				}
			}
			if m := blockInsn.FindStringSubmatch(l); m != nil && !cur.hasInsn {
				cur.Insn, _ = strconv.Atoi(m[1])
				cur.hasInsn = true
				if section == "At" {
					le.insnText = m[2]
				}
			}
		case "end":
			if l != "" && !indented {
				tail = append(tail, l)
			}
		}
	}
	le.reason = strings.Join(reason, " ")
	le.suggestion = strings.Join(suggestion, " ")
	if at != nil {
		le.file, le.line, le.column = at.File, at.Line, at.Column
		if at.hasInsn {
			le.insn = at.Insn
		}
	}
	return messageLines(tail)
}

// classify maps a verifier message to the static rule whose kernel
// patterns (analysis.Rules) it contains. The kernel prints the cause first
// ("held lock and object are not in the same allocation" before "must be
// held"), so the pattern found earliest wins; at the same place one tied
// to the failing instruction beats a general one.
func classify(msg, insnText string) string {
	best, bestAt, bestSpecific := analysis.CodeVerifierOther, len(msg)+1, false
	for _, r := range analysis.Rules() {
		for _, p := range r.KernelPatterns {
			if p.Insn != "" && !strings.HasPrefix(insnText, p.Insn) {
				continue
			}
			at := strings.Index(msg, p.Text)
			specific := p.Insn != ""
			if at >= 0 && (at < bestAt || at == bestAt && specific && !bestSpecific) {
				best, bestAt, bestSpecific = r.Code, at, specific
			}
		}
	}
	return best
}

// LogProgram is one rejected program found in a saved log.
type LogProgram struct {
	Program    string `json:"program"` // "" when the log does not name it
	Message    string `json:"message"`
	Insn       int    `json:"insn"`
	SourceFile string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
	Column     int    `json:"column,omitempty"`
	Code       string `json:"code"`
	// From a 7.3 structured block.
	Category   string    `json:"category,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Suggestion string    `json:"suggestion,omitempty"`
	Related    []Related `json:"related,omitempty"` // the causal path
}

var (
	libbpfBegin = regexp.MustCompile(`prog '([^']+)': -- BEGIN PROG LOAD LOG --`)
	libbpfEnd   = regexp.MustCompile(`-- END PROG LOAD LOG --`)
	// veristatBegin opens one program's log in `veristat -v` output.
	veristatBegin = regexp.MustCompile(`^PROCESSING (\S+)/(\S+), DURATION US: \d+, VERDICT: (\w+), VERIFIER LOG:`)
	// veristatTable is the header of veristat's summary table.
	veristatTable = regexp.MustCompile(`^File\s+Program\s+Verdict`)
	// wrapperLine is what bpftool, libbpf and veristat print around
	// verifier logs; it is never part of one.
	wrapperLine = regexp.MustCompile(`^(libbpf: |Error: |Warning: |If it used to work for this object file|Processing '|-{5,}|Done\. Processed )`)
)

// ParseLog reads a saved verifier log (bpftool -d, veristat or libbpf
// output, or a bare verifier log) and returns the rejections it records.
// Once a tool's per-program block has been seen, text outside blocks is the
// tool's own and ignored; a bare log loses only the tools' wrapper lines.
func ParseLog(text string) []LogProgram {
	var out []LogProgram
	var block []string
	name, inBlock, sawBlock, failed := "", false, false, true
	flush := func() {
		if len(block) > 0 && failed {
			le := parseProgramLog(strings.Join(block, "\n"))
			if le.message != "" {
				out = append(out, LogProgram{Program: name, Message: le.message, Insn: le.insn, SourceFile: le.file, Line: le.line, Column: le.column,
					Code: classify(le.message, le.insnText), Category: le.category, Reason: le.reason, Suggestion: le.suggestion, Related: le.path})
			}
		}
		block, name, failed = nil, "", true
	}
	for _, l := range strings.Split(text, "\n") {
		switch m, v := libbpfBegin.FindStringSubmatch(l), veristatBegin.FindStringSubmatch(l); {
		case m != nil:
			flush()
			name, inBlock, sawBlock = m[1], true, true
		case v != nil:
			flush()
			name, inBlock, sawBlock, failed = v[2], true, true, v[3] != "success"
		case libbpfEnd.MatchString(l), veristatTable.MatchString(l):
			flush()
			inBlock = false
		case inBlock:
			block = append(block, strings.TrimPrefix(l, "libbpf: "))
		case !sawBlock && !wrapperLine.MatchString(l):
			block = append(block, l)
		}
	}
	flush()
	return out
}
