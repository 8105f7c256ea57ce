package analysis

import (
	"maps"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// objID names an abstract object a pointer may point to: a map value, an
// allocated node, a parameter's pointee. IDs are derived from the AST node
// that produced the object, so they are stable across fixpoint iterations.
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

// heldLock is a lock held at a program point.
type heldLock struct {
	lock    *Lock
	expr    string // how the program names it, e.g. "glock" or "b->lock"
	takenAt cparse.Span
	must    bool // held on every path (false: on some paths only)
	order   int  // acquisition order, for LIFO checks of resilient locks
	res     bool // a bpf_res_spin_lock
	pending *cc.PostfixExpression
	// pendingVar is set while a bpf_res_spin_lock result is not tested yet
	// (held only if the call returned 0): the variable holding the result.
	pendingVar *cc.Declarator
}

// objState is what the analysis knows about one object.
type objState struct {
	ref       refKind // owning / non-owning / none (map values, parameters)
	maybeNull bool
	isNull    bool
	released  bool
	invalid   bool        // a non-owning reference after the unlock
	escaped   bool        // merged beyond tracking: no leak reports
	acquired  cparse.Span // where it was obtained
	from      string      // the call that produced it, as written
	unlockAt  cparse.Span // the unlock that invalidated it
	reported  bool        // a finding about this object was reported already
	fn        string      // the function whose analysis created it
}

// state is the abstract state at a program point.
type state struct {
	vars map[*cc.Declarator]objID
	objs map[objID]objState
	held map[lockKey]heldLock
	seq  int // acquisition counter
}

func newState() *state {
	return &state{vars: map[*cc.Declarator]objID{}, objs: map[objID]objState{}, held: map[lockKey]heldLock{}}
}

func (s *state) clone() *state {
	return &state{vars: maps.Clone(s.vars), objs: maps.Clone(s.objs), held: maps.Clone(s.held), seq: s.seq}
}

func (s *state) equal(o *state) bool {
	return s.seq == o.seq && maps.Equal(s.vars, o.vars) && maps.Equal(s.objs, o.objs) && maps.EqualFunc(s.held, o.held, func(a, b heldLock) bool { return a == b })
}

// anyHeld returns some lock held (must or may), preferring a must-held one.
func (s *state) anyHeld() (heldLock, bool) {
	var best heldLock
	found := false
	for _, h := range s.held {
		if !found || h.must && !best.must || h.must == best.must && h.order > best.order {
			best, found = h, true
		}
	}
	return best, found
}

// join merges the state of another path into s. phi gives the ID for a
// variable that points to different objects on the two paths.
func (s *state) join(o *state, phi func(*cc.Declarator) objID) {
	for k, a := range s.held {
		b, ok := o.held[k]
		if !ok {
			a.must = false
			s.held[k] = a
			continue
		}
		a.must = a.must && b.must
		if a.pendingVar == nil {
			a.pendingVar = b.pendingVar
		}
		if a.pending == nil {
			a.pending = b.pending
		}
		s.held[k] = a
	}
	for k, b := range o.held {
		if _, ok := s.held[k]; !ok {
			b.must = false
			s.held[k] = b
		}
	}
	// Variables first, with each side's own view of its objects: a variable
	// pointing to different objects on the two paths gets a phi object.
	phis := map[objID]objState{}
	var escaped []objID
	for d, b := range o.vars {
		a, ok := s.vars[d]
		switch {
		case !ok || a == b:
			s.vars[d] = b
		case s.objs[a].isNull || o.objs[b].isNull:
			// NULL on one path (p = NULL; if (c) p = alloc();): the same
			// object, which may be NULL.
			keep, other := b, o.objs[b]
			if o.objs[b].isNull {
				keep, other = a, s.objs[a]
			}
			other.maybeNull = true
			s.vars[d] = keep
			phis[keep] = other
		default:
			id := phi(d)
			m := joinObj(s.objs[a], o.objs[b])
			m.escaped = true
			phis[id] = m
			s.vars[d] = id
			escaped = append(escaped, a, b)
		}
	}
	for id, b := range o.objs {
		if a, ok := s.objs[id]; ok {
			s.objs[id] = joinObj(a, b)
		} else {
			s.objs[id] = b
		}
	}
	for _, id := range escaped {
		o := s.objs[id]
		o.escaped = true // now tracked through the phi object
		s.objs[id] = o
	}
	for id, m := range phis {
		if old, ok := s.objs[id]; ok {
			esc := m.escaped
			m = joinObj(old, m)
			m.escaped = esc
		}
		s.objs[id] = m
	}
	s.seq = max(s.seq, o.seq)
}

func joinObj(a, b objState) objState {
	gone := func(x objState) bool { return x.released || x.isNull }
	m := a
	m.maybeNull = a.maybeNull || b.maybeNull || a.isNull != b.isNull
	m.isNull = a.isNull && b.isNull
	m.released = gone(a) && gone(b) && !m.isNull
	m.invalid = a.invalid || b.invalid
	m.escaped = a.escaped || b.escaped
	m.reported = a.reported || b.reported
	if m.ref == refNone {
		m.ref = b.ref
	}
	if m.acquired.File == "" {
		m.acquired, m.from = b.acquired, b.from
	}
	if m.unlockAt.File == "" {
		m.unlockAt = b.unlockAt
	}
	return m
}
