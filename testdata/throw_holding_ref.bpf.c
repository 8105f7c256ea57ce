// kernel: reject
// bpf_throw unwinds the whole program: an object still owned when it
// throws, directly or from a bpf_loop callback, is never released.
#include "bpf_lsp.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;
extern void bpf_throw(__u64 cookie) __ksym;

struct ticket {
	struct bpf_list_node link;
	__u64 seat;
};

SEC("tc")
int throw_direct(struct __sk_buff *ctx)
{
	struct ticket *t = bpf_obj_new(typeof(*t));

	if (!t)
		return 0;
	if (ctx->len > 1500)
		bpf_throw(1); // want "BL210 the object from bpf_obj_new is not released when bpf_throw unwinds" verifier "Unreleased reference"
	bpf_obj_drop(t);
	return 0;
}

static int check_seat(__u32 i, void *data)
{
	if (i > 2)
		bpf_throw(2); // verifier "Unreleased reference"
	return 0;
}

SEC("tc")
int throw_in_loop(struct __sk_buff *ctx)
{
	struct ticket *t = bpf_obj_new(typeof(*t));

	if (!t)
		return 0;
	bpf_loop(4, check_seat, NULL, 0); // want "BL210 .*if the callback 'check_seat' throws"
	bpf_obj_drop(t);
	return 0;
}

char _license[] SEC("license") = "GPL";
