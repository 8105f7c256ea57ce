// kernel: accept (guarded_by)
// The counter lives in another section than the lock named for it.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock a_lock;
private(A) __u64 a_count __guarded_by(a_lock);
private(B) __u64 b_count __guarded_by(a_lock); // want "BL104 'b_count' is in section .data.B but its lock 'a_lock' is in section .data.A"

SEC("tc")
int count(struct __sk_buff *ctx)
{
	bpf_spin_lock(&a_lock);
	a_count++;
	b_count++;
	bpf_spin_unlock(&a_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
