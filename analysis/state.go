package analysis

import (
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// objID names an abstract object on one path: a map value, an allocated
// node, a parameter's pointee. Like the verifier's register ids, every
// lookup or allocation gets a fresh id, copies share it, and states are
// compared modulo a renaming of ids (see canonical).
type objID int

const noObj objID = 0

// lockKey identifies a lock instance: a global lock, or a lock field of an
// object (each bpf_map_lookup_elem result and each bpf_obj_new object is its
// own allocation, with its own lock).
type lockKey struct {
	global string // global lock variable
	obj    objID  // object holding a field lock
	field  string
}

// heldLock is a lock held on the current path.
type heldLock struct {
	lock    *Lock
	expr    string // how the program names it, e.g. "glock" or "b->lock"
	takenAt cparse.Span
	order   int  // acquisition order, for LIFO checks of resilient locks
	res     bool // a bpf_res_spin_lock
	pending *cc.PostfixExpression
	// pendingVar is set while a bpf_res_spin_lock result is not tested yet
	// (held only if the call returned 0): the variable holding the result.
	pendingVar *cc.Declarator
}

// taken reports whether the lock is known to be held (a resilient lock
// only once its result was tested).
func (h heldLock) taken() bool { return h.pending == nil && h.pendingVar == nil }

// objState is what the analysis knows about one object on one path.
type objState struct {
	ref       refKind // owning / non-owning / none (map values, parameters)
	maybeNull bool
	isNull    bool
	released  bool
	invalid   bool        // a non-owning reference after the unlock
	escaped   bool        // handed to code the analysis cannot follow: no leak reports
	acquired  cparse.Span // where it was obtained
	from      string      // the call that produced it, as written
	unlockAt  cparse.Span // the unlock that invalidated it
	droppedAt cparse.Span // the bpf_obj_drop that freed it
	fn        string      // the function whose analysis created it
	typ       cc.Type     // an allocated object's struct type (bpf_obj_new's cast), else nil
}

// owes reports whether the object is an owning reference that still has to
// be released.
func (o objState) owes() bool {
	return o.ref == refOwning && !o.released && !o.isNull && !o.escaped
}

// kernelCallUnderLock is the 6.18 wording for any call the lock forbids,
// lock calls inside an rbtree callback included (the callback runs with
// the lock held, so this check fires first).
const kernelCallUnderLock = "function calls are not allowed while holding a lock"

// Newest wordings of messages that changed between releases (see the
// rules' KernelSince).
const (
	kernelGlobalCallUnderLock = "global function calls are not allowed while holding a lock"
	kernelRemoveInvalidNode   = "bpf_rbtree_remove can only take non-owning or refcounted bpf_rb_node pointer"
	kernelRemoveInCallback    = "bpf_rbtree_remove not allowed in rbtree cb"
)

// nullKernel is the verifier's complaint when the object is used before its
// NULL check: the register type names what it points to.
func (o objState) nullKernel() string {
	if o.from == "bpf_map_lookup_elem" {
		return "invalid mem access 'map_value_or_null'"
	}
	return "invalid mem access 'ptr_or_null_'"
}

// scalar is what is known about an integer local: an exact value, or only
// that it is non-zero (after a branch tested it).
type scalar struct {
	known   bool
	nonZero bool
	v       int64
}

func (s scalar) isTrue() (truth, known bool) {
	switch {
	case s.known:
		return s.v != 0, true
	case s.nonZero:
		return true, true
	}
	return false, false
}

// place is where a pointer lives: a local variable, or an element or field
// of a local aggregate (path ".f", "[2]", "[1].g").
type place struct {
	d    *cc.Declarator
	path string
}

// fieldAddr is an address that is not an object: a lock, a graph root or
// a function, held in a local (a helper's `struct bpf_spin_lock *lock` or
// `less` parameter).
type fieldAddr struct {
	key  lockKey // the lock, or for a root the lock that guards it
	lock *Lock
	root *Guarded
	fn   *cparse.Func
	// callee names a function declared but not defined here (a kfunc or
	// helper) whose address a pointer holds.
	callee string
}

// state is the abstract state of one path.
type state struct {
	ptrs  map[place]objID
	addrs map[place]fieldAddr
	nums  map[*cc.Declarator]scalar
	objs  map[objID]objState
	held  map[lockKey]heldLock
	// pinned objects are referenced by the callers of the function being
	// analysed: they stay part of the state although no local names them.
	pinned []objID
	seq    int   // acquisition counter (compared by rank, not value)
	next   objID // the next fresh object id
}

func newState() *state {
	return &state{ptrs: map[place]objID{}, addrs: map[place]fieldAddr{}, nums: map[*cc.Declarator]scalar{}, objs: map[objID]objState{}, held: map[lockKey]heldLock{}, next: 1}
}

func (s *state) clone() *state {
	return &state{ptrs: maps.Clone(s.ptrs), addrs: maps.Clone(s.addrs), nums: maps.Clone(s.nums), objs: maps.Clone(s.objs), held: maps.Clone(s.held),
		pinned: slices.Clone(s.pinned), seq: s.seq, next: s.next}
}

// fresh adds a new object and returns its id.
func (s *state) fresh(o objState) objID {
	id := s.next
	s.next++
	s.objs[id] = o
	return id
}

// anyHeld returns the most recently taken lock, if any.
func (s *state) anyHeld() (heldLock, bool) {
	var best heldLock
	found := false
	for _, h := range s.held {
		if !found || h.order > best.order {
			best, found = h, true
		}
	}
	return best, found
}

// forget drops a local's pointer, its aggregate's slots and its scalar value.
func (s *state) forget(d *cc.Declarator) {
	for p := range s.ptrs {
		if p.d == d {
			delete(s.ptrs, p)
		}
	}
	for p := range s.addrs {
		if p.d == d {
			delete(s.addrs, p)
		}
	}
	delete(s.nums, d)
}

// canonical describes st modulo a renaming of object ids: two states with
// the same description behave the same in every check (the verifier's
// states_equal with its id map). It also returns the renaming (old id ->
// canonical id); objects it leaves out are garbage: nothing refers to them
// and they owe nothing.
func (a *analyzer) canonical(st *state) (string, map[objID]objID) {
	ren := map[objID]objID{}
	b := &keyBuilder{a: a}
	name := func(id objID) {
		if c, ok := ren[id]; ok {
			b.tag('#').num(int64(c))
			return
		}
		c := objID(len(ren) + 1)
		ren[id] = c
		o := st.objs[id]
		b.tag('#').num(int64(c)).tag('{').str(o.flags()).tag('}')
	}
	for _, p := range a.sortedPlaces(maps.Keys(st.ptrs)) {
		b.tag('p').num(int64(a.declOrder(p.d))).str(p.path).tag('=')
		name(st.ptrs[p])
		b.tag(';')
	}
	for _, p := range a.sortedPlaces(maps.Keys(st.addrs)) {
		fa := st.addrs[p]
		b.tag('a').num(int64(a.declOrder(p.d))).str(p.path).tag('=').str(fa.key.global).tag('.').str(fa.key.field).ptr(fa.lock).ptr(fa.root).ptr(fa.fn).str(fa.callee)
		if fa.key.obj != noObj {
			name(fa.key.obj)
		}
		b.tag(';')
	}
	nums := a.sortedNums(st.nums)
	for _, d := range nums {
		n := st.nums[d]
		b.tag('n').num(int64(a.declOrder(d))).flag(n.known).flag(n.nonZero).num(n.v).tag(';')
	}
	// Pinned objects and unreachable ones that still owe a release are
	// interchangeable among equals: order them by what they are.
	a.nameByContent(st, st.pinned, ren, name, b, "pin")
	var owing []objID
	for id, o := range st.objs {
		if _, ok := ren[id]; !ok && o.owes() && !slices.Contains(st.pinned, id) {
			owing = append(owing, id)
		}
	}
	slices.Sort(owing) // not map order: equal objects keep it (see nameByContent)
	a.nameByContent(st, owing, ren, name, b, "owe")
	type heldEntry struct {
		sortKey string
		k       lockKey
		h       heldLock
	}
	var held []heldEntry
	for k, h := range st.held {
		s := k.global + "." + k.field + "." + h.lock.Name
		if c, ok := ren[k.obj]; ok && k.obj != noObj {
			s += "#" + strconv.Itoa(int(c))
		}
		held = append(held, heldEntry{s, k, h})
	}
	slices.SortFunc(held, func(x, y heldEntry) int {
		if c := strings.Compare(x.sortKey, y.sortKey); c != 0 {
			return c
		}
		return x.h.order - y.h.order
	})
	for _, e := range held {
		b.tag('h').str(e.k.global).tag('.').str(e.k.field).ptr(e.h.lock).tag(':')
		if e.k.obj != noObj {
			name(e.k.obj)
		}
		rank := 0
		for _, o := range st.held {
			if o.order < e.h.order {
				rank++
			}
		}
		b.tag('r').num(int64(rank)).flag(e.h.res).ptr(e.h.pending).num(int64(a.declOrder(e.h.pendingVar))).tag(';')
	}
	return string(b.buf), ren
}

// keyBuilder writes state descriptions without fmt (they are built for
// every explored state).
type keyBuilder struct {
	a   *analyzer
	buf []byte
}

func (k *keyBuilder) tag(c byte) *keyBuilder { k.buf = append(k.buf, c); return k }
func (k *keyBuilder) str(s string) *keyBuilder {
	k.buf = append(k.buf, s...)
	return k
}
func (k *keyBuilder) num(n int64) *keyBuilder {
	k.buf = strconv.AppendInt(append(k.buf, '/'), n, 10)
	return k
}
func (k *keyBuilder) flag(v bool) *keyBuilder {
	if v {
		return k.tag('t')
	}
	return k.tag('f')
}

// ptr writes the identity of a pointer (a lock, a root, a function, an
// expression) as a small number fixed for the run.
func (k *keyBuilder) ptr(p any) *keyBuilder {
	n, ok := k.a.ptrIdx[p]
	if !ok {
		n = len(k.a.ptrIdx) + 1
		k.a.ptrIdx[p] = n
	}
	return k.num(int64(n))
}

// sortedPlaces orders places by variable, then path.
func (a *analyzer) sortedPlaces(keys iter.Seq[place]) []place {
	type keyed struct {
		p place
		k declKey
	}
	var ks []keyed
	for p := range keys {
		ks = append(ks, keyed{p, a.declKey(p.d)})
	}
	slices.SortFunc(ks, func(x, y keyed) int {
		if c := a.compareDecls(x.k, y.k); c != 0 {
			return c
		}
		return strings.Compare(x.p.path, y.p.path)
	})
	places := make([]place, len(ks))
	for i, k := range ks {
		places[i] = k.p
	}
	return places
}

// nameByContent names ids (a set) in an order that does not depend on the
// order they come in, where it can: those named already by their canonical
// id, the others by what they are. Objects alike in all of that keep the
// order of ids, so that the same state is always described the same way.
func (a *analyzer) nameByContent(st *state, ids []objID, ren map[objID]objID, name func(objID), b *keyBuilder, tag string) {
	sorted := slices.Clone(ids)
	slices.SortStableFunc(sorted, func(x, y objID) int {
		cx, namedX := ren[x]
		cy, namedY := ren[y]
		switch {
		case namedX && namedY:
			return int(cx - cy)
		case namedX != namedY:
			if namedX {
				return -1
			}
			return 1
		}
		if c := strings.Compare(st.objs[x].flags(), st.objs[y].flags()); c != 0 {
			return c
		}
		if c := st.objs[x].acquired.Start.Offset - st.objs[y].acquired.Start.Offset; c != 0 {
			return c
		}
		return strings.Compare(st.objs[x].from, st.objs[y].from)
	})
	for _, id := range sorted {
		b.str(tag)
		name(id)
	}
}

func (o objState) flags() string {
	bit := func(v bool, c byte) byte {
		if v {
			return c
		}
		return '-'
	}
	return string([]byte{byte('0' + o.ref), bit(o.maybeNull, 'm'), bit(o.isNull, 'n'), bit(o.released, 'r'), bit(o.invalid, 'i'), bit(o.escaped, 'e')})
}

// declKey is what declarators are ordered by, looked up once per sort:
// states are described on every step, and sorting dominated
// macro-heavy bodies.
type declKey struct {
	d    *cc.Declarator
	file string
	off  int
	seq  int // the name's token number: source order within a macro expansion
}

// declKey memoises the position of d: Declarator.Position walks the
// declarator's tree.
func (a *analyzer) declKey(d *cc.Declarator) declKey {
	if d == nil {
		return declKey{}
	}
	if k, ok := a.declPos[d]; ok {
		return k
	}
	file, off := a.f.Place(d.Position())
	name := d.NameTok()
	k := declKey{d, file, off, name.Seq()}
	a.declPos[d] = k
	return k
}

// sortDecls orders declarators by where they are declared, so
// descriptions of states list variables in the same order whatever the
// order of the maps they come from.
func (a *analyzer) sortDecls(ds []*cc.Declarator) {
	ks := make([]declKey, len(ds))
	for i, d := range ds {
		ks[i] = a.declKey(d)
	}
	slices.SortFunc(ks, a.compareDecls)
	for i, k := range ks {
		ds[i] = k.d
	}
}

// sortedNums returns the declarators of nums in sortDecls' order. The
// states along a path mostly track the same variables, and sorting them
// dominated describing states: the last order is reused for the same set.
// (Reuse numbers nothing new: every declarator of the last set got its
// declOrder when that set was described.)
func (a *analyzer) sortedNums(nums map[*cc.Declarator]scalar) []*cc.Declarator {
	if len(a.lastNums) == len(nums) && len(nums) > 0 {
		same := true
		for _, d := range a.lastNums {
			if _, ok := nums[d]; !ok {
				same = false
				break
			}
		}
		if same {
			return a.lastNums
		}
	}
	ds := slices.Collect(maps.Keys(nums))
	a.sortDecls(ds)
	a.lastNums = ds
	return ds
}

// compareDecls orders declarators by position, declarators of one
// position (from a macro) by token order: never by the order a map gave
// them in, which would number them differently from run to run. Only
// nameless ones fall back on declOrder.
func (a *analyzer) compareDecls(x, y declKey) int {
	if x.d == y.d {
		return 0
	}
	if x.d != nil && y.d != nil {
		if c := strings.Compare(x.file, y.file); c != 0 {
			return c
		}
		if c := x.off - y.off; c != 0 {
			return c
		}
		if c := x.seq - y.seq; c != 0 {
			return c
		}
	}
	return a.declOrder(x.d) - a.declOrder(y.d)
}

// declOrder numbers declarators in the order the analysis meets them: their
// identity in descriptions of states.
func (a *analyzer) declOrder(d *cc.Declarator) int {
	if d == nil {
		return 0
	}
	if n, ok := a.declIdx[d]; ok {
		return n
	}
	n := len(a.declIdx) + 1
	a.declIdx[d] = n
	return n
}

// gc removes the objects a canonical renaming left out.
func (st *state) gc(ren map[objID]objID) {
	for id := range st.objs {
		if _, ok := ren[id]; !ok {
			delete(st.objs, id)
		}
	}
}

// rename maps every object id of st through f.
func (st *state) rename(f func(objID) objID) *state {
	out := &state{ptrs: make(map[place]objID, len(st.ptrs)), addrs: make(map[place]fieldAddr, len(st.addrs)), nums: maps.Clone(st.nums), objs: make(map[objID]objState, len(st.objs)),
		held: make(map[lockKey]heldLock, len(st.held)), seq: st.seq}
	for p, id := range st.ptrs {
		out.ptrs[p] = f(id)
	}
	for p, fa := range st.addrs {
		if fa.key.obj != noObj {
			fa.key.obj = f(fa.key.obj)
		}
		out.addrs[p] = fa
	}
	for id, o := range st.objs {
		out.objs[f(id)] = o
	}
	for k, h := range st.held {
		if k.obj != noObj {
			k.obj = f(k.obj)
		}
		out.held[k] = h
	}
	for _, id := range st.pinned {
		out.pinned = append(out.pinned, f(id))
	}
	return out
}
