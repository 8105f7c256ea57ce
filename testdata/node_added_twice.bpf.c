// kernel: reject
// A node added to two trees: after the first bpf_rbtree_add the pointer is
// only a non-owning reference, which the second add refuses.
#include "bpf_lsp.h"

struct item {
	struct bpf_rb_node node;
	struct bpf_refcount ref;
	__u64 key;
};

private(T) struct bpf_spin_lock t_lock;
private(T) struct bpf_rb_root by_key __contains(item, node);
private(T) struct bpf_rb_root by_age __contains(item, node);

static bool item_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct item, node)->key < container_of(b, struct item, node)->key;
}

SEC("tc")
int insert(struct __sk_buff *ctx)
{
	struct item *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	n->key = ctx->len;
	bpf_spin_lock(&t_lock);
	bpf_rbtree_add(&by_key, &n->node, item_less);
	bpf_rbtree_add(&by_age, &n->node, item_less); // want "BL215 .*n->node.*not owned" verifier "arg#1 expected pointer to allocated object"
	bpf_spin_unlock(&t_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
