// kernel: accept
// The corrected helper_under_lock: call the helper first, then lock.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 last_seen __guarded_by(glock);

SEC("tc")
int stamp(struct __sk_buff *ctx)
{
	__u64 now = bpf_ktime_get_ns();

	bpf_spin_lock(&glock);
	last_seen = now;
	bpf_spin_unlock(&glock);
	bpf_printk("stamped %llu", now);
	return 0;
}

char _license[] SEC("license") = "GPL";
