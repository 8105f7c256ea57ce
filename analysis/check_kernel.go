package analysis

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
)

// Target-kernel checks: what the program calls must exist on the kernel it
// is checked for, and the verifier's wording follows that kernel's version.

const (
	codeCallUnavailable     = "BL401"
	codeGlobalLockTooOld    = "BL402"
	globalDataLocksRelease  = "6.2" // locks in private(NAME) sections
	heldAtExitRewordRelease = "6.14"
	// Static subprogram calls allowed under a lock, global ones refused
	// with their own message (measured: 6.1 has the old text, 6.12 the new).
	globalCallRewordRelease = "6.9"
	// bpf_rbtree_left/right: the rbtree-node messages name the kfunc.
	rbtreeNodeRewordRelease = "6.16"
)

// KernelRules are the rules that depend on the target kernel.
var KernelRules = []*Rule{{
	Code: codeCallUnavailable, Name: "call-unavailable", Title: "call the target kernel does not have",
	Doc: "The program calls a kfunc or helper that is not in the target kernel's BTF (--kernel, " +
		"targetKernels; the running kernel by default). The load fails before the verifier runs. " +
		"The finding names the first release that has the call; where the target has an equivalent " +
		"(the _impl form of a graph kfunc before 7.1, the plain form after), a quick fix switches to it.",
	Bad:  "/* --kernel 6.12 */\nif (bpf_res_spin_lock(&rlock)) return 0;",
	Good: "/* --kernel 6.12 */\nbpf_spin_lock(&glock);",
}, {
	Code: codeGlobalLockTooOld, Name: "global-lock-unsupported", Title: "bpf_spin_lock in global data before 6.2",
	Kernel:         "map '.data.A' is not a struct type or bpf_spin_lock is mangled",
	KernelPatterns: []KernelPattern{{Text: "is not a struct type or bpf_spin_lock is mangled"}},
	// 5.10 refuses the first lock call; 6.1 mismatches lock and unlock.
	KernelSince: []KernelWording{
		{Message: "map '.data.A' is not a struct type or bpf_spin_lock is mangled"},
		{Since: "6.1", Message: "bpf_spin_unlock of different lock"},
	},
	Doc: "Kernels before 6.2 accept a bpf_spin_lock only inside a map value, not in a global " +
		"(private(NAME)) section: 5.10 rejects the first lock call, 6.1 mismatches lock and unlock.",
	Bad:  "/* --kernel 6.1 */\nprivate(A) struct bpf_spin_lock glock;",
	Good: "/* --kernel 6.1 */\nstruct val { struct bpf_spin_lock lock; __u64 n; };\n/* in an array map's value */",
}}

// KernelFor returns the rule's verifier message on a kernel version (the
// zero version means the newest). Wordings were measured on the catalogued
// kernels (5.10.223, 6.1.192, 6.12.117, 7.3.4) and 6.18.
func (r *Rule) KernelFor(v kernels.Version) string {
	return r.Reword(r.Kernel, v)
}

// Reword returns msg, a verifier message of the rule in its newest
// wording, as the kernel version v prints it (the zero version means the
// newest). Messages whose wording never changed come back as they are.
func (r *Rule) Reword(msg string, v kernels.Version) string {
	if v == (kernels.Version{}) {
		return msg
	}
	out := msg
	for _, w := range r.KernelSince {
		if cmp.Or(w.Of, r.Kernel) == msg && (w.Since == "" || !v.Less(mustVersion(w.Since))) {
			out = w.Message
		}
	}
	return out
}

func mustVersion(s string) kernels.Version {
	v, err := kernels.ParseVersion(s)
	if err != nil {
		panic(err) // constants above
	}
	return v
}

// ForKernels returns findings for target kernels: res's findings with
// the kernel messages of the oldest target, plus calls a
// target lacks and constructs it does not support, one finding per site
// naming every target concerned, sorted by position.
func ForKernels(f *cparse.File, res *Result, targets []*kernels.Target) []Finding {
	if len(targets) == 0 {
		return res.Findings
	}
	targets = slices.Clone(targets)
	slices.SortStableFunc(targets, func(a, b *kernels.Target) int { return a.Version.Compare(b.Version) })
	out := make([]Finding, 0, len(res.Findings))
	for _, fd := range res.Findings {
		// Only wording that changed between releases is replaced: other
		// messages carry the finding's own offsets and names.
		if r := RuleByCode(fd.Code); r != nil && fd.Kernel != "" {
			fd.Kernel = r.Reword(fd.Kernel, targets[0].Version)
		}
		out = append(out, fd)
	}
	out = append(out, unavailableCalls(f, targets)...)
	out = append(out, globalLocksTooOld(f, res, targets)...)
	out = append(out, staticCallsUnderLock(f, res, targets)...)
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.Span.File, b.Span.File), cmp.Compare(a.Span.Start.Offset, b.Span.Start.Offset))
	})
	return out
}

// targetNames joins the names of targets for a message.
func targetNames(ts []*kernels.Target) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	s := strings.Join(names, ", ")
	if len(ts) > 1 {
		return "kernels " + s
	}
	return "kernel " + s
}

// unavailableCalls reports each call of a kfunc or helper a target lacks.
func unavailableCalls(f *cparse.File, targets []*kernels.Target) []Finding {
	var out []Finding
	var probed map[string]bool // read once, and only when a call is missing somewhere
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			kind := kernelCallKind(c.Name)
			if kind == "" {
				continue
			}
			var lacking []*kernels.Target
			for _, t := range targets {
				if !t.Has(kind, c.Name) {
					lacking = append(lacking, t)
				}
			}
			if len(lacking) == 0 {
				continue
			}
			if probed == nil {
				probed = probedNames(f.Src)
			}
			if probed[c.Name] {
				continue
			}
			name := c.Name
			if c.Spelled != c.Name {
				name = fmt.Sprintf("%s (from %s)", c.Name, c.Spelled)
			}
			msg := fmt.Sprintf("%s %s is not available on %s; %s", kind, name, targetNames(lacking), history(kind, c.Name, lacking))
			fd := Finding{Code: codeCallUnavailable, Severity: SevError, Span: c.NameSpan, Message: msg, Func: fn.Name}
			if fix, ok := equivalentCallFix(c, lacking); ok {
				fd.Fixes = []Fix{fix}
			}
			out = append(out, fd)
		}
	}
	return out
}

// probedNames lists the kfuncs the file tests for at run time
// (bpf_ksym_exists(name) or (&name) around a __weak declaration): libbpf
// then loads the program on kernels without them, and the verifier drops
// the dead calls. One pass over the text: a search per call was quadratic
// in big files.
func probedNames(src []byte) map[string]bool {
	out := map[string]bool{}
	const probe = "bpf_ksym_exists("
	for {
		i := bytes.Index(src, []byte(probe))
		if i < 0 {
			return out
		}
		src = src[i+len(probe):]
		arg := bytes.TrimPrefix(src, []byte("&"))
		if j := bytes.IndexByte(arg, ')'); j >= 0 {
			out[string(arg[:j])] = true
		}
	}
}

// history says when a call appeared, or, when every target lacking it is
// newer than the last catalogued kernel with it, that it was removed.
func history(kind, name string, lacking []*kernels.Target) string {
	last := mustVersion(kernels.LastWith(kind, name))
	removed := true
	for _, t := range lacking {
		removed = removed && t.Version != (kernels.Version{}) && last.Less(t.Version)
	}
	if removed {
		return fmt.Sprintf("it was removed after %s", last)
	}
	return fmt.Sprintf("it first appears in %s", kernels.Since(kind, name))
}

// kernelCallKind says whether a call name is a helper or kfunc some catalogued
// kernel has ("" for the program's own functions and unknown names).
func kernelCallKind(name string) string {
	switch {
	case kernels.Known(kernels.Kfunc, name):
		return kernels.Kfunc
	case kernels.Known(kernels.Helper, name):
		return kernels.Helper
	}
	return ""
}

// implArgs lists the trailing arguments the _impl form of a graph kfunc
// takes and its plain (7.1+) form does not (from the kernels' BTF
// prototypes: meta__ign, and off for the insertions).
var implArgs = map[string]string{
	"bpf_obj_new":          "NULL",
	"bpf_obj_drop":         "NULL",
	"bpf_refcount_acquire": "NULL",
	"bpf_percpu_obj_new":   "NULL",
	"bpf_percpu_obj_drop":  "NULL",
	"bpf_list_push_front":  "NULL, 0",
	"bpf_list_push_back":   "NULL, 0",
	"bpf_rbtree_add":       "NULL, 0",
}

// equivalentCallFix switches a graph kfunc called by name between its
// _impl and plain forms when the target has the other one. Calls through
// a header macro are left to the header.
func equivalentCallFix(c *cparse.Call, targets []*kernels.Target) (Fix, bool) {
	if c.Spelled != c.Name || len(c.Args) == 0 {
		return Fix{}, false
	}
	hasAll := func(name string) bool {
		for _, t := range targets {
			if !t.Has(kernels.Kfunc, name) {
				return false
			}
		}
		return true
	}
	if plain, ok := strings.CutSuffix(c.Name, "_impl"); ok {
		extra, known := implArgs[plain]
		n := strings.Count(extra, ",") + 1
		if !known || !hasAll(plain) || len(c.Args) <= n {
			return Fix{}, false
		}
		lastKept := c.Args[len(c.Args)-n-1].Span
		end := c.Args[len(c.Args)-1].Span
		return Fix{Message: "Call " + plain + " (the _impl form is deprecated)", Preferred: true, Edits: []Edit{
			{Span: c.NameSpan, NewText: plain},
			{Span: cparse.Span{File: end.File, Start: lastKept.End, End: end.End}},
		}}, true
	}
	extra, known := implArgs[c.Name]
	if !known || !hasAll(c.Name+"_impl") {
		return Fix{}, false
	}
	last := c.Args[len(c.Args)-1].Span
	return Fix{Message: "Call " + c.Name + "_impl, the form " + targetNames(targets) + " has", Preferred: true, Edits: []Edit{
		{Span: c.NameSpan, NewText: c.Name + "_impl"},
		{Span: cparse.Span{File: last.File, Start: last.End, End: last.End}, NewText: ", " + extra},
	}}, true
}

// globalLocksTooOld reports, for targets before 6.2, the first
// bpf_spin_lock call of each function on a lock in a global section: the
// kernel rejects the program there (a program that never takes the lock
// loads).
func globalLocksTooOld(f *cparse.File, res *Result, targets []*kernels.Target) []Finding {
	var old []*kernels.Target
	for _, t := range targets {
		if t.Version != (kernels.Version{}) && t.Version.Less(mustVersion(globalDataLocksRelease)) {
			old = append(old, t)
		}
	}
	if len(old) == 0 {
		return nil
	}
	globals := map[string]*Lock{}
	for _, l := range res.Locks {
		if strings.HasPrefix(l.Allocation, "section ") && l.Kind == "bpf_spin_lock" {
			globals[l.Name] = l
		}
	}
	rule := RuleByCode(codeGlobalLockTooOld)
	var out []Finding
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			if c.Name != "bpf_spin_lock" || len(c.Args) == 0 {
				continue
			}
			l := globals[strings.TrimPrefix(strings.TrimSpace(c.Args[0].Text), "&")]
			if l == nil {
				continue
			}
			kernel := rule.KernelFor(old[0].Version)
			if kernel == rule.Kernel { // the map named is the lock's section
				kernel = fmt.Sprintf("map '%s' is not a struct type or bpf_spin_lock is mangled", l.section)
			}
			out = append(out, Finding{Code: codeGlobalLockTooOld, Severity: SevError, Span: c.NameSpan, Func: fn.Name,
				Message: fmt.Sprintf("'%s' is a bpf_spin_lock in global data (%s), which %s cannot lock; locks in global data need %s",
					l.Name, l.Allocation, targetNames(old), globalDataLocksRelease),
				Kernel:  kernel,
				Related: []Related{{Span: l.Span, Message: fmt.Sprintf("'%s' declared here", l.Name)}}})
			break
		}
	}
	return out
}

// staticCallsUnderLock reports, for targets before 6.9, each call of a
// static __noinline function made while a lock is held: those kernels
// refuse every call in a critical section but bpf_spin_unlock (measured:
// 6.1 rejects such a program, 6.12 loads it). Functions clang may inline
// are left alone.
func staticCallsUnderLock(f *cparse.File, res *Result, targets []*kernels.Target) []Finding {
	var old []*kernels.Target
	for _, t := range targets {
		if t.Version != (kernels.Version{}) && t.Version.Less(mustVersion(globalCallRewordRelease)) {
			old = append(old, t)
		}
	}
	if len(old) == 0 {
		return nil
	}
	var out []Finding
	for _, fn := range f.Funcs {
		for _, c := range fn.Calls {
			callee := f.Func(c.Name)
			if callee == nil || callee.Def == nil || !callee.Static || !declaredWith(f, callee, "noinline") {
				continue
			}
			for _, h := range res.Held {
				if h.Func != fn.Name || len(h.Locks) == 0 || h.Span.File != c.Span.File ||
					c.Span.Start.Offset < h.Span.Start.Offset || c.Span.End.Offset > h.Span.End.Offset {
					continue
				}
				verb := "refuses"
				if len(old) > 1 {
					verb = "refuse"
				}
				out = append(out, Finding{Code: codeCallUnderLock, Severity: SevError, Span: c.NameSpan, Func: fn.Name,
					Message: fmt.Sprintf("calling static function %s while holding '%s': %s %s every call in a critical section; static calls under a lock need %s",
						c.Name, h.Locks[0].Name, targetNames(old), verb, globalCallRewordRelease),
					Kernel:  kernelCallUnderLock,
					Related: []Related{{Span: h.TakenAt, Message: fmt.Sprintf("'%s' taken here", h.Locks[0].Name)}}})
				break
			}
		}
	}
	return out
}
