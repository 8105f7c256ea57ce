package analysis

import (
	"strings"

	"modernc.org/cc/v4"

	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// callKind classifies a call by what the lock rules care about.
type callKind int

const (
	callIgnored   callKind = iota // compiler builtins (__builtin_btf_type_id, ...)
	callLock                      // bpf_spin_lock
	callUnlock                    // bpf_spin_unlock
	callResLock                   // bpf_res_spin_lock (returns 0 when taken)
	callResUnlock                 // bpf_res_spin_unlock
	callGraph                     // a graph kfunc allowed under the lock
	callHelper                    // any other helper: forbidden under a lock
	callKfunc                     // any other kfunc: forbidden under a lock
	callStatic                    // a static function of this file: allowed, analysed in context
	callGlobal                    // a global function: forbidden under a lock
	callIndirect                  // through a function pointer we cannot resolve
)

// refKind is what a graph kfunc returns.
type refKind int

const (
	refNone      refKind = iota
	refOwning            // must be released on every path
	refNonOwning         // valid until the lock is released
)

// graphOp describes a graph kfunc: which argument is the root, which the
// node, what it returns, and whether the node argument's ownership moves
// into the collection.
type graphOp struct {
	root, node int // argument indexes; -1 when absent
	result     refKind
	consumes   bool
	callback   int // index of the less() callback, -1 when none
	// inCallback: the kernel has no less()-specific refusal for it (adds
	// and pushes there fail on their non-owning node argument instead).
	inCallback bool
}

var graphOps = map[string]graphOp{
	"bpf_rbtree_add_impl":       {root: 0, node: 1, consumes: true, callback: 2, inCallback: true},
	"bpf_rbtree_add":            {root: 0, node: 1, consumes: true, callback: 2, inCallback: true},
	"bpf_rbtree_remove":         {root: 0, node: 1, result: refOwning, callback: -1},
	"bpf_rbtree_first":          {root: 0, node: -1, result: refNonOwning, callback: -1, inCallback: true},
	"bpf_rbtree_root":           {root: 0, node: -1, result: refNonOwning, callback: -1, inCallback: true},
	"bpf_rbtree_left":           {root: 0, node: 1, result: refNonOwning, callback: -1},
	"bpf_rbtree_right":          {root: 0, node: 1, result: refNonOwning, callback: -1},
	"bpf_list_push_front_impl":  {root: 0, node: 1, consumes: true, callback: -1, inCallback: true},
	"bpf_list_push_back_impl":   {root: 0, node: 1, consumes: true, callback: -1, inCallback: true},
	"bpf_list_push_front":       {root: 0, node: 1, consumes: true, callback: -1, inCallback: true},
	"bpf_list_push_back":        {root: 0, node: 1, consumes: true, callback: -1, inCallback: true},
	"bpf_list_pop_front":        {root: 0, node: -1, result: refOwning, callback: -1},
	"bpf_list_pop_back":         {root: 0, node: -1, result: refOwning, callback: -1},
	"bpf_list_front":            {root: 0, node: -1, result: refNonOwning, callback: -1},
	"bpf_list_back":             {root: 0, node: -1, result: refNonOwning, callback: -1},
	"bpf_refcount_acquire_impl": {root: -1, node: 0, result: refOwning, callback: -1, inCallback: true},
	"bpf_refcount_acquire":      {root: -1, node: 0, result: refOwning, callback: -1, inCallback: true},
}

// allocators return a new owning reference; releasers consume one.
var (
	allocators = map[string]bool{"bpf_obj_new_impl": true, "bpf_obj_new": true, "bpf_percpu_obj_new_impl": true}
	releasers  = map[string]bool{"bpf_obj_drop_impl": true, "bpf_obj_drop": true, "bpf_percpu_obj_drop_impl": true}
	// helpers by name, for programs whose helper declarations we cannot see.
	knownHelpers = map[string]bool{"bpf_spin_lock": true, "bpf_spin_unlock": true, "bpf_trace_printk": true,
		"bpf_map_lookup_elem": true, "bpf_map_update_elem": true, "bpf_map_delete_elem": true,
		"bpf_ktime_get_ns": true, "bpf_get_prandom_u32": true, "bpf_get_smp_processor_id": true,
		"bpf_tail_call": true, "bpf_kptr_xchg": true}
)

// classify says what kind of call c is, given the file's functions.
func classify(f *cparse.File, c *cparse.Call) callKind {
	name := c.Name
	switch name {
	case "bpf_spin_lock":
		return callLock
	case "bpf_spin_unlock":
		return callUnlock
	case "bpf_res_spin_lock", "bpf_res_spin_lock_irqsave":
		return callResLock
	case "bpf_res_spin_unlock", "bpf_res_spin_unlock_irqrestore":
		return callResUnlock
	}
	if _, ok := graphOps[name]; ok {
		return callGraph
	}
	if name == "" {
		return callIndirect
	}
	if strings.HasPrefix(name, "__builtin_") || strings.HasPrefix(name, "__sync_") {
		return callIgnored
	}
	if fn := f.Func(name); fn != nil {
		if fn.Static {
			return callStatic
		}
		return callGlobal
	}
	if d := c.Callee; d != nil && d.Type() != nil {
		if d.Type().Kind() == cc.Ptr {
			return callHelper // `static long (*bpf_x)(...) = (void *)N;`
		}
		if d.Type().Kind() == cc.Function {
			return callKfunc // extern __ksym declarations
		}
	}
	if knownHelpers[name] {
		return callHelper
	}
	return callKfunc
}

// displayName is how a call is named in messages: as the user wrote it
// when that is the API's own macro (bpf_rbtree_add for bpf_rbtree_add_impl,
// bpf_printk), but as the call it expands to when the program's own macro
// wraps it (CHECK(...) around bpf_spin_unlock): the finding's range stays
// on the invocation.
func displayName(c *cparse.Call) string {
	switch {
	case c.Spelled == "" || c.Spelled == c.Name:
		return c.Name
	case strings.HasPrefix(c.Name, c.Spelled) || strings.HasPrefix(c.Spelled, "bpf_"):
		return c.Spelled
	}
	return strings.TrimSuffix(c.Name, "_impl")
}
