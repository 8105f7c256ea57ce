// Per-bucket lists in a hash map: each map value carries its own lock and
// list head, so every lookup result is its own allocation. No mistakes here.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

struct bucket {
	struct bpf_spin_lock lock;
	struct bpf_list_head items __contains(item, link);
	__u64 count __guarded_by(lock);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct bucket);
} buckets SEC(".maps");

SEC("tc")
int add_item(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark & 63;
	struct bucket *b;
	struct item *it;

	b = bpf_map_lookup_elem(&buckets, &key);
	if (!b)
		return 0;
	it = bpf_obj_new(typeof(*it));
	if (!it)
		return 0;
	it->value = ctx->len;

	bpf_spin_lock(&b->lock);
	bpf_list_push_back(&b->items, &it->link);
	b->count++;
	bpf_spin_unlock(&b->lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
