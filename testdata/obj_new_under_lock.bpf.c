// kernel: reject
// Allocation is not allowed inside the critical section.
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
	struct node_data *n;

	bpf_spin_lock(&glock);
	n = bpf_obj_new(typeof(*n)); // want "BL207 bpf_obj_new \\(a kfunc\\) is not allowed while holding 'glock'" verifier "function calls are not allowed while holding a lock"
	if (!n) {
		bpf_spin_unlock(&glock);
		return 0;
	}
	bpf_rbtree_add(&groot, &n->node, less);
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
