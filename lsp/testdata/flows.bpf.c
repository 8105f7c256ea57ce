// Per-flow counters in a hash map value: the lock is a field of the
// value and guards its neighbours. account() forgets the lock (BL208).
#include "bpf_lsp.h"

struct flow {
	struct bpf_spin_lock lock;
	__u64 packets __guarded_by(lock);
	__u64 bytes __guarded_by(lock);
	__u64 last_seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_spin_lock(&f->lock);
	f->packets++;
	f->bytes += skb->len;
	bpf_spin_unlock(&f->lock);
	f->last_seen = bpf_ktime_get_ns();
	return 0;
}

SEC("tc")
int account(struct __sk_buff *skb)
{
	__u32 key = skb->mark;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	f->bytes += skb->len;
	return 0;
}

char _license[] SEC("license") = "GPL";
