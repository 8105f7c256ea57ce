package analysis

import (
	"fmt"
	"maps"
	"slices"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// A static callee runs in its caller's state (locks and references cross
// bpf-to-bpf calls). Instead of re-exploring it at every call site, its
// exits are computed once per distinct entry state, described modulo id
// renaming (the verifier's own equivalence), and replayed.

type summaryKey struct {
	fn       *cparse.Func
	callback bool
	entry    string
}

type summary struct {
	exits []exitState // in the canonical ids of the entry state
	busy  bool        // being computed (a recursive call)
	// findings on the callee's paths from this entry: replayed for every
	// program whose path reaches it the same way.
	findings []Finding
}

// callStatic runs a static callee (or, with callback set, an rbtree less()
// callback) from st with its parameters bound to args, and continues with
// one of the ways it returns (the others are other paths: see choose).
func (a *analyzer) callStatic(st *state, fn *cparse.Func, args []value, callSite cparse.Span, m mode, callback bool) value {
	if a.depth >= 8 {
		a.incomplete = true // said in BL003: the callee's effects are not followed
		return value{}
	}
	// The callee sees the caller's objects and locks, not its locals: the
	// objects the caller's locals name are pinned.
	entry := &state{ptrs: map[place]objID{}, addrs: map[place]fieldAddr{}, nums: map[*cc.Declarator]scalar{}, objs: maps.Clone(st.objs), held: maps.Clone(st.held),
		pinned: slices.Clone(st.pinned), seq: st.seq, next: st.next}
	pin := func(id objID) {
		if id != noObj && !slices.Contains(entry.pinned, id) {
			entry.pinned = append(entry.pinned, id)
		}
	}
	for _, id := range st.ptrs {
		pin(id)
	}
	for _, fa := range st.addrs {
		pin(fa.key.obj)
	}
	slices.Sort(entry.pinned) // not map order: equal objects keep it (see nameByContent)
	bindParams(entry, fn, args, a)
	key, ren := a.canonical(entry)
	sk := summaryKey{fn: fn, callback: callback, entry: key}
	sum, ok := a.summaries[sk]
	if ok {
		a.stats.Reused++
		site := callSite
		if len(a.callSites) > 0 {
			site = a.callSites[0]
		}
		for _, fd := range sum.findings {
			for _, outer := range a.computing {
				outer.findings = append(outer.findings, fd)
			}
			a.emit(fd, site)
		}
	} else {
		a.stats.Summaries++
		sum = &summary{busy: true}
		a.summaries[sk] = sum
		canon := canonicalState(entry, ren)
		a.depth++
		a.callSites = append(a.callSites, callSite)
		a.computing = append(a.computing, sum)
		exits := a.analyzeFunc(fn, canon, mode{callback: callback})
		a.computing = a.computing[:len(a.computing)-1]
		a.callSites = a.callSites[:len(a.callSites)-1]
		a.depth--
		// The callee's locals end with it; exits that differed only in
		// them are one.
		seen := map[string]bool{}
		for _, ex := range exits {
			ex.st.ptrs, ex.st.addrs, ex.st.nums = map[place]objID{}, map[place]fieldAddr{}, map[*cc.Declarator]scalar{}
			ex.st.pinned = slices.Clone(canon.pinned)
			if ex.ret.obj != noObj {
				ex.st.pinned = append(ex.st.pinned, ex.ret.obj)
			}
			key, ren := a.canonical(ex.st)
			ex.st.gc(ren)
			ex.st.pinned = nil
			key += fmt.Sprintf("|ret#%d%t/%t%d", ren[ex.ret.obj], ex.ret.isNull, ex.ret.num.known, ex.ret.num.v)
			if !seen[key] {
				seen[key] = true
				sum.exits = append(sum.exits, ex)
			}
		}
		sum.busy = false
	}
	if sum.busy {
		return value{}
	}
	if callback {
		return value{} // a callback's exits do not flow back into the caller
	}
	if len(sum.exits) == 0 {
		a.infeasible() // the callee never returns on this path
		return value{}
	}
	ex := sum.exits[a.choose(len(sum.exits))]
	// Map the callee's ids back: entry objects to the caller's ids, objects
	// the callee created to fresh ones.
	back := make(map[objID]objID, len(ren))
	for old, c := range ren {
		back[c] = old
	}
	mapID := func(c objID) objID {
		if c == noObj {
			return noObj
		}
		if old, ok := back[c]; ok {
			return old
		}
		id := st.next
		st.next++
		back[c] = id
		return id
	}
	out := ex.st.rename(mapID)
	for id, o := range out.objs {
		if orig, ok := st.objs[id]; ok {
			// Keep the caller's account of where the object came from.
			o.acquired, o.from, o.fn = orig.acquired, orig.from, orig.fn
			out.objs[id] = o
		}
	}
	for k, h := range out.held {
		if orig, ok := st.held[k]; ok && orig.lock == h.lock {
			h.takenAt, h.expr = orig.takenAt, orig.expr
			out.held[k] = h
		}
	}
	st.objs, st.held, st.seq = out.objs, out.held, ex.st.seq
	ret := ex.ret
	ret.obj = mapID(ret.obj)
	if ret.res != nil {
		k := *ret.res
		k.obj = mapID(k.obj)
		ret.res = &k
	}
	return ret
}

// canonicalState renames entry's objects to their canonical ids, dropping
// the garbage the renaming left out.
func canonicalState(entry *state, ren map[objID]objID) *state {
	out := newState()
	for p, id := range entry.ptrs {
		out.ptrs[p] = ren[id]
	}
	for p, fa := range entry.addrs {
		if fa.key.obj != noObj {
			fa.key.obj = ren[fa.key.obj]
		}
		out.addrs[p] = fa
	}
	for d, n := range entry.nums {
		out.nums[d] = n
	}
	for id, o := range entry.objs {
		if c, ok := ren[id]; ok {
			out.objs[c] = o
		}
	}
	for k, h := range entry.held {
		if k.obj != noObj {
			k.obj = ren[k.obj]
		}
		out.held[k] = h
	}
	for _, id := range entry.pinned {
		if c, ok := ren[id]; ok {
			out.pinned = append(out.pinned, c)
		}
	}
	out.seq = entry.seq
	out.next = objID(len(ren) + 1)
	return out
}
