// kernel: accept
// The corrected guarded_unlocked.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 packets __guarded_by(stats_lock);
private(S) __u64 bytes __guarded_by(stats_lock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	__u64 b;

	bpf_spin_lock(&stats_lock);
	packets++;
	bytes += ctx->len;
	b = bytes;
	bpf_spin_unlock(&stats_lock);
	return b > 1000000;
}

char _license[] SEC("license") = "GPL";
