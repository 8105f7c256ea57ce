// A timer wheel: deadlines in an rbtree, expiry records on a list.
// arm() inserts into the tree without taking its lock (BL201); fire()
// and drain() lock correctly.
#include "bpf_lsp.h"

struct timer {
	__u64 deadline;
	__u32 cookie;
	struct bpf_rb_node by_deadline;
};

struct expiry {
	__u32 cookie;
	struct bpf_list_node link;
};

private(W) struct bpf_spin_lock wheel_lock;
private(W) struct bpf_rb_root wheel __contains(timer, by_deadline);
private(W) __u64 armed __guarded_by(wheel_lock);

private(X) struct bpf_spin_lock expired_lock;
private(X) struct bpf_list_head expired __contains(expiry, link);

static bool earlier(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct timer *x = container_of(a, struct timer, by_deadline);
	struct timer *y = container_of(b, struct timer, by_deadline);

	return x->deadline < y->deadline;
}

SEC("tc")
int arm(struct __sk_buff *skb)
{
	struct timer *t = bpf_obj_new(typeof(*t));

	if (!t)
		return 0;
	t->deadline = bpf_ktime_get_ns() + skb->len;
	t->cookie = skb->mark;
	bpf_rbtree_add(&wheel, &t->by_deadline, earlier);
	return 0;
}

SEC("tc")
int fire(struct __sk_buff *skb)
{
	struct bpf_rb_node *n;
	struct expiry *e;
	__u32 cookie;

	bpf_spin_lock(&wheel_lock);
	n = bpf_rbtree_first(&wheel);
	if (!n) {
		bpf_spin_unlock(&wheel_lock);
		return 0;
	}
	n = bpf_rbtree_remove(&wheel, n);
	armed--;
	bpf_spin_unlock(&wheel_lock);
	if (!n)
		return 0;
	cookie = container_of(n, struct timer, by_deadline)->cookie;
	bpf_obj_drop(container_of(n, struct timer, by_deadline));
	e = bpf_obj_new(typeof(*e));
	if (!e)
		return 0;
	e->cookie = cookie;
	bpf_spin_lock(&expired_lock);
	bpf_list_push_back(&expired, &e->link);
	bpf_spin_unlock(&expired_lock);
	return 0;
}

SEC("tc")
int drain(struct __sk_buff *skb)
{
	struct bpf_list_node *l;

	bpf_spin_lock(&expired_lock);
	l = bpf_list_pop_front(&expired);
	bpf_spin_unlock(&expired_lock);
	if (l)
		bpf_obj_drop(container_of(l, struct expiry, link));
	return 0;
}

char _license[] SEC("license") = "GPL";
