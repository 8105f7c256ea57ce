// kernel: accept (guarded_by)
// The kernel does not check __guarded_by; bpf-lsp does.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 packets __guarded_by(stats_lock);
private(S) __u64 bytes __guarded_by(stats_lock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	packets++; // want "BL208 writing 'packets' requires holding 'stats_lock'"
	bpf_spin_lock(&stats_lock);
	bytes += ctx->len;
	bpf_spin_unlock(&stats_lock);
	return bytes > 1000000; // want "BL208 reading 'bytes' requires holding 'stats_lock'"
}

char _license[] SEC("license") = "GPL";
