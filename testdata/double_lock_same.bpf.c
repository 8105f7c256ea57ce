// kernel: reject
// Taking the lock that is already held: the kernel refuses the second
// bpf_spin_lock as a call under a lock (a real deadlock at run time).
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 count;

SEC("tc")
int twice(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	count++;
	bpf_spin_lock(&glock); // want "BL206 .*'glock' is held" verifier "function calls are not allowed while holding a lock"
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
