// kernel: accept
// A helper that takes the lock and the list as parameters, called for two
// sections: the lock and the root the helper uses are its caller's.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(A) struct bpf_spin_lock a_lock;
private(A) struct bpf_list_head a_box __contains(msg, link);
private(B) struct bpf_spin_lock b_lock;
private(B) struct bpf_list_head b_box __contains(msg, link);

static __noinline int post_to(struct bpf_spin_lock *lock, struct bpf_list_head *box, __u32 len)
{
	struct msg *m = bpf_obj_new(typeof(*m));

	if (!m)
		return 1;
	m->len = len;
	bpf_spin_lock(lock);
	bpf_list_push_back(box, &m->link);
	bpf_spin_unlock(lock);
	return 0;
}

SEC("tc")
int post(struct __sk_buff *ctx)
{
	return post_to(&a_lock, &a_box, ctx->len) | post_to(&b_lock, &b_box, ctx->len);
}

char _license[] SEC("license") = "GPL";
