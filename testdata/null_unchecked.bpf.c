// kernel: reject
// bpf_obj_new may return NULL.
#include "bpf_lsp.h"

struct node_data {
	long key;
	struct bpf_rb_node node;
};

private(A) struct bpf_spin_lock glock;
private(A) struct bpf_rb_root groot __contains(node_data, node);

SEC("tc")
int make(struct __sk_buff *ctx)
{
	struct node_data *n = bpf_obj_new(typeof(*n));

	n->key = ctx->len; // want "BL211 'n' \\(from bpf_obj_new\\) may be NULL" verifier "R\\d+ invalid mem access 'ptr_or_null_'"
	bpf_obj_drop(n);
	return 0;
}

char _license[] SEC("license") = "GPL";
