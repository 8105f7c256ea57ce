package analysis

import (
	"fmt"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
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

// progKind returns the program type family of a SEC("...") name that the
// kernel restricts: "tracing", "socket filter", or "".
func progKind(sec string) string {
	kind, _, _ := strings.Cut(strings.TrimPrefix(sec, "?"), "/")
	switch {
	case tracingKinds[kind]:
		return "tracing"
	case kind == "socket":
		return "socket filter"
	}
	return ""
}

// checkProgType reports a tracing program that uses a map holding a lock or
// a graph root, or a socket filter using a map with a lock. The kernel checks this when the program loads the map's
// address, on any path, so this check reads the program's code and the
// static functions it calls rather than following paths. It reports the
// first such use.
func (a *analyzer) checkProgType(prog *cparse.Func) {
	kind := progKind(prog.Section)
	if kind == "" {
		return
	}
	byDecl := map[*cc.Declarator]*cparse.Var{}
	for _, v := range a.f.Vars {
		byDecl[v.Decl] = v
	}
	seen := map[*cparse.Func]bool{}
	var visit func(fn *cparse.Func) bool
	visit = func(fn *cparse.Func) bool {
		if fn == nil || fn.Def == nil || seen[fn] {
			return false
		}
		seen[fn] = true
		found := false
		cparse.Inspect(fn.Def.CompoundStatement, func(n cc.Node) bool {
			p, ok := n.(*cc.PrimaryExpression)
			if found || !ok || p.Case != cc.PrimaryExpressionIdent {
				return !found
			}
			if callee := a.f.Func(p.Token.SrcStr()); callee != nil && callee.Static {
				found = visit(callee)
				return !found
			}
			v := byDecl[declOf(p)]
			if v == nil {
				return true
			}
			// Socket filters may use graph roots, not locks.
			if what, graph := a.mapHolds(v); what != "" && (kind == "tracing" || !graph) {
				a.reportProgType(prog, kind, fn, a.span(p), v, what, graph)
				found = true
			}
			return !found
		})
		return found
	}
	visit(prog)
}

// mapHolds says what lock or root the map behind a global lives with: a
// variable in a section with a lock, or a BTF map whose value holds one.
func (a *analyzer) mapHolds(v *cparse.Var) (what string, graph bool) {
	if v.Section == ".maps" {
		return valueHolds(mapValueType(v.Type))
	}
	if len(a.cl.sectionLocks(v.Section)) == 0 {
		return "", false
	}
	for _, g := range a.cl.guarded {
		if g.root && g.Lock != nil && g.Lock.section == v.Section {
			return g.Kind, true
		}
	}
	return "bpf_spin_lock", false
}

// mapValueType returns the value type of a BTF map definition
// (`__type(value, T)` is a member `T *value`).
func mapValueType(t cc.Type) cc.Type {
	st, ok := t.(*cc.StructType)
	if !ok {
		return nil
	}
	f := st.FieldByName("value")
	if f == nil {
		return nil
	}
	if p, ok := f.Type().(*cc.PointerType); ok {
		return p.Elem()
	}
	return nil
}

// valueHolds finds a lock or graph root in a map value type (nested
// structs included).
func valueHolds(t cc.Type) (what string, graph bool) {
	st, ok := t.(*cc.StructType)
	if !ok {
		return "", false
	}
	for i := range st.NumFields() {
		ft := st.FieldByIndex(i).Type()
		switch structName(ft) {
		case "bpf_list_head", "bpf_rb_root":
			return structName(ft), true
		case "bpf_spin_lock", "bpf_res_spin_lock":
			what = structName(ft)
		default:
			if w, g := valueHolds(ft); g {
				return w, g
			} else if w != "" {
				what = w
			}
		}
	}
	return what, false
}

func (a *analyzer) reportProgType(prog *cparse.Func, kind string, in *cparse.Func, span cparse.Span, v *cparse.Var, what string, graph bool) {
	kernel := kind + " progs cannot use bpf_spin_lock yet"
	if graph {
		kernel = "tracing progs cannot use bpf_{list_head,rb_root} yet"
	}
	instead := "fentry/fexit or tp_btf"
	if kind != "tracing" {
		instead = "a tc program"
	}
	msg := fmt.Sprintf("program '%s' (SEC(\"%s\")) is a %s program and cannot use '%s': its map holds a %s; use %s instead",
		prog.Name, prog.Section, kind, v.Name, what, instead)
	var rel []any
	if in != prog {
		rel = append(rel, related(in.Span, fmt.Sprintf("used in '%s', which '%s' calls", in.Name, prog.Name)))
	}
	a.report(codeTracingProgLock, span, msg, mode{fn: prog}, append(rel, kernel)...)
}
