// kernel: reject
// The less() callback must not touch locks.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
private(B) struct bpf_spin_lock stats_lock;
private(B) __u64 comparisons;

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bpf_spin_lock(&stats_lock); // want "BL212 bpf_spin_lock inside the rbtree callback 'less'" verifier "function calls are not allowed while holding a lock"
	comparisons++;
	bpf_spin_unlock(&stats_lock); // want "BL212 bpf_spin_unlock inside the rbtree callback 'less'"
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
