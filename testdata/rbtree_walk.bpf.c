// kernel: accept
// Walk down the tree from its root with bpf_rbtree_root/left/right (6.16+),
// short-circuit conditions included.
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
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	n->key = ctx->len;
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	return 0;
}

SEC("tc")
int lookup(struct __sk_buff *ctx)
{
	long want = ctx->len, found = 0;
	struct bpf_rb_node *cur;
	int depth;

	bpf_spin_lock(&glock);
	cur = bpf_rbtree_root(&groot);
	for (depth = 0; depth < 16 && cur; depth++) {
		long key = container_of(cur, struct node_data, node)->key;

		if (key == want) {
			found = 1;
			break;
		}
		if (want < key)
			cur = bpf_rbtree_left(&groot, cur);
		else
			cur = bpf_rbtree_right(&groot, cur);
	}
	bpf_spin_unlock(&glock);
	return found;
}

char _license[] SEC("license") = "GPL";
