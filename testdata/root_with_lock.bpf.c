// kernel: accept
// The corrected root_without_lock: the tree moves into the section of the
// lock that guards it, so lock and root are one allocation.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(T) struct bpf_spin_lock tree_lock;
private(T) struct bpf_rb_root tree __contains(node_data, node);

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
	n->key = ctx->mark;
	bpf_spin_lock(&tree_lock);
	bpf_rbtree_add(&tree, &n->node, less);
	bpf_spin_unlock(&tree_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
