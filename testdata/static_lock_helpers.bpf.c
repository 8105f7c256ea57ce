// kernel: accept
// Lock and unlock live in static helpers; the caller's list operations run
// between them, and a static function does the graph work under the lock.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(mq) struct bpf_spin_lock mq_lock;
private(mq) struct bpf_list_head inbox __contains(msg, link);
private(mq) __u32 inbox_len __guarded_by(mq_lock);

static __noinline void mq_lock_take(void)
{
	bpf_spin_lock(&mq_lock);
}

static __noinline void mq_lock_release(void)
{
	bpf_spin_unlock(&mq_lock);
}

static __always_inline void deliver(struct msg *m)
{
	bpf_list_push_back(&inbox, &m->link);
	inbox_len++;
}

SEC("tc")
int post(struct __sk_buff *ctx)
{
	struct msg *m = bpf_obj_new(typeof(*m));

	if (!m)
		return 0;
	m->len = ctx->len;
	mq_lock_take();
	deliver(m);
	mq_lock_release();
	return 0;
}

char _license[] SEC("license") = "GPL";
