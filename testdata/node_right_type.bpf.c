// kernel: accept
// The twin of node_wrong_type: the list gets the struct it holds.
#include "bpf_lsp.h"

struct job {
	__u64 cost;
	struct bpf_list_node link;
};

private(Q) struct bpf_spin_lock q_lock;
private(Q) struct bpf_list_head jobs __contains(job, link);

SEC("tc")
int submit(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 0;
	j->cost = ctx->len;
	bpf_spin_lock(&q_lock);
	bpf_list_push_back(&jobs, &j->link);
	bpf_spin_unlock(&q_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
