// kernel: accept
// The twin of throw_holding_ref: the object is released before the
// program throws, and a NULL result owns nothing to release.
#include "bpf_lsp.h"

extern void bpf_throw(__u64 cookie) __ksym;

struct ticket {
	struct bpf_list_node link;
	__u64 seat;
};

SEC("tc")
int throw_after_drop(struct __sk_buff *ctx)
{
	struct ticket *t = bpf_obj_new(typeof(*t));

	if (!t)
		bpf_throw(0);
	t->seat = ctx->len;
	bpf_obj_drop(t);
	if (ctx->len > 1500)
		bpf_throw(1);
	return 0;
}

char _license[] SEC("license") = "GPL";
