// kernel: reject
// A list push without the list's lock; the lock is declared after the head.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private(L) struct bpf_list_head items __contains(item, link);
private(L) __u64 pad;
private(L) struct bpf_spin_lock items_lock;

SEC("tc")
int push(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	it->value = ctx->mark;
	bpf_list_push_back(&items, &it->link); // want "BL201 bpf_list_push_back on 'items' requires holding 'items_lock'" verifier "bpf_spin_lock at off=24 must be held for bpf_list_head"
	return 0;
}

char _license[] SEC("license") = "GPL";
