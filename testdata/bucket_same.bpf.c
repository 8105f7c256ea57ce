// kernel: accept
// The corrected bucket_cross: lock the bucket whose list is changed, through
// the very pointer the list is reached by. Moving an entry between buckets
// takes one bucket's lock at a time.
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
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct bucket);
} table SEC(".maps");

SEC("tc")
int move(struct __sk_buff *ctx)
{
	__u32 src_key = 0, dst_key = 1;
	struct bucket *src, *dst;
	struct bpf_list_node *l;

	src = bpf_map_lookup_elem(&table, &src_key);
	dst = bpf_map_lookup_elem(&table, &dst_key);
	if (!src || !dst)
		return 0;
	bpf_spin_lock(&src->lock);
	l = bpf_list_pop_front(&src->entries);
	bpf_spin_unlock(&src->lock);
	if (!l)
		return 0;
	bpf_spin_lock(&dst->lock);
	bpf_list_push_back(&dst->entries, l);
	bpf_spin_unlock(&dst->lock);
	return 1;
}

SEC("tc")
int insert(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark & 15;
	struct bucket *b;
	struct entry *e;

	b = bpf_map_lookup_elem(&table, &key);
	if (!b)
		return 0;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	e->cookie = ctx->len;
	bpf_spin_lock(&b->lock);
	bpf_list_push_back(&b->entries, &e->link);
	bpf_spin_unlock(&b->lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
