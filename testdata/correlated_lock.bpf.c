// kernel: accept
// A lock taken and released under the same condition: the path where the
// condition is false takes and releases nothing, so no path leaves it held.
#include "bpf_lsp.h"

private(C) struct bpf_spin_lock c_lock;
private(C) __u64 c_total __guarded_by(c_lock);

SEC("tc")
int account(struct __sk_buff *ctx)
{
	int shared = ctx->mark & 1;
	__u64 len = ctx->len;

	if (shared)
		bpf_spin_lock(&c_lock);
	len += 14;
	if (shared) {
		c_total += len;
		bpf_spin_unlock(&c_lock);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
