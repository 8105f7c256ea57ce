// kernel: reject
// Only one bpf_spin_lock may be held at a time, even for two unrelated
// sections.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock a_lock;
private(A) __u64 a_count;
private(B) struct bpf_spin_lock b_lock;
private(B) __u64 b_count;

SEC("tc")
int both(struct __sk_buff *ctx)
{
	bpf_spin_lock(&a_lock);
	bpf_spin_lock(&b_lock); // want "BL206 bpf_spin_lock\\(&b_lock\\) while 'a_lock' is held" verifier "function calls are not allowed while holding a lock"
	a_count++;
	b_count++;
	bpf_spin_unlock(&b_lock);
	bpf_spin_unlock(&a_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
