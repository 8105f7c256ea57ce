// kernel: reject
// Helpers may not run inside a critical section.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 last_seen __guarded_by(glock);

SEC("tc")
int stamp(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	last_seen = bpf_ktime_get_ns(); // want "BL207 bpf_ktime_get_ns \\(a helper\\) is not allowed while holding 'glock'" verifier "function calls are not allowed while holding a lock"
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
