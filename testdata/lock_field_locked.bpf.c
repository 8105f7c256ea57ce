// kernel: accept
// The twin of lock_field_access: the lock is only taken and released, and
// the data next to it is read under it.
#include "bpf_lsp.h"

struct job {
	struct bpf_spin_lock lock;
	__u64 cost;
};

SEC("tc")
int peek_lock(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));
	int cost;

	if (!j)
		return 0;
	bpf_spin_lock(&j->lock);
	cost = j->cost;
	bpf_spin_unlock(&j->lock);
	bpf_obj_drop(j);
	return cost;
}

char _license[] SEC("license") = "GPL";
