// kernel: reject
// A resilient lock taken again by a helper while the caller already holds
// it: the verifier sees the AA deadlock statically.
#include "bpf_lsp.h"

private(R) struct bpf_res_spin_lock r_lock;
private(R) __u64 r_count __guarded_by(r_lock);
private(R) __u64 r_max __guarded_by(r_lock);

static __noinline int bump(void)
{
	if (bpf_res_spin_lock(&r_lock)) // want "BL213 .*r_lock" verifier "Acquiring the same lock again, AA deadlock detected"
		return 0;
	r_count++;
	bpf_res_spin_unlock(&r_lock);
	return 1;
}

SEC("tc")
int track(struct __sk_buff *ctx)
{
	if (bpf_res_spin_lock(&r_lock))
		return 0;
	if (ctx->len > r_max)
		r_max = ctx->len;
	bump();
	bpf_res_spin_unlock(&r_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
