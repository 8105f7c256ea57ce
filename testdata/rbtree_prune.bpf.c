// kernel: accept
// Find a node by key with bpf_rbtree_root/left/right (6.16+), take it out
// with bpf_rbtree_remove while the walk's non-owning reference is still
// valid, and drop it after the unlock.
#include "bpf_lsp.h"

struct route {
	struct bpf_rb_node node;
	__u32 prefix;
	__u32 nexthop;
};

private(R) struct bpf_spin_lock rt_lock;
private(R) struct bpf_rb_root routes __contains(route, node);

static bool prefix_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct route, node)->prefix < container_of(b, struct route, node)->prefix;
}

SEC("tc")
int add_route(struct __sk_buff *ctx)
{
	struct route *r = bpf_obj_new(typeof(*r));

	if (!r)
		return 0;
	r->prefix = ctx->mark;
	r->nexthop = ctx->len;
	bpf_spin_lock(&rt_lock);
	bpf_rbtree_add(&routes, &r->node, prefix_less);
	bpf_spin_unlock(&rt_lock);
	return 0;
}

SEC("tc")
int del_route(struct __sk_buff *ctx)
{
	__u32 want = ctx->mark;
	struct bpf_rb_node *n, *gone = NULL;
	struct route *r;
	int depth;

	bpf_spin_lock(&rt_lock);
	n = bpf_rbtree_root(&routes);
	for (depth = 0; depth < 16 && n; depth++) {
		r = container_of(n, struct route, node);
		if (r->prefix == want) {
			gone = bpf_rbtree_remove(&routes, n);
			break;
		}
		if (want < r->prefix)
			n = bpf_rbtree_left(&routes, n);
		else
			n = bpf_rbtree_right(&routes, n);
	}
	bpf_spin_unlock(&rt_lock);
	if (!gone)
		return 0;
	bpf_obj_drop(container_of(gone, struct route, node));
	return 1;
}

char _license[] SEC("license") = "GPL";
