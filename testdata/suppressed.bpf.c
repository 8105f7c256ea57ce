// kernel: accept (guarded_by)
// A statistics counter read without its lock on purpose, suppressed with a
// reason; a suppression without a reason and one that matches nothing are
// reported themselves.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 packets __guarded_by(stats_lock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	bpf_spin_lock(&stats_lock);
	packets++;
	bpf_spin_unlock(&stats_lock);
	// bpf-lsp:ignore BL208 a racy read is fine for this sampling decision
	if (packets & 1023)
		return 0;
	return packets > 0; // bpf-lsp:ignore BL208 // want "BL302 .*needs a reason"
}

SEC("tc")
int idle(struct __sk_buff *ctx)
{
	// bpf-lsp:ignore BL201 nothing here needs it // want "BL301 .*matches no finding"
	return 0;
}

char _license[] SEC("license") = "GPL";
