// kernel: reject
// The static helper does graph work, but its caller never takes the lock.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(mq) struct bpf_spin_lock mq_lock;
private(mq) struct bpf_list_head inbox __contains(msg, link);

static __always_inline void deliver(struct msg *m)
{
	bpf_list_push_back(&inbox, &m->link); // want "BL201 bpf_list_push_back on 'inbox' requires holding 'mq_lock'" verifier "bpf_spin_lock at off=0 must be held for bpf_list_head"
}

SEC("tc")
int post(struct __sk_buff *ctx)
{
	struct msg *m = bpf_obj_new(typeof(*m));

	if (!m)
		return 0;
	deliver(m);
	return 0;
}

char _license[] SEC("license") = "GPL";
