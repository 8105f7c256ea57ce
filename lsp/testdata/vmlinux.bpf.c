#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define private(name) SEC(".data." #name) __hidden __attribute__((aligned(8)))
#define __contains(name, node) __attribute__((btf_decl_tag("contains:" #name ":" #node)))

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern int bpf_rbtree_add_impl(struct bpf_rb_root *root, struct bpf_rb_node *node,
			       bool (*less)(struct bpf_rb_node *a, const struct bpf_rb_node *b),
			       void *meta, __u64 off) __ksym;

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return a < b;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new_impl(__builtin_btf_type_id(*(struct node_data *)0, 0), 0);

	if (!n)
		return 0;
	n->key = ctx->len;
	bpf_printk("adding %d %d %d %d", ctx->len, ctx->mark, ctx->protocol, ctx->priority);
	bpf_rbtree_add_impl(&groot, &n->node, less, 0, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
