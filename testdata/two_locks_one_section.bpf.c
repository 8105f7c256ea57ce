// kernel: reject
// Two locks in one section: the kernel allows one per allocation.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock first_lock;
private(A) struct bpf_spin_lock second_lock; // want "BL102 section .data.A already has lock 'first_lock'"
private(A) struct bpf_rb_root groot __contains(node_data, node);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct node_data, node)->key < container_of(b, struct node_data, node)->key;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	bpf_spin_lock(&first_lock); // verifier "map '.data.A' has no valid bpf_spin_lock"
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&first_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
