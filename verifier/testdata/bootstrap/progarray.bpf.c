// A prog array initialised with a program, and a tail call into it.
#include "common.h"

SEC("xdp")
int xdp_leaf(struct xdp_md *ctx)
{
	return XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(u32));
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = { [1] = (void *)&xdp_leaf },
};

SEC("xdp")
int xdp_root(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 1);
	return XDP_DROP;
}
