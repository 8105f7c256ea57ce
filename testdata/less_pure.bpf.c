// kernel: accept
// The corrected less_takes_lock and less_calls_helper: the callback only
// compares the two nodes; the statistics are updated by the caller, under
// their own lock, after the tree's lock is released.
#include "bpf_lsp.h"

struct node_data {
	long key;
	__u32 tiebreak;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
private(B) struct bpf_spin_lock stats_lock;
private(B) __u64 inserts __guarded_by(stats_lock);

static bool less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct node_data *na = container_of(a, struct node_data, node);
	struct node_data *nb = container_of(b, struct node_data, node);

	if (na->key != nb->key)
		return na->key < nb->key;
	return na->tiebreak < nb->tiebreak;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	if (!n)
		return 0;
	n->key = ctx->len;
	n->tiebreak = bpf_get_prandom_u32();
	bpf_spin_lock(&glock);
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	bpf_spin_lock(&stats_lock);
	inserts++;
	bpf_spin_unlock(&stats_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
