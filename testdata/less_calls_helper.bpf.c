// kernel: reject
// The less() callback runs with the lock held: no helpers inside.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	if (bpf_get_prandom_u32() & 1) // want "BL207 bpf_get_prandom_u32 is called from the rbtree callback 'less'" verifier "function calls are not allowed while holding a lock"
		return true;
	return container_of(a, struct node_data, node)->key < container_of(b, struct node_data, node)->key;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
