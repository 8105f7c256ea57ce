// kernel: accept
// Per-flow queues in a hash map: each value carries its own lock, a list of
// pending packets and a length guarded by that lock. A missing flow is
// created with bpf_map_update_elem and looked up again; every list
// operation goes through the looked-up value pointer.
#include "bpf_lsp.h"

struct pkt {
	struct bpf_list_node link;
	__u32 len;
};

struct flow {
	struct bpf_spin_lock lock;
	struct bpf_list_head pending __contains(pkt, link);
	__u32 qlen __guarded_by(lock);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("tc")
int enqueue(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct flow *f, zero = {};
	struct pkt *p;
	int dropped = 0;

	f = bpf_map_lookup_elem(&flows, &key);
	if (!f) {
		bpf_map_update_elem(&flows, &key, &zero, 0);
		f = bpf_map_lookup_elem(&flows, &key);
		if (!f)
			return 0;
	}
	p = bpf_obj_new(typeof(*p));
	if (!p)
		return 0;
	p->len = ctx->len;
	bpf_spin_lock(&f->lock);
	if (f->qlen < 64) {
		bpf_list_push_back(&f->pending, &p->link);
		f->qlen++;
		p = NULL;
	}
	bpf_spin_unlock(&f->lock);
	if (p) {
		bpf_obj_drop(p);
		dropped = 1;
	}
	return dropped;
}

SEC("tc")
int dequeue(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct bpf_list_node *l;
	struct flow *f;
	__u32 len;

	f = bpf_map_lookup_elem(&flows, &key);
	if (!f)
		return 0;
	bpf_spin_lock(&f->lock);
	l = bpf_list_pop_front(&f->pending);
	if (l)
		f->qlen--;
	bpf_spin_unlock(&f->lock);
	if (!l)
		return 0;
	len = container_of(l, struct pkt, link)->len;
	bpf_obj_drop(container_of(l, struct pkt, link));
	return len;
}

char _license[] SEC("license") = "GPL";
