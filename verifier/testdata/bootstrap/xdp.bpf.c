// An XDP program counting packets per protocol in a per-CPU array.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, u32);
	__type(value, u64);
} per_proto SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	u32 key;
	u64 *n;

	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	key = ip->protocol;
	n = bpf_map_lookup_elem(&per_proto, &key);
	if (n)
		*n += 1;
	return XDP_PASS;
}
