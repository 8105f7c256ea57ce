package analysis

import (
	"fmt"
	"strings"
)

// tracingKinds are the section prefixes of the program types the kernel
// calls tracing programs (is_tracing_prog_type): kprobe (uprobes and usdt
// included), tracepoint, perf_event and raw tracepoints. fentry/fexit and
// tp_btf are BPF_PROG_TYPE_TRACING, which may use locks.
var tracingKinds = map[string]bool{
	"kprobe": true, "kretprobe": true, "kprobe.multi": true, "kretprobe.multi": true, "kprobe.session": true,
	"uprobe": true, "uretprobe": true, "uprobe.s": true, "uretprobe.s": true, "uprobe.multi": true,
	"uretprobe.multi": true, "uprobe.multi.s": true, "uretprobe.multi.s": true, "usdt": true, "usdt.s": true,
	"ksyscall": true, "kretsyscall": true, "tracepoint": true, "tp": true, "perf_event": true,
	"raw_tp": true, "raw_tracepoint": true, "raw_tp.w": true, "raw_tracepoint.w": true,
}

// tracingSection reports whether a SEC("...") name loads as a tracing
// program type.
func tracingSection(sec string) bool {
	kind, _, _ := strings.Cut(strings.TrimPrefix(sec, "?"), "/")
	return tracingKinds[kind]
}

// checkProgType reports, once per program, a tracing program that touches
// an allocation with a lock or a graph root: the kernel refuses the map.
func (a *analyzer) checkProgType(r *Ref, m mode) {
	if a.prog == nil || a.progTypeReported || !tracingSection(a.prog.Section) {
		return
	}
	lock := r.Lock
	graph := false
	if g := r.Guarded; g != nil {
		if !g.root {
			return // __guarded_by data alone is plain memory to the kernel
		}
		lock, graph = g.Lock, true
	}
	for _, g := range a.cl.guarded {
		if g.root && lock != nil && g.Lock == lock {
			graph = true
		}
	}
	a.progTypeReported = true
	kernel := "tracing progs cannot use bpf_spin_lock yet"
	what := "a bpf_spin_lock"
	if graph {
		kernel = "tracing progs cannot use bpf_{list_head,rb_root} yet"
		what = "a bpf_list_head or bpf_rb_root"
	}
	where := "its allocation"
	if lock != nil {
		where = "'" + lock.Name + "' (" + lock.Allocation + ")"
	}
	a.report(codeTracingProgLock, r.Span, fmt.Sprintf("program '%s' (SEC(\"%s\")) is a tracing program and cannot use %s: %s holds %s; use fentry/fexit or tp_btf instead",
		a.prog.Name, a.prog.Section, a.text(r.Span), where, what), m, kernel)
}
