// kernel: accept
// The corrected guarded_by_unknown and guarded_by_other_section: every
// __guarded_by names a real lock of the counter's own section, and every
// access holds it.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 packets __guarded_by(stats_lock);
private(S) __u64 bytes __guarded_by(stats_lock);
private(D) struct bpf_spin_lock drop_lock;
private(D) __u64 drops __guarded_by(drop_lock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	bpf_spin_lock(&stats_lock);
	packets++;
	bytes += ctx->len;
	bpf_spin_unlock(&stats_lock);
	if (ctx->len < 64) {
		bpf_spin_lock(&drop_lock);
		drops++;
		bpf_spin_unlock(&drop_lock);
		return 2;
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
