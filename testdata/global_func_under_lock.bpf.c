// kernel: reject
// A global (non-static) function may not be called under a lock.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 count;

__noinline int bump(__u64 n)
{
	return n + 1;
}

SEC("tc")
int work(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	count = bump(count); // want "BL207 calling global function bump while holding 'glock'" verifier "use static function instead"
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
