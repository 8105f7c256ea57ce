// kernel: reject
// The unlock names another section's lock than the one taken.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock a_lock;
private(A) __u64 a_count;
private(B) struct bpf_spin_lock b_lock;
private(B) __u64 b_count;

SEC("tc")
int swap(struct __sk_buff *ctx)
{
	bpf_spin_lock(&a_lock);
	a_count++;
	bpf_spin_unlock(&b_lock); // want "BL205 bpf_spin_unlock of 'b_lock', but the lock held is 'a_lock'" verifier "bpf_spin_unlock of different lock"
	return 0;
}

char _license[] SEC("license") = "GPL";
