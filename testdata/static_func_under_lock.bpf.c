// kernel: accept
// The corrected global_func_under_lock: a static function is fine.
#include "bpf_lsp.h"

private(A) struct bpf_spin_lock glock;
private(A) __u64 count __guarded_by(glock);

static __noinline void bump(void)
{
	count++;
}

SEC("tc")
int work(struct __sk_buff *ctx)
{
	bpf_spin_lock(&glock);
	bump();
	bpf_spin_unlock(&glock);
	return 0;
}

char _license[] SEC("license") = "GPL";
