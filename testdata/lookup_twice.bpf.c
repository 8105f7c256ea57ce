// kernel: reject
// Two lookups of the same key are two allocations to the verifier: the
// lock taken through one cannot be released through the other.
#include "bpf_lsp.h"

struct counter {
	struct bpf_spin_lock lock;
	__u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

SEC("tc")
int bump(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	struct counter *again = bpf_map_lookup_elem(&counters, &key);

	if (!c || !again)
		return 0;
	bpf_spin_lock(&c->lock);
	c->n++;
	bpf_spin_unlock(&again->lock); // want "BL205 .*again->lock.*c->lock" verifier "bpf_spin_unlock of different lock"
	return 0;
}

char _license[] SEC("license") = "GPL";
