// kernel: reject
// Resilient locks nest, but unlock in reverse order.
#include "bpf_lsp.h"

private(A) struct bpf_res_spin_lock a_lock;
private(A) __u64 a_count;
private(B) struct bpf_res_spin_lock b_lock;
private(B) __u64 b_count;

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
	bpf_res_spin_unlock(&a_lock); // want "BL213 'a_lock' is released before 'b_lock'" verifier "bpf_res_spin_unlock cannot be out of order"
	bpf_res_spin_unlock(&b_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
