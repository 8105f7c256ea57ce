// kernel: reject
// A tail call never returns, so it would leave the critical section with
// the lock held; as a helper it is refused under the lock.
#include "bpf_lsp.h"

struct {
	__uint(type, 3); /* BPF_MAP_TYPE_PROG_ARRAY */
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} stages SEC(".maps");

private(G) struct bpf_spin_lock g_lock;
private(G) __u32 g_stage __guarded_by(g_lock);

SEC("tc")
int dispatch(struct __sk_buff *ctx)
{
	bpf_spin_lock(&g_lock);
	g_stage++;
	bpf_tail_call(ctx, &stages, g_stage & 3); // want "BL207 bpf_tail_call" verifier "function calls are not allowed while holding a lock"
	bpf_spin_unlock(&g_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
