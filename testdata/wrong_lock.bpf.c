// kernel: reject
// The lock taken is in another private section than the tree.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(tree) struct bpf_spin_lock tree_lock;
private(tree) struct bpf_rb_root tree __contains(node_data, node);
private(other) struct bpf_spin_lock other_lock;
private(other) __u64 other_count;

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
	bpf_spin_lock(&other_lock);
	other_count++;
	bpf_rbtree_add(&tree, &n->node, less); // want "BL202 bpf_rbtree_add on 'tree' requires holding 'tree_lock', but the lock held is 'other_lock'" verifier "bpf_spin_lock at off=16 must be held for bpf_rb_root"
	bpf_spin_unlock(&other_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
