// kernel: reject
// A map lookup is a helper call: it may not run inside a critical section,
// even to read another map.
#include "bpf_lsp.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} weights SEC(".maps");

private(Q) struct bpf_spin_lock q_lock;
private(Q) __u64 q_credit __guarded_by(q_lock);

SEC("tc")
int charge(struct __sk_buff *ctx)
{
	__u32 zero = 0;
	__u64 *w;

	bpf_spin_lock(&q_lock);
	w = bpf_map_lookup_elem(&weights, &zero); // want "BL207 bpf_map_lookup_elem .*q_lock" verifier "function calls are not allowed while holding a lock"
	if (w)
		q_credit += *w;
	bpf_spin_unlock(&q_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
