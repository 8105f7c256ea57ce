// kernel: reject
// A less() callback that releases the tree's lock to do its comparison
// unlocked: the callback must leave the lock as it found it.
#include "bpf_lsp.h"

struct task {
	__u64 vruntime;
	struct bpf_rb_node rb;
};

private(T) struct bpf_spin_lock tasks_lock;
private(T) struct bpf_rb_root tasks __contains(task, rb);

static bool earlier(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	bool before;

	bpf_spin_unlock(&tasks_lock); // want "BL212 bpf_spin_unlock inside the rbtree callback 'earlier'" verifier "can't spin_\\{lock,unlock\\} in rbtree cb"
	before = container_of(a, struct task, rb)->vruntime < container_of(b, struct task, rb)->vruntime;
	bpf_spin_lock(&tasks_lock); // want "BL212 bpf_spin_lock inside the rbtree callback 'earlier'"
	return before;
}

SEC("tc")
int enqueue(struct __sk_buff *ctx)
{
	struct task *t = bpf_obj_new(typeof(*t));

	if (!t)
		return 0;
	t->vruntime = ctx->len;
	bpf_spin_lock(&tasks_lock);
	bpf_rbtree_add(&tasks, &t->rb, earlier);
	bpf_spin_unlock(&tasks_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
