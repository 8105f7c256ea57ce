// kernel: accept
// The corrected contains_not_emitted: a program allocates struct job with
// bpf_obj_new, so clang emits the type into BTF and the __contains tag
// resolves.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	__u64 deadline;
};

private(sched) struct bpf_spin_lock sched_lock;
private(sched) struct bpf_rb_root runq __contains(job, node);

static bool earlier(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct job, node)->deadline < container_of(b, struct job, node)->deadline;
}

SEC("tc")
int submit(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 0;
	j->deadline = bpf_ktime_get_ns() + ctx->len;
	bpf_spin_lock(&sched_lock);
	bpf_rbtree_add(&runq, &j->node, earlier);
	bpf_spin_unlock(&sched_lock);
	return 0;
}

SEC("tc")
int next_deadline(struct __sk_buff *ctx)
{
	struct bpf_rb_node *n;
	__u64 d = 0;

	bpf_spin_lock(&sched_lock);
	n = bpf_rbtree_first(&runq);
	if (n)
		d = container_of(n, struct job, node)->deadline;
	bpf_spin_unlock(&sched_lock);
	return d;
}

char _license[] SEC("license") = "GPL";
