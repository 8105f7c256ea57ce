// kernel: accept
// Lock and list in a zero-initialised .bss.NAME section.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private_bss(pool) struct bpf_spin_lock pool_lock;
private_bss(pool) struct bpf_list_head free_items __contains(item, link);
private_bss(pool) __u64 nr_free __guarded_by(pool_lock);

SEC("tc")
int give(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	bpf_spin_lock(&pool_lock);
	bpf_list_push_back(&free_items, &it->link);
	nr_free++;
	bpf_spin_unlock(&pool_lock);
	return 0;
}

SEC("tc")
int take(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;

	bpf_spin_lock(&pool_lock);
	l = bpf_list_pop_front(&free_items);
	if (l && nr_free > 0)
		nr_free--;
	bpf_spin_unlock(&pool_lock);
	if (l)
		bpf_obj_drop(container_of(l, struct item, link));
	return 0;
}

char _license[] SEC("license") = "GPL";
