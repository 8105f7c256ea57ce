// kernel: reject
// The node type is only reached through container_of: clang leaves it out
// of BTF, and the kernel drops the section's record.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	__u64 deadline;
};

private(sched) struct bpf_spin_lock sched_lock;
private(sched) struct bpf_rb_root runq __contains(job, node); // want "BL107 struct job is never allocated with bpf_obj_new"

SEC("tc")
int next_deadline(struct __sk_buff *ctx)
{
	struct bpf_rb_node *n;
	__u64 d = 0;

	bpf_spin_lock(&sched_lock); // verifier "map '.data.sched' has no valid bpf_spin_lock"
	n = bpf_rbtree_first(&runq);
	if (n)
		d = container_of(n, struct job, node)->deadline;
	bpf_spin_unlock(&sched_lock);
	return d;
}

char _license[] SEC("license") = "GPL";
