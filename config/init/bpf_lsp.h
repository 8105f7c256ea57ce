/* bpf_lsp.h: annotations and graph kfunc declarations for BPF programs
 * checked by bpf-lsp (written by `bpf-lsp init`; keep it in your tree).
 *
 * Include it after vmlinux.h (or <linux/bpf.h>) and <bpf/bpf_helpers.h>:
 *
 *	#include "vmlinux.h"
 *	#include <bpf/bpf_helpers.h>
 *	#include "bpf_lsp.h"
 *
 *	private(A) struct bpf_spin_lock glock;
 *	private(A) struct bpf_rb_root groot __contains(node_data, node);
 *	private(A) __u64 nr_nodes __guarded_by(glock);
 *
 * Every definition is guarded, so it sits beside the kernel selftests'
 * bpf_experimental.h or a vmlinux.h that declares the kfuncs itself.
 */
#ifndef BPF_LSP_H
#define BPF_LSP_H

/* Defined by vmlinux.h and by <linux/bpf.h> of kernels 6.3+. */
struct bpf_list_head;
struct bpf_list_node;
struct bpf_rb_root;
struct bpf_rb_node;
struct bpf_res_spin_lock;

/* A named data section: the globals in one section share one allocation,
 * so one bpf_spin_lock in it guards the bpf_rb_root/bpf_list_head there. */
#ifndef private
#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#endif

/* The node type and field a graph root holds (the kernel requires it). */
#ifndef __contains
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))
#endif

/* bpf-lsp's own annotation: this data may be touched only with the lock
 * held. The kernel does not check it; bpf-lsp reports unlocked accesses. */
#ifndef __guarded_by
#define __guarded_by(lock) __attribute__((btf_type_tag("guarded_by:" #lock)))
#endif

#ifndef __kptr
#define __kptr __attribute__((btf_type_tag("kptr")))
#endif

/* Object allocation and the graph kfuncs (kernel 6.3+; list_front/back and
 * rbtree_root/left/right ~6.16, bpf_res_spin_lock ~6.15). */
extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;
extern void *bpf_refcount_acquire_impl(void *kptr, void *meta) __ksym;
extern int bpf_list_push_front_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern int bpf_list_push_back_impl(struct bpf_list_head *head, struct bpf_list_node *node, void *meta, __u64 off) __ksym;
extern struct bpf_list_node *bpf_list_pop_front(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_pop_back(struct bpf_list_head *head) __ksym;
extern struct bpf_list_node *bpf_list_front(struct bpf_list_head *head) __ksym __weak;
extern struct bpf_list_node *bpf_list_back(struct bpf_list_head *head) __ksym __weak;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       bool (less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;
extern struct bpf_rb_node *bpf_rbtree_remove(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym;
extern struct bpf_rb_node *bpf_rbtree_first(struct bpf_rb_root *root) __ksym;
extern struct bpf_rb_node *bpf_rbtree_root(struct bpf_rb_root *root) __ksym __weak;
extern struct bpf_rb_node *bpf_rbtree_left(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym __weak;
extern struct bpf_rb_node *bpf_rbtree_right(struct bpf_rb_root *root, struct bpf_rb_node *node) __ksym __weak;
extern int bpf_res_spin_lock(struct bpf_res_spin_lock *lock) __ksym __weak;
extern void bpf_res_spin_unlock(struct bpf_res_spin_lock *lock) __ksym __weak;

#ifndef bpf_obj_new
#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)
#define bpf_refcount_acquire(kptr) bpf_refcount_acquire_impl(kptr, NULL)
#define bpf_list_push_front(head, node) bpf_list_push_front_impl(head, node, NULL, 0)
#define bpf_list_push_back(head, node) bpf_list_push_back_impl(head, node, NULL, 0)
#define bpf_rbtree_add(root, node, less) bpf_rbtree_add_impl(root, node, less, NULL, 0)
#endif

#endif /* BPF_LSP_H */
