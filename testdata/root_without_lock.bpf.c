// kernel: reject
// The tree's section has no lock at all.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(T) struct bpf_rb_root lonely __contains(node_data, node); // want "BL101 bpf_rb_root 'lonely' has no bpf_spin_lock"
private(L) struct bpf_spin_lock far_lock;

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
	bpf_spin_lock(&far_lock);
	bpf_rbtree_add(&lonely, &n->node, less); // verifier "bpf_rb_root not found at offset=0"
	bpf_spin_unlock(&far_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
