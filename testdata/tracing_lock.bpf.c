// kernel: reject
// A kprobe program taking a lock: tracing programs may run in any context,
// so the kernel refuses maps (and sections) that hold a bpf_spin_lock.
#include "bpf_lsp.h"

private(K) struct bpf_spin_lock k_lock;
private(K) __u64 k_calls __guarded_by(k_lock);

SEC("kprobe/do_nanosleep")
int count_sleeps(void *ctx)
{
	bpf_spin_lock(&k_lock); // want "BL214 .*count_sleeps.*tracing" verifier "tracing progs cannot use bpf_spin_lock yet"
	k_calls++;
	bpf_spin_unlock(&k_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
