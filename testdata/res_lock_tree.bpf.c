// kernel: accept
// A resilient lock guards an rbtree (6.15+): graph calls accept a held
// bpf_res_spin_lock of the root's allocation. The lock may fail, so the
// node is dropped on that path instead of leaking.
#include "bpf_lsp.h"

struct timer_ev {
	struct bpf_rb_node node;
	__u64 expires;
};

private(T) struct bpf_res_spin_lock t_lock;
private(T) struct bpf_rb_root timers __contains(timer_ev, node);

static bool expires_before(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct timer_ev, node)->expires <
	       container_of(b, struct timer_ev, node)->expires;
}

SEC("tc")
int arm(struct __sk_buff *ctx)
{
	struct timer_ev *ev = bpf_obj_new(typeof(*ev));

	if (!ev)
		return 0;
	ev->expires = bpf_ktime_get_ns() + 1000000;
	if (bpf_res_spin_lock(&t_lock)) {
		bpf_obj_drop(ev);
		return 0;
	}
	bpf_rbtree_add(&timers, &ev->node, expires_before);
	bpf_res_spin_unlock(&t_lock);
	return 1;
}

SEC("tc")
int expire(struct __sk_buff *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	struct bpf_rb_node *n;

	if (bpf_res_spin_lock(&t_lock))
		return 0;
	n = bpf_rbtree_first(&timers);
	if (n && container_of(n, struct timer_ev, node)->expires <= now)
		n = bpf_rbtree_remove(&timers, n);
	else
		n = NULL;
	bpf_res_spin_unlock(&t_lock);
	if (!n)
		return 0;
	bpf_obj_drop(container_of(n, struct timer_ev, node));
	return 1;
}

char _license[] SEC("license") = "GPL";
