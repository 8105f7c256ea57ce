package analysis

import "github.com/bpf-lsp/bpf-lsp/cparse"

// Codes of the C frontend's own findings.
const (
	CodeCError        = "BL001"
	CodeMissingHeader = "BL002"
)

// FrontendRules describes the frontend codes, for Rules() and docs.
var FrontendRules = []*Rule{{
	Code: CodeCError, Name: "c-error", Title: "the C frontend cannot parse or type-check this code",
	Severity: SevError,
	Doc: "The file has a preprocessor, syntax or type error. bpf-lsp keeps analysing the rest of the " +
		"file (the broken function or declaration is skipped), so lock findings elsewhere stay current.",
	Bad:  "int f(void) { return x; } // x is not declared",
	Good: "int x;\nint f(void) { return x; }",
}, {
	Code: CodeMissingHeader, Name: "missing-header", Title: "an #include cannot be found",
	Severity: SevError,
	Doc: "A header named in #include is not on the include path, or cannot be read (not a regular file, too " +
		"large). bpf-lsp searches as clang does: the includer's directory (for \"x.h\"), -iquote, -I, " +
		"-isystem, the system directories, -idirafter, with the flags of the command line or editor " +
		"followed by those of the nearest compile_commands.json or compile_flags.txt. It is reported once, " +
		"at the #include in your file; errors it causes elsewhere are not reported. vmlinux.h is generated " +
		"from the running kernel's BTF.",
	Bad:  "#include \"vmlinux.h\" // not generated yet",
	Good: "// bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h\n#include \"vmlinux.h\"",
}}

// FrontendFindings turns the C frontend's errors into findings, so callers
// (CLI, LSP, verifier) report them like any other rule.
func FrontendFindings(f *cparse.File) []Finding {
	out := make([]Finding, 0, len(f.Errors))
	for _, e := range f.Errors {
		fd := Finding{Code: CodeCError, Severity: SevError, Span: e.Span, Message: e.Message}
		if e.Severity == cparse.SevWarning {
			fd.Severity = SevWarning
		}
		if e.Missing != "" {
			fd.Code = CodeMissingHeader
		}
		if e.Hint != "" {
			fd.Message += " (" + e.Hint + ")"
		}
		for _, r := range e.Related {
			fd.Related = append(fd.Related, Related{Span: r.Span, Message: r.Message})
		}
		out = append(out, fd)
	}
	return out
}
