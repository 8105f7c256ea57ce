// kernel: accept
// The twin of node_added_twice: a second owning reference from
// bpf_refcount_acquire goes into the second tree (the object is refcounted).
#include "bpf_lsp.h"

struct item {
	struct bpf_rb_node node;
	struct bpf_rb_node age;
	struct bpf_refcount ref;
	__u64 key;
};

private(T) struct bpf_spin_lock t_lock;
private(T) struct bpf_rb_root by_key __contains(item, node);
private(T) struct bpf_rb_root by_age __contains(item, age);

static bool key_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct item, node)->key < container_of(b, struct item, node)->key;
}

static bool age_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct item, age)->key < container_of(b, struct item, age)->key;
}

SEC("tc")
int insert(struct __sk_buff *ctx)
{
	struct item *n = bpf_obj_new(typeof(*n));
	struct item *m;

	if (!n)
		return 0;
	n->key = ctx->len;
	m = bpf_refcount_acquire(n);
	bpf_spin_lock(&t_lock);
	bpf_rbtree_add(&by_key, &n->node, key_less);
	bpf_rbtree_add(&by_age, &m->age, age_less);
	bpf_spin_unlock(&t_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
