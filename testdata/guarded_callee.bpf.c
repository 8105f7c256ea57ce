// kernel: accept (guarded_by)
// A static helper updates guarded statistics. One caller holds the lock
// around the call, the other forgets: bpf-lsp reports the access inside
// the helper, reached without the lock.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock stats_lock;
private(S) __u64 hits __guarded_by(stats_lock);

static __noinline void bump(void)
{
	hits++; // want "BL208 .*hits.*stats_lock"
}

SEC("tc")
int locked(struct __sk_buff *ctx)
{
	bpf_spin_lock(&stats_lock);
	bump();
	bpf_spin_unlock(&stats_lock);
	return 0;
}

SEC("tc")
int unlocked(struct __sk_buff *ctx)
{
	bump();
	return 0;
}

char _license[] SEC("license") = "GPL";
