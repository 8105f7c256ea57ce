// kernel: accept
// The twin of use_after_drop: the value is read before the object is freed.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	__u64 cost;
};

SEC("tc")
int estimate(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));
	__u64 cost;

	if (!j)
		return 0;
	j->cost = ctx->len;
	cost = j->cost;
	bpf_obj_drop(j);
	return cost > 100;
}

char _license[] SEC("license") = "GPL";
