// Package verifier cross-checks bpf-lsp's static verdicts against the
// running kernel: it compiles BPF C with clang, loads every program of the
// object separately into the verifier (with one BTF object shared by maps
// and programs, as libbpf does), maps each rejection to its source line
// through BTF line info, classifies it into the static rule codes and says
// where the two verdicts agree. It pins nothing and closes every object.
package verifier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Options configure a cross-check.
type Options struct {
	// Clang is the compiler to run. Empty means clang-19, then clang, from
	// PATH. It is only ever what the user configured: never a compiler
	// named by files in the workspace.
	Clang string
	// Parser parses sources for their compile flags and static findings.
	Parser *cparse.Parser
	// Timeout bounds one clang run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Progress, if set, is called before each path (done paths of total)
	// and once at the end with done == total.
	Progress func(done, total int, path string)
}

// DefaultTimeout bounds one clang run.
const DefaultTimeout = 2 * time.Minute

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// Verdicts and agreements.
const (
	Accept = "accept"
	Reject = "reject"
	Failed = "error" // the program could not be verified (compile or load error)

	Agree        = "agree"
	StaticOnly   = "static-only"
	VerifierOnly = "verifier-only"
)

// Result is the kernel's verdict on one program, set against the static one.
type Result struct {
	File    string // the source file ("" for a prebuilt object without line info)
	Object  string
	Program string
	Section string
	Verdict string
	Message string // the kernel's message for a reject, or the error
	Insn    int    // failing instruction (raw offset), -1 if unknown
	// Where the kernel reports the rejection (from BTF line info, else the
	// log's source annotations); 0 when unknown.
	SourceFile   string
	Line, Column int
	Code         string // rule code the rejection corresponds to
	// From a 7.3 kernel's structured error: its category, reason and
	// suggestion, and the causal path (located through BTF line info).
	Category, KernelReason, Suggestion string
	Related                            []Related
	Log                                string // the whole verifier log
	Note                               string // e.g. "object built without -g: no line info"
	Static                             []analysis.Finding
	Agreement                          string
	Reason                             string
}

// CapabilityError says what the machine lacks for a cross-check and how to
// get it.
type CapabilityError struct{ Msg string }

func (e *CapabilityError) Error() string { return e.Msg }

// Run compiles (for .c files) and verifies every program of every path
// (.c sources and .o objects). It stops at once when ctx is cancelled,
// killing clang and removing its temporary files, and returns ctx's error.
func Run(ctx context.Context, opts Options, paths []string) ([]Result, error) {
	needClang := false
	for _, p := range paths {
		if !strings.HasSuffix(p, ".o") {
			needClang = true
		}
	}
	clang := ""
	if needClang {
		var err error
		if clang, err = clangPath(opts.Clang); err != nil {
			return nil, err
		}
	}
	if err := Probe(); err != nil {
		return nil, err
	}
	if opts.Parser == nil {
		opts.Parser = cparse.NewParser(cparse.Options{})
	}
	removeStaleTempDirs()
	var out []Result
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if opts.Progress != nil {
			opts.Progress(i, len(paths), p)
		}
		rs, err := verifyPath(ctx, opts, clang, p)
		if err != nil {
			return out, err
		}
		out = append(out, rs...)
	}
	if opts.Progress != nil {
		opts.Progress(len(paths), len(paths), "")
	}
	return out, ctx.Err()
}

func verifyPath(ctx context.Context, opts Options, clang, path string) ([]Result, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(abs, ".o") {
		obj, err := os.ReadFile(abs)
		if err != nil {
			return nil, err
		}
		return verifyObject(obj, abs, "", nil)
	}
	obj, f, err := compileFile(ctx, opts, clang, abs)
	var ce *CompileError
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &ce):
		return []Result{{File: abs, Verdict: Failed, Message: err.Error(), Insn: -1}}, nil
	case err != nil:
		return nil, err
	}
	return verifyObject(obj, abs, strings.TrimSuffix(filepath.Base(abs), ".c")+".o", f)
}

// verifyObject loads every program of obj and compares with the static
// findings of f (nil for a prebuilt object).
func verifyObject(obj []byte, src, objName string, f *cparse.File) ([]Result, error) {
	kernel, err := vmlinuxBTF()
	if err != nil {
		return nil, err
	}
	progs, err := loadObject(obj, kernel)
	if err != nil {
		return []Result{{File: src, Object: objName, Verdict: Failed, Message: err.Error(), Insn: -1}}, nil
	}
	var static []analysis.Finding
	if f != nil {
		static = append(analysis.FrontendFindings(f), analysis.Run(f).Findings...)
	}
	var out []Result
	for _, p := range progs {
		r := Result{File: src, Object: objName, Program: p.name, Section: p.section, Insn: -1, Log: p.log, Note: p.note}
		if strings.HasPrefix(p.section, "?") && r.Note == "" {
			r.Note = "SEC(\"?...\"): libbpf loads this program only when its loader enables it"
		}
		switch {
		case p.err != nil:
			r.Verdict, r.Message = Failed, p.err.Error()
		case p.accepted:
			r.Verdict = Accept
		default:
			le := parseProgramLog(p.log)
			if !isVerdict(p.errno, le) {
				r.Verdict, r.Message = Failed, refusal(p.errno, le)
				break
			}
			r.Verdict = Reject
			r.Message, r.Insn = le.message, le.insn
			r.SourceFile, r.Line, r.Column = le.file, le.line, le.column
			if file, line, col, ok := sourceOf(p, le.insn); ok {
				r.SourceFile, r.Line, r.Column = file, line, col
			} else if le.line == 0 && !p.lineInfo && r.Note == "" {
				r.Note = "no line info (object built without -g?)"
			}
			r.Code = classify(r.Message, le.insnText)
			r.Category, r.KernelReason, r.Suggestion = le.category, le.reason, le.suggestion
			for _, step := range le.path {
				if file, line, col, ok := sourceOf(p, step.Insn); ok {
					step.File, step.Line, step.Column = file, line, col
				}
				r.Related = append(r.Related, step)
			}
		}
		if f != nil {
			r.Static = programFindings(f, p.name, static)
		}
		compare(&r)
		out = append(out, r)
	}
	return out, nil
}

// isVerdict tells a verifier rejection (EINVAL, EACCES or E2BIG with the
// verifier's reason in the log) from a refusal that is not about the
// program's code: a missing capability (EPERM), a feature this kernel
// lacks (ENOTSUPP), an unresolvable kernel symbol (ENOENT) or memory.
func isVerdict(errno unix.Errno, le logError) bool {
	switch errno {
	case unix.EINVAL, unix.EACCES, unix.E2BIG:
		return le.message != ""
	}
	return false
}

// errENOTSUPP is the kernel-internal "operation not supported" (524),
// which x/sys/unix does not name.
const errENOTSUPP = unix.Errno(524)

// refusal says why the kernel refused a program it did not verify.
func refusal(errno unix.Errno, le logError) string {
	why := errno.Error()
	switch errno {
	case errENOTSUPP:
		why = "not supported by the running kernel (ENOTSUPP)"
	case unix.EPERM:
		why = "operation not permitted (EPERM): a capability or kernel policy, not the program's code"
	}
	msg := "the kernel refused to load the program without a verdict: " + why
	if le.message != "" {
		msg += ": " + strings.ReplaceAll(le.message, "\n", " / ")
	}
	return msg
}

// sourceOf maps a raw instruction offset to its source line via BTF line
// info (the line of the nearest preceding instruction that has one).
func sourceOf(p loadedProgram, insn int) (string, int, int, bool) {
	if insn < 0 {
		return "", 0, 0, false
	}
	var last *btf.Line
	it := p.insns.Iterate()
	for it.Next() {
		if l, ok := it.Ins.Source().(*btf.Line); ok {
			last = l
		}
		if int(it.Offset) == insn {
			if last == nil {
				return "", 0, 0, false
			}
			return last.FileName(), int(last.LineNumber()), int(last.LineColumn()), true
		}
	}
	return "", 0, 0, false
}

// programFindings returns the static findings that belong to one program:
// those in its function, the declaration-level ones, and those in the static
// functions it reaches, unless the analysis tied such a finding to another
// program's path (a related location, the call site, inside that program's
// body): a helper's finding on the path of one caller is not another's.
func programFindings(f *cparse.File, prog string, all []analysis.Finding) []analysis.Finding {
	reach := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		fn := f.Func(name)
		if fn == nil || reach[name] {
			return
		}
		reach[name] = true
		for _, c := range fn.Calls {
			if callee := f.Func(c.Name); callee != nil && callee.Static {
				visit(c.Name)
			}
			for _, a := range c.Args {
				if cb := f.Func(strings.TrimSpace(a.Text)); cb != nil && cb.Static {
					visit(cb.Name)
				}
			}
		}
	}
	visit(prog)
	var out []analysis.Finding
	for _, fd := range all {
		switch {
		case fd.Func == "":
			out = append(out, fd) // declarations shape every program's maps
		case fd.Func == prog:
			out = append(out, fd)
		case reach[fd.Func]:
			if owner := owningProgram(f, fd); owner == "" || owner == prog {
				out = append(out, fd)
			}
		}
	}
	return out
}

// owningProgram is the program whose body holds one of a helper finding's
// related locations, "" if none does.
func owningProgram(f *cparse.File, fd analysis.Finding) string {
	for _, rel := range fd.Related {
		for _, fn := range f.Funcs {
			if fn.Section == "" || fn.Name == fd.Func || fn.BodySpan.File != rel.Span.File {
				continue
			}
			if rel.Span.Start.Offset >= fn.BodySpan.Start.Offset && rel.Span.End.Offset <= fn.BodySpan.End.Offset {
				return fn.Name
			}
		}
	}
	return ""
}

// compatible lists, for a kernel rule code, the other static codes that
// describe the same bug (the kernel reports several bugs with one message);
// a code always agrees with itself.
var compatible = map[string][]string{
	"BL201": {"BL202"},
	"BL202": {"BL201"},
	"BL204": {"BL213"},
	"BL206": {"BL212"},
	"BL207": {"BL206", "BL212"},
	"BL212": {"BL207"},
	// "bpf_list_head not found at offset=N": no lock in the root's
	// section, or an argument moved off the root.
	"BL101": {"BL104", "BL218"},
	// The kernel drops a section's record when its BTF fields do not parse
	// (two locks, a bad or missing __contains): the first lock call fails.
	"BL107": {"BL102", "BL105", "BL106"},
}

// SameBug reports whether a static finding's code describes the bug the
// kernel's message was classified as (kernelCode).
func SameBug(kernelCode, staticCode string) bool {
	return staticCode == kernelCode || slices.Contains(compatible[kernelCode], staticCode)
}

// compare sets the agreement between the kernel's verdict and the static
// findings of the program.
func compare(r *Result) {
	var errs, guarded []analysis.Finding
	for _, fd := range r.Static {
		switch {
		case fd.Code == "BL208":
			guarded = append(guarded, fd)
		case fd.Severity == analysis.SevError:
			errs = append(errs, fd)
		}
	}
	switch r.Verdict {
	case Accept:
		switch {
		case len(errs) == 0 && len(guarded) == 0:
			r.Agreement, r.Reason = Agree, "both find the program correct"
		case len(errs) == 0:
			r.Agreement, r.Reason = StaticOnly, "guarded_by data touched without its lock: the kernel does not check __guarded_by"
		default:
			r.Agreement, r.Reason = StaticOnly, fmt.Sprintf("bpf-lsp reports %s at line %d; the kernel accepts the program", errs[0].Code, errs[0].Span.Start.Line)
		}
	case Reject:
		for _, fd := range errs {
			if SameBug(r.Code, fd.Code) {
				r.Agreement = Agree
				r.Reason = fmt.Sprintf("both report %s", r.Code)
				if len(errs) > 1 {
					r.Reason += fmt.Sprintf("; bpf-lsp finds %d more (the kernel stops at its first error)", len(errs)-1)
				}
				return
			}
		}
		if len(errs) == 0 {
			r.Agreement, r.Reason = VerifierOnly, "bpf-lsp finds nothing here: a limit of its model (see README)"
		} else {
			r.Agreement, r.Reason = VerifierOnly, fmt.Sprintf("the kernel reports %s, bpf-lsp reports %s", r.Code, errs[0].Code)
		}
	default:
		r.Agreement, r.Reason = "", "not verified"
	}
}

// SortResults orders results by file and program.
func SortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].File != rs[j].File {
			return rs[i].File < rs[j].File
		}
		return rs[i].Program < rs[j].Program
	})
}
