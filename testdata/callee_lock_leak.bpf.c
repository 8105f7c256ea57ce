// kernel: reject
// The lock is taken in a static helper and released by the caller, which
// is fine, but one path of the caller returns without releasing it.
#include "bpf_lsp.h"

private(C) struct bpf_spin_lock cfg_lock;
private(C) __u32 cfg_limit __guarded_by(cfg_lock);
private(C) __u32 cfg_hits __guarded_by(cfg_lock);

static __noinline void cfg_enter(void)
{
	bpf_spin_lock(&cfg_lock);
}

static __noinline void cfg_leave(void)
{
	bpf_spin_unlock(&cfg_lock);
}

SEC("tc")
int police(struct __sk_buff *ctx)
{
	cfg_enter();
	if (ctx->len > cfg_limit)
		return 2; // want "BL203 'cfg_lock' is still held"
	cfg_hits++;
	cfg_leave();
	return 0;
} // verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"

char _license[] SEC("license") = "GPL";
