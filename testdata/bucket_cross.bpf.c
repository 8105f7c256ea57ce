// kernel: reject
// Two lookups are two allocations: the lock of one bucket does not cover
// another bucket's list.
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
	struct entry *e;

	src = bpf_map_lookup_elem(&table, &src_key);
	dst = bpf_map_lookup_elem(&table, &dst_key);
	if (!src || !dst)
		return 0;
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	bpf_spin_lock(&src->lock);
	bpf_list_push_back(&dst->entries, &e->link); // want "BL202 bpf_list_push_back on 'dst->entries' requires holding 'dst->lock', but the lock held is 'bucket.lock'" verifier "bpf_spin_lock at off=0 must be held for bpf_list_head"
	bpf_spin_unlock(&src->lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
