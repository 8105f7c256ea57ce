// kernel: reject
// The program's own macro wraps lock, push and unlock; one invocation
// passes the other section's lock. The finding lands on the invocation and
// names the call the macro expands to.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(A) struct bpf_spin_lock a_lock;
private(A) struct bpf_list_head a_box __contains(msg, link);
private(B) struct bpf_spin_lock b_lock;
private(B) struct bpf_list_head b_box __contains(msg, link);

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
	LOCKED_PUSH(&b_lock, &a_box, m); // want "BL202 bpf_list_push_back on 'a_box' requires holding 'a_lock'" verifier "held lock and object are not in the same allocation"
	return 0;
}

char _license[] SEC("license") = "GPL";
