// kernel: accept
// The corrected drain_loop_leak: the marker node is dropped before leaving
// the loop. Each iteration is its own short critical section.
#include "bpf_lsp.h"

struct work {
	struct bpf_list_node link;
	__u32 kind;
};

private(W) struct bpf_spin_lock work_lock;
private(W) struct bpf_list_head work_q __contains(work, link);

SEC("tc")
int drain(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;
	struct work *w;
	int i, done = 0;

	for (i = 0; i < 8; i++) {
		bpf_spin_lock(&work_lock);
		l = bpf_list_pop_front(&work_q);
		bpf_spin_unlock(&work_lock);
		if (!l)
			break;
		w = container_of(l, struct work, link);
		if (w->kind == 0) {
			bpf_obj_drop(w);
			break;
		}
		done++;
		bpf_obj_drop(w);
	}
	return done;
}

SEC("tc")
int add(struct __sk_buff *ctx)
{
	struct work *w = bpf_obj_new(typeof(*w));

	if (!w)
		return 0;
	w->kind = ctx->mark;
	bpf_spin_lock(&work_lock);
	bpf_list_push_back(&work_q, &w->link);
	bpf_spin_unlock(&work_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
