// kernel: accept
// The corrected res_lock_out_of_order: last taken, first released.
#include "bpf_lsp.h"

private(A) struct bpf_res_spin_lock a_lock;
private(A) __u64 a_count __guarded_by(a_lock);
private(B) struct bpf_res_spin_lock b_lock;
private(B) __u64 b_count __guarded_by(b_lock);

SEC("tc")
int both(struct __sk_buff *ctx)
{
	if (bpf_res_spin_lock(&a_lock))
		return 0;
	if (bpf_res_spin_lock(&b_lock)) {
		bpf_res_spin_unlock(&a_lock);
		return 0;
	}
	a_count++;
	b_count++;
	bpf_res_spin_unlock(&b_lock);
	bpf_res_spin_unlock(&a_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
