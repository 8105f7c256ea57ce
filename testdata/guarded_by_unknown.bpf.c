// kernel: accept (guarded_by)
// __guarded_by names a misspelt lock and a counter that is no lock.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 packets __guarded_by(stats_lokc); // want "BL103 __guarded_by\\(stats_lokc\\) on 'packets': 'stats_lokc' does not exist"
private(S) __u64 bytes __guarded_by(packets); // want "BL103 .*'packets' is not a bpf_spin_lock"

SEC("tc")
int count(struct __sk_buff *ctx)
{
	packets++;
	bytes += ctx->len;
	return 0;
}

char _license[] SEC("license") = "GPL";
