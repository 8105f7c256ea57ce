// kernel: accept
// The corrected lookup_under_lock: look the weight up first, then take the
// lock only for the update.
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
	__u64 *w, add;

	w = bpf_map_lookup_elem(&weights, &zero);
	if (!w)
		return 0;
	add = *w;
	bpf_spin_lock(&q_lock);
	q_credit += add;
	bpf_spin_unlock(&q_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
