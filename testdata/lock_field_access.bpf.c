// kernel: reject
// Reading a lock's word through a cast: lock, root and node fields are
// opaque to the program.
#include "bpf_lsp.h"

struct job {
	struct bpf_spin_lock lock;
	__u64 cost;
};

SEC("tc")
int peek_lock(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));
	int word;

	if (!j)
		return 0;
	word = *(int *)&j->lock; // want "BL216 .*bpf_spin_lock" verifier "direct access to bpf_spin_lock is disallowed"
	bpf_obj_drop(j);
	return word;
}

char _license[] SEC("license") = "GPL";
