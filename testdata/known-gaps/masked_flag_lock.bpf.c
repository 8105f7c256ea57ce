// kernel: accept
// The lock is taken and released under the same bit test of a flags word.
// clang computes `flags & SHARED` once, so the kernel sees one register
// tested twice; bpf-lsp tracks values of variables, not of expressions, and
// still follows the path that takes the lock without releasing it.
#include "bpf_lsp.h"

#define SHARED 4

private(C) struct bpf_spin_lock c_lock;
private(C) __u64 c_total __guarded_by(c_lock);

SEC("tc")
int account(struct __sk_buff *ctx)
{
	__u32 flags = ctx->mark;
	__u64 len = ctx->len;

	if (flags & SHARED)
		bpf_spin_lock(&c_lock);
	len += 14;
	if (flags & SHARED) {
		c_total += len;
		bpf_spin_unlock(&c_lock);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
