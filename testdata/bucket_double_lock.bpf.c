// kernel: reject
// Moving an entry between two buckets while holding both bucket locks:
// only one bpf_spin_lock may be held at a time (and two CPUs moving in
// opposite directions would deadlock).
#include "bpf_lsp.h"

struct entry {
	struct bpf_list_node link;
	__u64 cookie;
};

struct bucket {
	struct bpf_spin_lock lock;
	struct bpf_list_head entries __contains(entry, link);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct bucket);
} table SEC(".maps");

SEC("tc")
int move(struct __sk_buff *ctx)
{
	__u32 src_key = ctx->mark, dst_key = ctx->mark + 1;
	struct bucket *src, *dst;
	struct bpf_list_node *l;

	src = bpf_map_lookup_elem(&table, &src_key);
	dst = bpf_map_lookup_elem(&table, &dst_key);
	if (!src || !dst)
		return 0;
	bpf_spin_lock(&src->lock);
	bpf_spin_lock(&dst->lock); // want "BL206" verifier "function calls are not allowed while holding a lock"
	l = bpf_list_pop_front(&src->entries);
	if (l)
		bpf_list_push_back(&dst->entries, l);
	bpf_spin_unlock(&dst->lock);
	bpf_spin_unlock(&src->lock);
	return 0;
}

SEC("tc")
int insert(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct bucket *b = bpf_map_lookup_elem(&table, &key);
	struct entry *e;

	if (!b)
		return 0;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	bpf_spin_lock(&b->lock);
	bpf_list_push_back(&b->entries, &e->link);
	bpf_spin_unlock(&b->lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
