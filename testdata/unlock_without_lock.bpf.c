// kernel: reject
// An unlock with no lock taken on the path to it.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 hits;

SEC("tc")
int hit(struct __sk_buff *ctx)
{
	hits++;
	bpf_spin_unlock(&glock); // want "BL204 bpf_spin_unlock of 'glock', which is not held" verifier "bpf_spin_unlock without taking a lock"
	return 0;
}

char _license[] SEC("license") = "GPL";
