package verifier

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	// insnLine is a verifier log line for one instruction: "16: (85) call ...".
	insnLine = regexp.MustCompile(`^(\d+): \([0-9a-f]{2}\) (.*)$`)
	// srcLine is a log source annotation: "; bpf_rbtree_add(...) @ t.bpf.c:35".
	srcLine = regexp.MustCompile(`^; .* @ (\S+):(\d+)$`)
	// statsLine matches the log's trailing statistics.
	statsLine = regexp.MustCompile(`^(processed \d+ insns|verification time|stack depth|max_states_per_insn|total_states|peak_states|mark_read)`)
)

// logError is what a verifier log says about a rejection.
type logError struct {
	insn     int    // raw offset of the failing instruction, -1 if none
	insnText string // e.g. "call bpf_spin_lock#93"
	message  string // the error lines after it
	file     string // from the last source annotation before it
	line     int
}

// parseProgramLog extracts the failing instruction (the last instruction
// line: the verifier stops there) and the message that follows it.
func parseProgramLog(log string) logError {
	le := logError{insn: -1}
	lines := strings.Split(log, "\n")
	last := -1
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if m := insnLine.FindStringSubmatch(l); m != nil {
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
	var msg []string
	for _, l := range lines[last+1:] {
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
	le.message = strings.Join(msg, "\n")
	return le
}

// classify maps a verifier message to the static rule code for the same bug.
func classify(msg, insnText string) string {
	switch {
	case strings.Contains(msg, "not in the same allocation"):
		return "BL202"
	case strings.Contains(msg, "must be held for"):
		return "BL201"
	case strings.Contains(msg, "cannot be used inside bpf_spin_lock-ed region") && strings.Contains(msg, "BPF_EXIT"),
		strings.Contains(msg, "bpf_spin_unlock is missing"):
		return "BL203"
	case strings.Contains(msg, "without taking a lock"):
		return "BL204"
	case strings.Contains(msg, "of different lock"):
		return "BL205"
	case strings.Contains(msg, "cannot be out of order"), strings.Contains(msg, "AA deadlock"):
		return "BL213"
	case strings.Contains(msg, "Locking two bpf_spin_locks"):
		return "BL206"
	case strings.Contains(msg, "can't spin_"), strings.Contains(msg, "in rbtree cb"), strings.Contains(msg, "unnecessary rbtree callback"):
		return "BL212"
	case strings.Contains(msg, "function calls are not allowed while holding a lock"):
		if strings.HasPrefix(insnText, "call bpf_spin_lock#") {
			return "BL206"
		}
		return "BL207"
	case strings.Contains(msg, "Unreleased reference"), strings.Contains(msg, "would lead to reference leak"):
		return "BL210"
	case strings.Contains(msg, "ptr_or_null"):
		return "BL211"
	case strings.Contains(msg, "invalid mem access 'scalar'"):
		return "BL209"
	case strings.Contains(msg, "bpf_spin_lock is mangled") && (strings.Contains(msg, "map '.data") || strings.Contains(msg, "map '.bss")):
		// Before 6.2 a global section is not a struct to the lock check.
		return "BL402"
	case strings.Contains(msg, "has no valid bpf_spin_lock"):
		return "BL107"
	case strings.Contains(msg, "not found at offset"):
		return "BL101"
	}
	return "BL900"
}

// LogProgram is one rejected program found in a saved log.
type LogProgram struct {
	Program    string `json:"program"` // "" when the log does not name it
	Message    string `json:"message"`
	Insn       int    `json:"insn"`
	SourceFile string `json:"file,omitempty"`
	Line       int    `json:"line,omitempty"`
	Code       string `json:"code"`
}

var (
	libbpfBegin = regexp.MustCompile(`prog '([^']+)': -- BEGIN PROG LOAD LOG --`)
	libbpfEnd   = regexp.MustCompile(`-- END PROG LOAD LOG --`)
	logPrefix   = regexp.MustCompile(`^libbpf: `)
)

// ParseLog reads a saved verifier log (bpftool -d, veristat or libbpf
// output, or a bare verifier log) and returns the rejections it records.
func ParseLog(text string) []LogProgram {
	var out []LogProgram
	lines := strings.Split(text, "\n")
	var block []string
	name := ""
	inBlock := false
	flush := func() {
		if len(block) == 0 {
			return
		}
		le := parseProgramLog(strings.Join(block, "\n"))
		if le.insn >= 0 || le.message != "" {
			out = append(out, LogProgram{Program: name, Message: le.message, Insn: le.insn, SourceFile: le.file, Line: le.line, Code: classify(le.message, le.insnText)})
		}
		block = nil
	}
	for _, l := range lines {
		if m := libbpfBegin.FindStringSubmatch(l); m != nil {
			flush()
			name, inBlock = m[1], true
			continue
		}
		if libbpfEnd.MatchString(l) {
			flush()
			inBlock = false
			continue
		}
		if inBlock || !logPrefix.MatchString(l) {
			block = append(block, logPrefix.ReplaceAllString(l, ""))
		}
	}
	flush()
	return out
}
