// kernel: reject
// A less() callback that adds one of its arguments to the tree: its
// arguments are nodes already in the tree, which it does not own.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	__u64 cost;
};

private(Q) struct bpf_spin_lock q_lock;
private(Q) struct bpf_rb_root q_root __contains(job, node);

static bool job_less(struct bpf_rb_node *a, const struct bpf_rb_node *b);

static bool bad_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bpf_rbtree_add(&q_root, a, job_less); // want "BL215 .*'a'.*not owned" verifier "arg#1 expected pointer to allocated object"
	return container_of(a, struct job, node)->cost < container_of(b, struct job, node)->cost;
}

static bool job_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct job, node)->cost < container_of(b, struct job, node)->cost;
}

static long add_with(bool (*less)(struct bpf_rb_node *, const struct bpf_rb_node *), __u64 cost)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 1;
	j->cost = cost;
	bpf_spin_lock(&q_lock);
	bpf_rbtree_add(&q_root, &j->node, less);
	bpf_spin_unlock(&q_lock);
	return 0;
}

SEC("tc")
long submit(struct __sk_buff *ctx)
{
	return add_with(bad_less, ctx->len);
}

char _license[] SEC("license") = "GPL";
