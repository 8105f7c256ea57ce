// kernel: reject
// The same shape as null_init_branch, but nothing releases the object.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private(L) struct bpf_spin_lock lock;
private(L) struct bpf_list_head head __contains(item, link);

SEC("tc")
int maybe(struct __sk_buff *ctx)
{
	struct item *it = NULL;

	if (ctx->len > 100)
		it = bpf_obj_new(typeof(*it));
	if (it)
		it->value = 1;
	return 0; // want "BL210 the object from bpf_obj_new is not released" verifier "BPF_EXIT instruction in main prog would lead to reference leak"
}

char _license[] SEC("license") = "GPL";
