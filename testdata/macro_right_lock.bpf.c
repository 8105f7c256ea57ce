// kernel: accept
// The twin of macro_wrong_lock: each invocation passes a box and its lock.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(A) struct bpf_spin_lock a_lock;
private(A) struct bpf_list_head a_box __contains(msg, link);

#define LOCKED_PUSH(lock, box, m)                                              \
	do {                                                                   \
		bpf_spin_lock(lock);                                           \
		bpf_list_push_back(box, &(m)->link);                           \
		bpf_spin_unlock(lock);                                         \
	} while (0)

SEC("tc")
int post(struct __sk_buff *ctx)
{
	struct msg *m = bpf_obj_new(typeof(*m));

	if (!m)
		return 0;
	m->len = ctx->len;
	LOCKED_PUSH(&a_lock, &a_box, m);
	return 0;
}

char _license[] SEC("license") = "GPL";
