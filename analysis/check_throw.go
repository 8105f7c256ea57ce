package analysis

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// bpf_throw unwinds the whole program: whatever references are held in any
// frame at that point leak ("bpf_throw would lead to reference leak"), as
// at an exit. A callback of bpf_loop and friends runs inside the caller's
// call, so a callback that may throw leaks the caller's references too.

// syncCallbackHelpers run their callback before they return.
var syncCallbackHelpers = map[string]bool{
	"bpf_loop": true, "bpf_for_each_map_elem": true, "bpf_user_ringbuf_drain": true, "bpf_find_vma": true,
}

// checkThrow reports the references a bpf_throw call, or a callback of c
// that may throw, leaves unreleased; they are then no longer tracked, so
// the leak is reported once.
func (a *analyzer) checkThrow(st *state, c *cparse.Call, m mode) {
	if m.callback {
		return // in less(): the lock rule refuses the call first
	}
	var throwAt *cparse.Call
	var via string
	switch {
	case c.Name == "bpf_throw":
		throwAt = c
	case syncCallbackHelpers[c.Name]:
		for _, arg := range c.Args {
			if fn := a.f.Func(strings.TrimPrefix(strings.TrimSpace(arg.Text), "&")); fn != nil {
				if t := a.throwIn(fn, map[*cparse.Func]bool{}); t != nil {
					throwAt, via = t, fn.Name
					break
				}
			}
		}
	}
	if throwAt == nil {
		return
	}
	ids := slices.Collect(maps.Keys(st.objs))
	slices.SortFunc(ids, func(x, y objID) int {
		return cmp.Or(cmp.Compare(st.objs[x].acquired.Start.Offset, st.objs[y].acquired.Start.Offset), cmp.Compare(x, y))
	})
	for _, id := range ids {
		o := st.objs[id]
		if !o.owes() {
			continue
		}
		if via == "" {
			a.report(codeRefLeak, c.NameSpan, fmt.Sprintf("the object from %s is not released when bpf_throw unwinds the program: drop it before throwing", o.from), m,
				related(o.acquired, "acquired here"))
		} else {
			a.report(codeRefLeak, c.NameSpan, fmt.Sprintf("the object from %s is not released if the callback '%s' throws: bpf_throw unwinds the program with it held", o.from, via), m,
				related(o.acquired, "acquired here"), related(throwAt.NameSpan, fmt.Sprintf("'%s' throws here", via)))
		}
		o.escaped = true
		st.objs[id] = o
	}
}

// throwIn returns a bpf_throw call fn makes, itself or through the
// functions it calls, or nil.
func (a *analyzer) throwIn(fn *cparse.Func, seen map[*cparse.Func]bool) *cparse.Call {
	if seen[fn] {
		return nil
	}
	seen[fn] = true
	for _, c := range fn.Calls {
		if c.Name == "bpf_throw" {
			return c
		}
		if callee := a.f.Func(c.Name); callee != nil && callee.Def != nil {
			if t := a.throwIn(callee, seen); t != nil {
				return t
			}
		}
	}
	return nil
}
