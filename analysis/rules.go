package analysis

// Rule codes. Each rule's metadata (title, severity, kernel wording, doc
// with a bad and a good example) lives in ruleTable below, beside the codes;
// docs/rules.md is generated from it (see docs_test.go).
const (
	codeNotChecked          = "BL003"
	codeRootWithoutLock     = "BL101"
	codeTwoLocks            = "BL102"
	codeGuardedByUnknown    = "BL103"
	codeGuardedByOtherAlloc = "BL104"
	codeRootWithoutContains = "BL105"
	codeContainsInvalid     = "BL106"
	codeContainsNotEmitted  = "BL107"
	codeGraphUnlocked       = "BL201"
	codeGraphWrongLock      = "BL202"
	codeLockHeldAtExit      = "BL203"
	codeUnlockWithoutLock   = "BL204"
	codeUnlockDifferent     = "BL205"
	codeDoubleLock          = "BL206"
	codeCallUnderLock       = "BL207"
	codeGuardedUnlocked     = "BL208"
	codeUseAfterUnlock      = "BL209"
	codeRefLeak             = "BL210"
	codeRefUnchecked        = "BL211"
	codeLockInCallback      = "BL212"
	codeResLockMisuse       = "BL213"
	codeTracingProgLock     = "BL214"
	codeNodeNotOwned        = "BL215"
	codeSpecialFieldAccess  = "BL216"
	codeNodeTypeMismatch    = "BL217"
	codeGraphArgOffset      = "BL218"
	codeUnusedSuppression   = "BL301"
	codeSuppressionNoReason = "BL302"
	// CodeVerifierOther is a kernel rejection no static rule models.
	CodeVerifierOther = "BL900"
)

var ruleTable = []*Rule{{
	Code: codeNotChecked, Name: "not-checked", Title: "part of the program could not be checked",
	Severity: SevInfo,
	Doc: "bpf-lsp says so instead of guessing when it cannot follow a program: its paths exceed the " +
		"analysis budget, or it is written in inline assembly (__naked) outside what bpf-lsp follows " +
		"(64-bit moves and arithmetic, map lookups, helper calls, NULL checks, loads and stores, jumps). " +
		"Findings in it may be incomplete; `bpf-lsp verify` asks the kernel.",
	Bad:  "__naked int prog(void) { asm volatile (\"w0 = 0; exit;\"); }",
	Good: "int prog(void *ctx) { return 0; }",
}, {
	Code: codeRootWithoutLock, Name: "root-without-lock", Title: "graph root without a lock in its allocation",
	Kernel:         "bpf_rb_root not found at offset=0",
	KernelPatterns: []KernelPattern{{Text: "not found at offset"}},
	Doc: "A bpf_rb_root or bpf_list_head is protected by the one bpf_spin_lock in the same allocation " +
		"(the same private(NAME) section, map value or bpf_obj_new object). Without one, the kernel " +
		"drops the root from the map's record and rejects every graph call on it.",
	Bad:  "private(A) struct bpf_rb_root groot __contains(node, rb);\n/* no lock in .data.A */",
	Good: "private(A) struct bpf_spin_lock glock;\nprivate(A) struct bpf_rb_root groot __contains(node, rb);",
}, {
	Code: codeTwoLocks, Name: "two-locks", Title: "two locks in one allocation",
	Kernel: "map '.data.A' has no valid bpf_spin_lock",
	Doc: "The kernel allows one bpf_spin_lock per map value, section or object (its field parser " +
		"fails with -E2BIG). Put the second lock and what it guards in their own private(NAME) section.",
	Bad:  "private(A) struct bpf_spin_lock l1;\nprivate(A) struct bpf_spin_lock l2;",
	Good: "private(A) struct bpf_spin_lock l1;\nprivate(B) struct bpf_spin_lock l2;",
}, {
	Code: codeGuardedByUnknown, Name: "guarded-by-unknown", Title: "__guarded_by names no lock",
	Severity: SevWarning,
	Doc: "__guarded_by(lock) must name a bpf_spin_lock in the same scope: a sibling field for a field, " +
		"a global for a global. Otherwise nothing is checked.",
	Bad:  "private(A) __u64 count __guarded_by(glokc);",
	Good: "private(A) __u64 count __guarded_by(glock);",
}, {
	Code: codeGuardedByOtherAlloc, Name: "guarded-by-other-allocation", Title: "__guarded_by names a lock of another allocation",
	Severity: SevWarning,
	Doc: "A lock protects only its own allocation. The kernel ignores the guarded_by tag and applies " +
		"its own rule, so a root tagged with a lock of another section is still rejected, and data " +
		"in another section is not made safe by holding that lock.",
	Bad:  "private(A) struct bpf_spin_lock glock;\nprivate(B) struct bpf_rb_root groot __guarded_by(glock) __contains(node, rb);",
	Good: "private(A) struct bpf_spin_lock glock;\nprivate(A) struct bpf_rb_root groot __contains(node, rb);",
}, {
	Code: codeRootWithoutContains, Name: "root-without-contains", Title: "graph root without __contains",
	Kernel: "map '.data.A' has no valid bpf_spin_lock",
	Doc: "The kernel needs __contains(type, node_field) on every bpf_rb_root and bpf_list_head to know " +
		"what it holds; without it the BTF field parser fails (-EINVAL).",
	Bad:  "private(A) struct bpf_list_head head;",
	Good: "private(A) struct bpf_list_head head __contains(item, link);",
}, {
	Code: codeContainsInvalid, Name: "contains-invalid", Title: "__contains names a missing type or a wrong field",
	Kernel: "map '.data.A' has no valid bpf_spin_lock",
	Doc: "__contains(T, m) must name a struct T with a field m of type bpf_rb_node (for a bpf_rb_root) " +
		"or bpf_list_node (for a bpf_list_head).",
	Bad:  "struct item { struct bpf_rb_node rb; };\nprivate(A) struct bpf_list_head head __contains(item, rb);",
	Good: "struct item { struct bpf_list_node link; };\nprivate(A) struct bpf_list_head head __contains(item, link);",
}, {
	Code: codeContainsNotEmitted, Name: "contains-type-not-emitted", Title: "__contains type never reaches BTF",
	Kernel:         "map '.data.A' has no valid bpf_spin_lock",
	KernelPatterns: []KernelPattern{{Text: "has no valid bpf_"}},
	Doc: "clang emits a struct into BTF only when the program uses it as a type (bpf_obj_new, a " +
		"global, a parameter). A type reached only through container_of is missing, the kernel " +
		"drops the section's record, and the first lock call fails.",
	Bad:  "/* struct job used only via container_of */\nprivate(A) struct bpf_rb_root q __contains(job, rb);",
	Good: "struct job *j = bpf_obj_new(typeof(*j)); /* somewhere in the program */",
}, {
	Code: codeGraphUnlocked, Name: "graph-op-unlocked", Title: "graph call without the root's lock",
	Kernel:         "bpf_spin_lock at off=N must be held for bpf_rb_root",
	KernelPatterns: []KernelPattern{{Text: "must be held for"}},
	Doc:            "Every bpf_rbtree_* and bpf_list_* call needs the lock of the root's allocation held.",
	Bad:            "bpf_rbtree_add(&groot, &n->node, less);",
	Good:           "bpf_spin_lock(&glock);\nbpf_rbtree_add(&groot, &n->node, less);\nbpf_spin_unlock(&glock);",
}, {
	Code: codeGraphWrongLock, Name: "graph-op-wrong-lock", Title: "graph call under another allocation's lock",
	Kernel:         "held lock and object are not in the same allocation",
	KernelPatterns: []KernelPattern{{Text: "not in the same allocation"}},
	Doc: "Holding a lock does not help a root in another allocation: the lock must be the one in the " +
		"root's own section, map value or object.",
	Bad:  "bpf_spin_lock(&other_lock);\nbpf_list_push_back(&head, &n->link);",
	Good: "bpf_spin_lock(&head_lock);\nbpf_list_push_back(&head, &n->link);",
}, {
	Code: codeLockHeldAtExit, Name: "lock-held-at-exit", Title: "lock still held when the program exits",
	Kernel:         "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region",
	KernelPatterns: []KernelPattern{{Text: "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"}, {Text: "BPF_EXIT instruction cannot be used inside bpf_spin_lock-ed region"}, {Text: "bpf_spin_unlock is missing"}},
	// 6.12.117 still prints the old text, 6.18 and 7.3 the new one
	// (SPEC.md places the change after ~6.13).
	KernelSince: []KernelWording{
		{Message: "bpf_spin_unlock is missing"},
		{Since: heldAtExitRewordRelease, Message: "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"},
	},
	Doc: "Every path out of a BPF program must release the locks it took. The kernel reports it at " +
		"the program's exit instruction; bpf-lsp reports the return that leaves the lock held.",
	Bad:  "bpf_spin_lock(&glock);\nif (!n)\n\treturn 0;",
	Good: "bpf_spin_lock(&glock);\nif (!n) {\n\tbpf_spin_unlock(&glock);\n\treturn 0;\n}",
}, {
	Code: codeUnlockWithoutLock, Name: "unlock-without-lock", Title: "unlock of a lock that is not held",
	Kernel:         "bpf_spin_unlock without taking a lock",
	KernelPatterns: []KernelPattern{{Text: "without taking a lock"}},
	Doc:            "bpf_spin_unlock must pair with an earlier bpf_spin_lock on every path.",
	Bad:            "bpf_spin_unlock(&glock);",
	Good:           "bpf_spin_lock(&glock);\n/* ... */\nbpf_spin_unlock(&glock);",
}, {
	Code: codeUnlockDifferent, Name: "unlock-different-lock", Title: "unlock of a different lock than the one held",
	Kernel:         "bpf_spin_unlock of different lock",
	KernelPatterns: []KernelPattern{{Text: "of different lock"}},
	Doc:            "The lock released must be the lock held (same variable, same map value).",
	Bad:            "bpf_spin_lock(&a);\nbpf_spin_unlock(&b);",
	Good:           "bpf_spin_lock(&a);\nbpf_spin_unlock(&a);",
}, {
	Code: codeDoubleLock, Name: "double-lock", Title: "second lock while one is held",
	Kernel:         "function calls are not allowed while holding a lock",
	KernelPatterns: []KernelPattern{{Text: "Locking two bpf_spin_locks"}, {Text: "function calls are not allowed while holding a lock", Insn: "call bpf_spin_lock#"}},
	Doc: "A BPF program may hold one bpf_spin_lock at a time; taking it again deadlocks and taking " +
		"another is refused (the kernel reports the call itself).",
	Bad:  "bpf_spin_lock(&a);\nbpf_spin_lock(&b);",
	Good: "bpf_spin_lock(&a);\nbpf_spin_unlock(&a);\nbpf_spin_lock(&b);",
}, {
	Code: codeCallUnderLock, Name: "call-under-lock", Title: "call not allowed while a lock is held",
	Kernel:         "function calls are not allowed while holding a lock",
	KernelPatterns: []KernelPattern{{Text: "function calls are not allowed while holding a lock"}},
	// Before static calls were allowed under a lock, a global function
	// call got the general message.
	KernelSince: []KernelWording{
		{Of: kernelGlobalCallUnderLock, Message: kernelCallUnderLock},
		{Of: kernelGlobalCallUnderLock, Since: globalCallRewordRelease, Message: kernelGlobalCallUnderLock},
	},
	Doc: "Inside a critical section only graph kfuncs, bpf_spin_unlock and static functions may be " +
		"called. Helpers (bpf_printk, bpf_map_lookup_elem, bpf_ktime_get_ns, ...), other kfuncs " +
		"(bpf_obj_new, bpf_obj_drop) and global functions are refused.",
	Bad:  "bpf_spin_lock(&glock);\nn = bpf_obj_new(typeof(*n));",
	Good: "n = bpf_obj_new(typeof(*n));\nbpf_spin_lock(&glock);",
}, {
	Code: codeGuardedUnlocked, Name: "guarded-access-unlocked", Title: "guarded data used without its lock",
	Severity: SevWarning,
	Doc: "Data annotated __guarded_by(lock) is read or written without that lock. The kernel does not " +
		"check this (it is bpf-lsp's own annotation), but concurrent programs race on the data.",
	Bad:  "nr_items++;",
	Good: "bpf_spin_lock(&glock);\nnr_items++;\nbpf_spin_unlock(&glock);",
}, {
	Code: codeUseAfterUnlock, Name: "use-after-unlock", Title: "reference used after unlock or drop",
	Kernel:         "invalid mem access 'scalar'",
	KernelPatterns: []KernelPattern{{Text: "invalid mem access 'scalar'"}, {Text: "can only take non-owning or refcounted"}, {Text: "node input must be non-owning ref"}},
	// A released node passed to bpf_rbtree_remove (verifier.c, v6.12 and
	// newest).
	KernelSince: []KernelWording{
		{Of: kernelRemoveInvalidNode, Message: "rbtree_remove node input must be non-owning ref"},
		{Of: kernelRemoveInvalidNode, Since: rbtreeNodeRewordRelease, Message: kernelRemoveInvalidNode},
	},
	Doc: "References from bpf_rbtree_first, bpf_list_front/back, bpf_rbtree_root/left/right and the " +
		"node passed to add/push are valid only until the lock is released; the kernel turns them " +
		"into scalars at bpf_spin_unlock. Likewise every copy of a pointer passed to bpf_obj_drop is " +
		"dangling afterwards.",
	Bad:  "n = bpf_rbtree_first(&groot);\nbpf_spin_unlock(&glock);\nx = n->key;",
	Good: "n = bpf_rbtree_first(&groot);\nx = n ? n->key : 0;\nbpf_spin_unlock(&glock);",
}, {
	Code: codeRefLeak, Name: "owned-ref-leak", Title: "owning reference not released",
	Kernel:         "Unreleased reference id=N alloc_insn=N",
	KernelPatterns: []KernelPattern{{Text: "Unreleased reference"}, {Text: "would lead to reference leak"}},
	Doc: "Objects from bpf_obj_new, bpf_list_pop_*, bpf_rbtree_remove and bpf_refcount_acquire must be " +
		"released on every path: bpf_obj_drop, or handed to bpf_list_push_* / bpf_rbtree_add.",
	Bad:  "n = bpf_obj_new(typeof(*n));\nif (!n) return 0;\nreturn 0;",
	Good: "n = bpf_obj_new(typeof(*n));\nif (!n) return 0;\nbpf_obj_drop(n);\nreturn 0;",
}, {
	Code: codeRefUnchecked, Name: "owned-ref-unchecked", Title: "reference used before its NULL check",
	Kernel: "invalid mem access 'ptr_or_null_'",
	// Pointers the lock rules track (allocated objects, map values); socket
	// and RCU pointers that may be NULL are another family.
	KernelPatterns: []KernelPattern{{Text: "'ptr_or_null_'"}, {Text: "'map_value_or_null'"}, {Text: "modified ptr_or_null_"},
		{Text: "ptr_or_null_ prohibited"}, {Text: "Possibly NULL pointer passed to trusted arg"}},
	Doc:  "Allocation and graph kfuncs may return NULL; the result must be checked before use.",
	Bad:  "n = bpf_obj_new(typeof(*n));\nn->key = 1;",
	Good: "n = bpf_obj_new(typeof(*n));\nif (!n) return 0;\nn->key = 1;",
}, {
	Code: codeLockInCallback, Name: "lock-in-rbtree-callback", Title: "lock operation inside an rbtree less() callback",
	Kernel:         kernelCallUnderLock, // 6.18: less() runs under the lock; 6.12 printed "can't spin_lock in rbtree cb"
	KernelPatterns: []KernelPattern{{Text: "can't spin_"}, {Text: "in rbtree cb"}, {Text: "unnecessary rbtree callback"}},
	// bpf_rbtree_remove in less() (verifier.c, v6.12 and newest).
	KernelSince: []KernelWording{
		{Of: kernelRemoveInCallback, Message: "rbtree_remove not allowed in rbtree cb"},
		{Of: kernelRemoveInCallback, Since: rbtreeNodeRewordRelease, Message: kernelRemoveInCallback},
	},
	Doc: "The less() callback of bpf_rbtree_add runs with the tree's lock held: it must not take or " +
		"release locks, nor call bpf_rbtree_remove.",
	Bad:  "static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)\n{\n\tbpf_spin_lock(&glock); /* ... */\n}",
	Good: "static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)\n{\n\treturn node_of(a)->key < node_of(b)->key;\n}",
}, {
	Code: codeResLockMisuse, Name: "res-lock-misuse", Title: "bpf_res_spin_lock misuse",
	Kernel:         "bpf_res_spin_unlock cannot be out of order",
	KernelPatterns: []KernelPattern{{Text: "cannot be out of order"}, {Text: "AA deadlock"}},
	Doc: "bpf_res_spin_lock returns 0 when it took the lock: test the result and unlock only on " +
		"success. Resilient locks nest but must be released in reverse order, and taking the same " +
		"lock twice is an AA deadlock.",
	Bad:  "bpf_res_spin_lock(&a);\nbpf_res_spin_unlock(&a);",
	Good: "if (bpf_res_spin_lock(&a))\n\treturn 0;\nbpf_res_spin_unlock(&a);",
}, {
	Code: codeTracingProgLock, Name: "lock-in-tracing-prog", Title: "lock or graph root used by a tracing program or socket filter",
	Kernel:         "tracing progs cannot use bpf_spin_lock yet",
	KernelPatterns: []KernelPattern{{Text: "progs cannot use bpf_spin_lock"}, {Text: "tracing progs cannot use bpf_{list_head,rb_root}"}},
	Doc: "kprobe, tracepoint, perf_event and raw_tp programs may not use a map (or a global section) " +
		"that holds a bpf_spin_lock, bpf_list_head or bpf_rb_root: they can run in any context, " +
		"where the lock could deadlock. The kernel refuses the program when it first touches the map. " +
		"Socket filters may not use locks either. fentry/fexit, tc, syscall and struct_ops programs may.",
	Bad:  "SEC(\"kprobe/do_exit\")\nint prog(void *ctx)\n{\n\tbpf_spin_lock(&glock);\n\t/* ... */\n}",
	Good: "SEC(\"fentry/do_exit\")\nint BPF_PROG(prog)\n{\n\tbpf_spin_lock(&glock);\n\t/* ... */\n}",
}, {
	Code: codeNodeNotOwned, Name: "node-not-owned", Title: "graph node passed without owning it",
	Kernel:         "arg#1 expected pointer to allocated object",
	KernelPatterns: []KernelPattern{{Text: "expected pointer to allocated object"}},
	Doc: "bpf_list_push_* and bpf_rbtree_add take ownership of the node: the pointer must be an owning " +
		"reference (from bpf_obj_new, a pop or a remove). After a push or add the same pointer is only " +
		"a non-owning reference, so pushing it again, into another tree, or adding the arguments of " +
		"less() is refused.",
	Bad:  "bpf_rbtree_add(&t1, &n->node, less);\nbpf_rbtree_add(&t2, &n->node, less);",
	Good: "m = bpf_refcount_acquire(n);\nbpf_rbtree_add(&t1, &n->node, less);\nif (m)\n\tbpf_rbtree_add(&t2, &m->node, less);",
}, {
	Code: codeSpecialFieldAccess, Name: "special-field-access", Title: "load or store on a lock, root or node field",
	Kernel:         "direct access to bpf_spin_lock is disallowed",
	KernelPatterns: []KernelPattern{{Text: "direct access to bpf_"}, {Text: "cannot be accessed directly by load/store"}},
	Doc: "bpf_spin_lock, bpf_list_head, bpf_list_node, bpf_rb_root, bpf_rb_node and bpf_refcount " +
		"fields are opaque: only the kfuncs and helpers may touch them. A load or store through a cast " +
		"of their address is refused.",
	Bad:  "return *(int *)&n->lock;",
	Good: "bpf_spin_lock(&n->lock);",
}, {
	Code: codeNodeTypeMismatch, Name: "node-type-mismatch", Title: "node pushed into a root that holds another type",
	Kernel:         "operation on bpf_list_head expects arg#1 bpf_list_node at offset=N in struct T, but arg is at offset=M in struct U",
	KernelPatterns: []KernelPattern{{Text: "expects arg#1"}, {Text: ", but expected bpf_"}},
	Doc: "A root's __contains(T, m) fixes what it holds: the node passed to bpf_list_push_* or " +
		"bpf_rbtree_add must be the m member of a struct T.",
	Bad:  "private(A) struct bpf_list_head head __contains(foo, node);\n/* ... */\nbpf_list_push_back(&head, &b->node); /* b is a struct bar */",
	Good: "bpf_list_push_back(&head, &f->node); /* f is a struct foo */",
}, {
	Code: codeGraphArgOffset, Name: "graph-arg-not-a-field", Title: "graph call argument that does not point at a root or node",
	Kernel: "bpf_list_node not found at offset=N",
	// Node messages only: a root not found is also what a section without
	// a lock gives (BL101), and the classifier keeps that rule for it.
	KernelPatterns: []KernelPattern{{Text: "_node not found at offset"}},
	Doc: "The kernel finds the root and the node a graph kfunc gets by their offset in the allocation: " +
		"the argument must be the address of a bpf_list_head/bpf_rb_root or bpf_list_node/bpf_rb_node " +
		"field. A pointer moved with arithmetic, or an object whose type has no such field, is refused " +
		"before any lock or ownership check.",
	Bad:  "bpf_list_push_back((void *)&v->head + 1, &n->node);",
	Good: "bpf_list_push_back(&v->head, &n->node);",
}, {
	Code: codeUnusedSuppression, Name: "unused-suppression", Title: "suppression comment that matches nothing",
	Severity: SevWarning,
	Doc:      "A `// bpf-lsp:ignore CODE reason` comment suppresses nothing on its line or the next: remove it.",
	Bad:      "// bpf-lsp:ignore BL201 fixed long ago\nx = 1;",
	Good:     "x = 1;",
}, {
	Code: codeSuppressionNoReason, Name: "suppression-without-reason", Title: "suppression comment without a reason",
	Severity: SevWarning,
	Doc:      "A suppression must say why the finding does not apply, for the next reader.",
	Bad:      "// bpf-lsp:ignore BL208",
	Good:     "// bpf-lsp:ignore BL208 statistics counter, a lost update is harmless",
}, {
	Code: CodeVerifierOther, Name: "verifier-other", Title: "kernel rejection without a static rule",
	Doc: "Reported by the kernel cross-check (bpf-lsp verify) when the verifier rejects a program for " +
		"a reason none of the static rules models.",
}}

// ruleByCode indexes ruleTable and FrontendRules.
var ruleByCode = func() map[string]*Rule {
	m := map[string]*Rule{}
	for _, r := range append(append(append([]*Rule{}, FrontendRules...), ruleTable...), KernelRules...) {
		m[r.Code] = r
	}
	return m
}()

// Rules lists every rule, frontend rules first, in code order.
func Rules() []*Rule {
	return append(append(append([]*Rule{}, FrontendRules...), ruleTable...), KernelRules...)
}

// RuleByCode returns the rule with the given code, or nil.
func RuleByCode(code string) *Rule { return ruleByCode[code] }
