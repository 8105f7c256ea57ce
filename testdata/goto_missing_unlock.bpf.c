// kernel: reject
// The error path jumps past the unlock.
#include "bpf_lsp.h"

private(Q) struct bpf_spin_lock qlock;
private(Q) __u64 queued __guarded_by(qlock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	int ret = 0;

	bpf_spin_lock(&qlock);
	if (queued >= 64) {
		ret = 1;
		goto out;
	}
	queued++;
	bpf_spin_unlock(&qlock);
out:
	return ret; // want "BL203 'qlock' is still held at return" verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"
}

char _license[] SEC("license") = "GPL";
