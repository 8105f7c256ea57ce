// kernel: accept
// The corrected list_push_unlocked, popping back out as well.
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
	bpf_spin_lock(&items_lock);
	bpf_list_push_front(&items, &it->link);
	bpf_spin_unlock(&items_lock);
	return 0;
}

SEC("tc")
int pop(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;

	bpf_spin_lock(&items_lock);
	l = bpf_list_pop_back(&items);
	bpf_spin_unlock(&items_lock);
	if (l)
		bpf_obj_drop(container_of(l, struct item, link));
	return 0;
}

char _license[] SEC("license") = "GPL";
