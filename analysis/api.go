// Package analysis finds lock mistakes in BPF C programs: it infers which
// bpf_spin_lock guards each graph root and guarded_by datum (lock classes),
// then follows every program's paths the way the verifier does. Run is a
// pure function of a parsed file; rendering findings is the caller's job.
package analysis

import "github.com/bpf-lsp/bpf-lsp/cparse"

// Result is everything the analysis learned about one file.
type Result struct {
	Findings []Finding // sorted by position; suppressions applied
	Locks    []*Lock
	Guarded  []*Guarded
	Refs     []Ref       // every use of a lock or guarded object in a function body
	Held     []HeldRange // statements executed with at least one lock held
	Stats    Stats
}

// Stats says how much work the path exploration did.
type Stats struct {
	Explored  int // block states explored (programs and their callees)
	Pruned    int // states pruned as equal to one explored before
	Summaries int // static callees explored, once per distinct entry state
	Reused    int // calls answered from a summary without exploring the callee
	// Programs counts the functions analysed from their own entry
	// (programs, global functions, static functions nobody calls).
	Programs int
	// Cached counts the programs whose analysis a Cache reused from the
	// previous version of the file (the counts above include theirs).
	Cached int
}

// Lock is a bpf_spin_lock or bpf_res_spin_lock declaration.
type Lock struct {
	Name       string      // "glock", or "bucket.lock" for a field
	Span       cparse.Span // its declaration
	Kind       string      // "bpf_spin_lock" | "bpf_res_spin_lock"
	Allocation string      // "section .data.A", "map value struct bucket", "object struct node"

	section string // for a global lock: its section
	strct   string // for a field lock: the struct that holds it
	field   string // for a field lock: the field name
	offset  int64  // offset in its allocation (the kernel's "off=")
}

// Guarded is a graph root or a guarded_by datum.
type Guarded struct {
	Name     string // "groot", "bucket.head", "gcount"
	Span     cparse.Span
	Kind     string // "bpf_rb_root" | "bpf_list_head" | "data"
	Lock     *Lock  // nil when no lock guards it (a finding says so)
	Reason   string // "explicit __guarded_by(glock)", "same section .data.A", ...
	Contains string // "struct node_data.node" for roots, "" otherwise
	Kernel   string // the verifier message a violation produces

	root    bool // a bpf_rb_root or bpf_list_head
	pointee bool // the guard covers what the pointer points to
	strct   string
	field   string
}

// Ref is one use of a lock or guarded object inside a function body.
type Ref struct {
	Span    cparse.Span
	Lock    *Lock    // set when the reference names a lock
	Guarded *Guarded // set when it names guarded data or a root
	Held    []*Lock  // locks held on every path to this point
}

// HeldRange is one statement executed with at least one lock held.
type HeldRange struct {
	Func    string
	Span    cparse.Span
	Locks   []*Lock
	TakenAt cparse.Span // where the innermost lock was taken
}

// Rule is a check's stable identity and documentation.
type Rule struct {
	Code, Name, Title string
	Severity          Severity
	Kernel            string // the verifier message it corresponds to; "" if the kernel does not check
	// KernelPatterns recognise the rule in a verifier log (the verifier
	// package's classifier reads them): the kernel's wordings across versions.
	KernelPatterns []KernelPattern
	// KernelSince is the verifier's wording by release where it changed,
	// oldest first; each applies from Since ("" = the oldest) until the
	// next of the same message (see KernelFor and Reword). Empty when the
	// wording never changed.
	KernelSince    []KernelWording
	Doc, Bad, Good string
}

// KernelWording is a verifier message as printed from a release on.
type KernelWording struct {
	Since, Message string
	// Of is the newest wording of the message this is a form of, for a
	// rule that quotes several messages; "" means the rule's Kernel.
	Of string
}

// KernelPattern is a substring of a verifier message, optionally only when
// the failing instruction starts with Insn (the same message can come from
// different instructions: a call under a lock that is a second lock).
type KernelPattern struct {
	Text, Insn string
}
