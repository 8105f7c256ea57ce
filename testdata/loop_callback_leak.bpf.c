// kernel: reject
// A bpf_loop callback that allocates and keeps nothing: the callback runs
// in a frame of its own and must release what it acquires.
#include "bpf_lsp.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;

struct job {
	struct bpf_rb_node node;
	__u64 cost;
};

static int make_one(__u32 i, void *data)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 1;
	j->cost = i;
	return 0; // want "BL210 .*bpf_obj_new"
}

SEC("tc")
int make(struct __sk_buff *ctx)
{
	bpf_loop(4, make_one, NULL, 0);
	return 0; // verifier "Unreleased reference"
}

char _license[] SEC("license") = "GPL";
