// kernel: reject
// bpf_list_front gives a non-owning reference: dead after the unlock.
#include "bpf_lsp.h"

struct msg {
	struct bpf_list_node link;
	__u32 len;
};

private(mq) struct bpf_spin_lock mq_lock;
private(mq) struct bpf_list_head inbox __contains(msg, link);

SEC("tc")
int peek_len(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;

	bpf_spin_lock(&mq_lock);
	l = bpf_list_front(&inbox);
	bpf_spin_unlock(&mq_lock);
	if (!l)
		return 0;
	return container_of(l, struct msg, link)->len; // want "BL209 .*from bpf_list_front" verifier "R\\d+ invalid mem access 'scalar'"
}

SEC("tc")
int post(struct __sk_buff *ctx)
{
	struct msg *m = bpf_obj_new(typeof(*m));

	if (!m)
		return 0;
	bpf_spin_lock(&mq_lock);
	bpf_list_push_back(&inbox, &m->link);
	bpf_spin_unlock(&mq_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
