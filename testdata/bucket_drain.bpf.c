// kernel: accept
// Per-bucket lists in an array map: each value has its own lock. Draining
// pops under the lock and frees outside it, in a bounded loop.
#include "bpf_lsp.h"

struct entry {
	struct bpf_list_node link;
	__u64 cookie;
};

struct bucket {
	struct bpf_spin_lock lock;
	struct bpf_list_head entries __contains(entry, link);
	__u32 len __guarded_by(lock);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct bucket);
} table SEC(".maps");

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
	bpf_list_push_front(&b->entries, &e->link);
	b->len++;
	bpf_spin_unlock(&b->lock);
	return 0;
}

SEC("tc")
int drain(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark & 15;
	struct bpf_list_node *l;
	struct bucket *b;
	int i, freed = 0;

	b = bpf_map_lookup_elem(&table, &key);
	if (!b)
		return 0;
	for (i = 0; i < 8; i++) {
		bpf_spin_lock(&b->lock);
		l = bpf_list_pop_front(&b->entries);
		if (l)
			b->len--;
		bpf_spin_unlock(&b->lock);
		if (!l)
			break;
		bpf_obj_drop(container_of(l, struct entry, link));
		freed++;
	}
	return freed;
}

char _license[] SEC("license") = "GPL";
