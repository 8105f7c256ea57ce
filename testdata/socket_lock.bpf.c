// kernel: reject
// A socket filter counting packets under a lock: socket filters may not use
// maps (or sections) that hold a bpf_spin_lock.
#include "bpf_lsp.h"

private(S) struct bpf_spin_lock s_lock;
private(S) __u64 s_packets __guarded_by(s_lock);

SEC("socket")
int count_packets(struct __sk_buff *skb)
{
	bpf_spin_lock(&s_lock); // want "BL214 .*count_packets.*socket filter" verifier "socket filter progs cannot use bpf_spin_lock yet"
	s_packets++;
	bpf_spin_unlock(&s_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
