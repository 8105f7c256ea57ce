// kernel: accept
// The corrected two_locks_one_section: each lock gets a section of its own,
// next to the data it guards.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock tree_lock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
private(B) struct bpf_spin_lock stats_lock;
private(B) __u64 inserts __guarded_by(stats_lock);

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
	bpf_spin_lock(&tree_lock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&tree_lock);

	bpf_spin_lock(&stats_lock);
	inserts++;
	bpf_spin_unlock(&stats_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
