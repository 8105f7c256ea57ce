// kernel: accept
// The corrected null_unchecked: test the allocation before the first store,
// and hand the object to the tree or drop it.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct node_data, node)->key < container_of(b, struct node_data, node)->key;
}

SEC("tc")
int make(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (n == NULL)
		return 0;
	n->key = ctx->len;
	if (n->key == 0) {
		bpf_obj_drop(n);
		return 0;
	}
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	return 1;
}

char _license[] SEC("license") = "GPL";
