// kernel: accept
// bpf_res_spin_lock returns 0 when it took the lock; unlock only then.
#include "bpf_lsp.h"

private(R) struct bpf_res_spin_lock rlock;
private(R) __u64 events __guarded_by(rlock);

SEC("tc")
int count(struct __sk_buff *ctx)
{
	if (bpf_res_spin_lock(&rlock))
		return 0;
	events++;
	bpf_res_spin_unlock(&rlock);
	return 0;
}

SEC("tc")
int count_ret(struct __sk_buff *ctx)
{
	int err = bpf_res_spin_lock(&rlock);

	if (err)
		return 0;
	events += ctx->len;
	bpf_res_spin_unlock(&rlock);
	return 0;
}

char _license[] SEC("license") = "GPL";
