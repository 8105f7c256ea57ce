// kernel: reject
// A per-CPU style bucket array: popping from a bucket's list needs that
// bucket's lock, reached through the same value pointer.
#include "bpf_lsp.h"

struct buf {
	struct bpf_list_node link;
	__u32 size;
};

struct cpu_bucket {
	struct bpf_spin_lock lock;
	struct bpf_list_head free __contains(buf, link);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct cpu_bucket);
} buckets SEC(".maps");

SEC("tc")
int take(struct __sk_buff *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cpu_bucket *b = bpf_map_lookup_elem(&buckets, &cpu);
	struct bpf_list_node *l;
	__u32 size;

	if (!b)
		return 0;
	l = bpf_list_pop_front(&b->free); // want "BL201 .*b->free.*b->lock" verifier "bpf_spin_lock at off=0 must be held for bpf_list_head"
	if (!l)
		return 0;
	size = container_of(l, struct buf, link)->size;
	bpf_obj_drop(container_of(l, struct buf, link));
	return size;
}

SEC("tc")
int give(struct __sk_buff *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cpu_bucket *b = bpf_map_lookup_elem(&buckets, &cpu);
	struct buf *p;

	if (!b)
		return 0;
	p = bpf_obj_new(typeof(*p));
	if (!p)
		return 0;
	p->size = ctx->len;
	bpf_spin_lock(&b->lock);
	bpf_list_push_front(&b->free, &p->link);
	bpf_spin_unlock(&b->lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
