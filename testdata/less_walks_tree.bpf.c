// kernel: reject
// The less() callback looks at a neighbour of the node it is given: the
// tree walking kfuncs (like bpf_rbtree_remove) are refused inside it.
#include "bpf_lsp.h"

struct entry {
	struct bpf_rb_node node;
	__u64 key;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(entry, node);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct bpf_rb_node *l = bpf_rbtree_left(&groot, a); // want "BL212 bpf_rbtree_left" verifier "bpf_rbtree_left not allowed in rbtree cb"

	if (l && container_of(l, struct entry, node)->key == container_of(b, struct entry, node)->key)
		return false;
	return container_of(a, struct entry, node)->key < container_of(b, struct entry, node)->key;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct entry *e = bpf_obj_new(typeof(*e));

	if (!e)
		return 0;
	e->key = ctx->len;
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &e->node, less);
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
