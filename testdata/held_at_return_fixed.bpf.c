// kernel: accept
// The corrected held_at_return: every path unlocks.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 total __guarded_by(glock);

SEC("tc")
int account(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	if (ctx->len > 1500) {
		bpf_spin_unlock(&glock);
		return 0;
	}
	total += ctx->len;
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
