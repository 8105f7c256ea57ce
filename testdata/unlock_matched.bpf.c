// kernel: accept
// The corrected unlock_without_lock and unlock_different: each unlock names
// the lock its own critical section took.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock a_lock;
private(A) __u64 a_count __guarded_by(a_lock);
private(B) struct bpf_spin_lock b_lock;
private(B) __u64 b_count __guarded_by(b_lock);

SEC("tc")
int hit(struct __sk_buff *ctx)
{
	bpf_spin_lock(&a_lock);
	a_count++;
	bpf_spin_unlock(&a_lock);
	return 0;
}

SEC("tc")
int swap(struct __sk_buff *ctx)
{
	__u64 a;

	bpf_spin_lock(&a_lock);
	a = a_count;
	a_count = 0;
	bpf_spin_unlock(&a_lock);
	bpf_spin_lock(&b_lock);
	b_count += a;
	bpf_spin_unlock(&b_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
