// kernel: reject
// One case of the switch returns with the lock still held.
#include "bpf_lsp.h"

private(C) struct bpf_spin_lock counters_lock;
private(C) __u64 tcp __guarded_by(counters_lock);
private(C) __u64 udp __guarded_by(counters_lock);
private(C) __u64 other __guarded_by(counters_lock);

SEC("tc")
int classify(struct __sk_buff *ctx)
{
	bpf_spin_lock(&counters_lock);
	switch (ctx->protocol) {
	case 6:
		tcp++;
		break;
	case 17:
		udp++;
		if (ctx->len > 9000)
			return 1; // want "BL203 'counters_lock' is still held at return"
		break;
	default:
		other++;
	}
	bpf_spin_unlock(&counters_lock);
	return 0;
} // verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"

char _license[] SEC("license") = "GPL";
