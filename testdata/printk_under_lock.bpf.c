// kernel: reject
// bpf_printk is a helper call: print after the unlock, from a copy.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 count;

SEC("tc")
int trace(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	count++;
	bpf_printk("count %llu len %u mark %u", count, ctx->len, ctx->mark); // want "BL207 bpf_printk" verifier "function calls are not allowed while holding a lock"
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
