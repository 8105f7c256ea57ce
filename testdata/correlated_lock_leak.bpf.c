// kernel: reject
// The twin of correlated_lock with two different conditions: when the first
// holds and the second does not, the program returns with the lock held.
#include "bpf_lsp.h"

private(C) struct bpf_spin_lock c_lock;
private(C) __u64 c_total __guarded_by(c_lock);

SEC("tc")
int account(struct __sk_buff *ctx)
{
	int shared = ctx->mark & 1;
	int counted = ctx->mark & 2;
	__u64 len = ctx->len;

	if (shared)
		bpf_spin_lock(&c_lock);
	len += 14;
	if (counted) {
		c_total += len; // want "BL208 .*c_total.*c_lock"
		bpf_spin_unlock(&c_lock); // want "BL204 .*c_lock"
	}
	return 0; // want "BL203 'c_lock' is still held" verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"
}

char _license[] SEC("license") = "GPL";
