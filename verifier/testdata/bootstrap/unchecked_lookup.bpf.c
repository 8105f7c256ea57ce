// A map value used without a NULL check: the verifier rejects it.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} counter SEC(".maps");

SEC("xdp")
int count_unchecked(struct xdp_md *ctx)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&counter, &zero);

	*n += 1; // a hash lookup can miss: verifier "invalid mem access 'map_value_or_null'"
	return XDP_PASS;
}
