// kernel: reject
// The result of bpf_res_spin_lock is ignored: on failure the unlock runs
// without the lock.
#include "bpf_lsp.h"

private(R) struct bpf_res_spin_lock rlock;
private(R) __u64 events;

SEC("tc")
int count(struct __sk_buff *ctx)
{
	bpf_res_spin_lock(&rlock);
	events++;
	bpf_res_spin_unlock(&rlock); // want "BL213 .*result of bpf_res_spin_lock was not checked" verifier "bpf_res_spin_unlock without taking a lock"
	return 0;
}

char _license[] SEC("license") = "GPL";
