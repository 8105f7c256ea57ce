/* bpf_lsp.h: a self-contained header for bpf-lsp's test programs and demo.
 *
 * It declares just what lock/graph programs need (types, helpers, kfuncs and
 * the usual annotation macros) so the programs parse without vmlinux.h or
 * libbpf, and still compile with `clang -target bpf -g -O2` and load into a
 * kernel that has the graph kfuncs (6.3+; list_front/back and rbtree_root/
 * left/right need ~6.16, bpf_res_spin_lock ~6.15).
 */
#ifndef BPF_LSP_H
#define BPF_LSP_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

/* The kernel's special types, laid out as in uapi <linux/bpf.h>. */
struct bpf_spin_lock {
	__u32 val;
};
struct bpf_res_spin_lock {
	__u32 val;
};
struct bpf_list_head {
	__u64 __a;
	__u64 __b;
} __attribute__((aligned(8)));
struct bpf_list_node {
	__u64 __a;
	__u64 __b;
	__u64 __c;
} __attribute__((aligned(8)));
struct bpf_rb_root {
	__u64 __a;
	__u64 __b;
} __attribute__((aligned(8)));
struct bpf_rb_node {
	__u64 __a;
	__u64 __b;
	__u64 __c;
	__u64 __d;
} __attribute__((aligned(8)));
struct bpf_refcount {
	__u32 __a;
} __attribute__((aligned(4)));

struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
};

/* Map definition helpers (libbpf BTF-defined maps). */
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_ARRAY 2

#define SEC(name) __attribute__((section(name), used))
#define __ksym __attribute__((section(".ksyms")))
#define __hidden __attribute__((visibility("hidden")))
#define __always_inline inline __attribute__((always_inline))
#define __noinline __attribute__((noinline))
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#define private_bss(name) SEC(".bss." #name) __hidden __attribute__((aligned(8)))
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#define __guarded_by(lock) __attribute__((btf_type_tag("guarded_by:" #lock)))
#define __kptr __attribute__((btf_type_tag("kptr")))

#define container_of(ptr, type, member)                                        \
	({                                                                     \
		void *__mptr = (void *)(ptr);                                  \
		((type *)(__mptr - __builtin_offsetof(type, member)));         \
	})

/* Helpers (by id). */
static void *(* const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (* const bpf_map_update_elem)(void *map, const void *key, const void *value, __u64 flags) = (void *)2;
static long (* const bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u64 (* const bpf_ktime_get_ns)(void) = (void *)5;
static __u32 (* const bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (* const bpf_get_smp_processor_id)(void) = (void *)8;
static long (* const bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;
static long (* const bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (* const bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

#define bpf_printk(fmt, ...)                                                   \
	({                                                                     \
		static const char ____fmt[] = fmt;                             \
		bpf_trace_printk(____fmt, sizeof(____fmt), ##__VA_ARGS__);     \
	})

/* Graph and allocation kfuncs. */
extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern void *bpf_refcount_acquire_impl(void *kptr, void *meta) __ksym;
extern int bpf_list_push_front_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_back(struct bpf_list_head *head) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       bool (*less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_root(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_left(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_right(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

#define bpf_core_type_id_local(type) __builtin_btf_type_id(*(typeof(type) *)0, 0)
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_refcount_acquire(kptr) bpf_refcount_acquire_impl(kptr, NULL)
#define bpf_list_push_front(head, node) bpf_list_push_front_impl(head, node, NULL, 0)
#define bpf_list_push_back(head, node) bpf_list_push_back_impl(head, node, NULL, 0)
#define bpf_rbtree_add(root, node, less) bpf_rbtree_add_impl(root, node, less, NULL, 0)

#endif /* BPF_LSP_H */
