// kernel: accept
// bpf_refcount_acquire of an owning reference cannot fail: the verifier
// drops its NULL case, so the second reference goes straight into the tree.
// A non-owning input (from bpf_rbtree_first) may give NULL and is checked.
#include "bpf_lsp.h"

struct session {
	struct bpf_rb_node by_id;
	struct bpf_list_node lru;
	struct bpf_refcount ref;
	__u32 id;
};

private(S) struct bpf_spin_lock s_lock;
private(S) struct bpf_rb_root sessions __contains(session, by_id);
private(S) struct bpf_list_head lru __contains(session, lru);

static bool id_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct session, by_id)->id < container_of(b, struct session, by_id)->id;
}

SEC("tc")
int open(struct __sk_buff *ctx)
{
	struct session *s = bpf_obj_new(typeof(*s));
	struct session *again;

	if (!s)
		return 0;
	s->id = ctx->mark;
	again = bpf_refcount_acquire(s);
	bpf_spin_lock(&s_lock);
	bpf_rbtree_add(&sessions, &s->by_id, id_less);
	bpf_list_push_back(&lru, &again->lru);
	bpf_spin_unlock(&s_lock);
	return 0;
}

SEC("tc")
int touch_oldest(struct __sk_buff *ctx)
{
	struct bpf_rb_node *n;
	struct session *extra = NULL;

	bpf_spin_lock(&s_lock);
	n = bpf_rbtree_first(&sessions);
	if (n)
		extra = bpf_refcount_acquire(container_of(n, struct session, by_id));
	bpf_spin_unlock(&s_lock);
	if (!extra)
		return 0;
	bpf_obj_drop(extra);
	return 1;
}

char _license[] SEC("license") = "GPL";
