// kernel: reject
// The helper call hides in a static function that the caller runs inside
// its critical section.
#include "bpf_lsp.h"

private(L) struct bpf_spin_lock lat_lock;
private(L) __u64 lat_last __guarded_by(lat_lock);
private(L) __u64 lat_max __guarded_by(lat_lock);

static __noinline __u64 since_last(void)
{
	return bpf_ktime_get_ns() - lat_last; // want "BL207 bpf_ktime_get_ns" verifier "function calls are not allowed while holding a lock"
}

SEC("tc")
int sample(struct __sk_buff *ctx)
{
	__u64 d;

	bpf_spin_lock(&lat_lock);
	d = since_last();
	if (d > lat_max)
		lat_max = d;
	bpf_spin_unlock(&lat_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
