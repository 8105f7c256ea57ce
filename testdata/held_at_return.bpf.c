// kernel: reject
// An early return leaves the lock held.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 total __guarded_by(glock);

SEC("tc")
int account(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	if (ctx->len > 1500)
		return 0; // want "BL203 'glock' is still held at return"
	total += ctx->len;
	bpf_spin_unlock(&glock);
	return 0;
} // verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"

char _license[] SEC("license") = "GPL";
