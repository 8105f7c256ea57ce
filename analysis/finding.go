package analysis

import "github.com/bpf-lsp/bpf-lsp/cparse"

// Severity of a finding.
type Severity int

const (
	SevError Severity = iota
	SevWarning
	SevInfo
)

func (s Severity) String() string {
	switch s {
	case SevError:
		return "error"
	case SevWarning:
		return "warning"
	default:
		return "info"
	}
}

// Finding is one reported problem: what the CLI prints, the LSP publishes and
// the verifier cross-check compares against the kernel.
type Finding struct {
	Code     string // stable rule code, e.g. "BL201"
	Severity Severity
	Span     cparse.Span
	Message  string // what and why, e.g. "bpf_rbtree_add on 'groot' requires holding 'glock'"
	// Kernel is the verifier's own wording for this bug on kernel 6.18 when
	// the kernel reports it ("" when the kernel does not check it).
	Kernel  string
	Func    string // enclosing function ("" for declaration-level findings)
	Related []Related
	Fixes   []Fix
}

// Related is a secondary location: where the lock was taken, where the root
// is declared, ...
type Related struct {
	Span    cparse.Span
	Message string
}

// Fix is a suggested fix: a verb-phrase message and non-overlapping edits to
// the finding's file, all relative to the text that was analysed.
type Fix struct {
	Message   string
	Edits     []Edit
	Preferred bool
}

// Edit replaces the bytes in Span (Start.Offset..End.Offset) with NewText.
type Edit struct {
	Span    cparse.Span
	NewText string
}
