// An editor test fixture: one lock mistake (the rbtree insert on line 26
// runs without glock) and one guarded counter used correctly.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);
private(A) __u64 nr_nodes __guarded_by(glock);

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
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_lock(&glock);
	nr_nodes++;
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
