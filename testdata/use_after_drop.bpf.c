// kernel: reject
// An object read after bpf_obj_drop freed it: the pointer is dangling.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	__u64 cost;
};

SEC("tc")
int estimate(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 0;
	j->cost = ctx->len;
	bpf_obj_drop(j);
	return j->cost > 100; // want "BL209 .*'j'.*bpf_obj_drop" verifier "invalid mem access 'scalar'"
}

char _license[] SEC("license") = "GPL";
