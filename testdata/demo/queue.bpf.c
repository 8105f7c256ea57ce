// A small job queue: jobs sorted by deadline in an rbtree, a FIFO of
// finished jobs in a list, all guarded by one lock in section .data.queue.
// It contains four lock mistakes for bpf-lsp to find.
#include "bpf_lsp.h"

struct job {
	struct bpf_rb_node node;
	struct bpf_list_node done_link;
	struct bpf_refcount ref;
	__u64 deadline;
	__u32 pid;
};

private(queue) struct bpf_spin_lock queue_lock;
private(queue) struct bpf_rb_root pending __contains(job, node);
private(queue) struct bpf_list_head finished __contains(job, done_link);
private(queue) __u64 nr_pending __guarded_by(queue_lock);

static bool earlier(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct job *ja = container_of(a, struct job, node);
	struct job *jb = container_of(b, struct job, node);

	return ja->deadline < jb->deadline;
}

SEC("tc")
int enqueue(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));

	if (!j)
		return 0;
	j->deadline = bpf_ktime_get_ns() + 1000;
	j->pid = ctx->mark;

	/* Bug: the tree is touched without its lock. */
	bpf_rbtree_add(&pending, &j->node, earlier);
	nr_pending++; /* and so is the counter it guards */
	return 0;
}

SEC("tc")
int dispatch(struct __sk_buff *ctx)
{
	struct bpf_rb_node *n;
	struct job *j;

	bpf_spin_lock(&queue_lock);
	n = bpf_rbtree_first(&pending);
	if (!n)
		return 0; /* Bug: returns with queue_lock held. */
	n = bpf_rbtree_remove(&pending, n);
	if (!n) {
		bpf_spin_unlock(&queue_lock);
		return 0;
	}
	j = container_of(n, struct job, node);
	nr_pending--;
	bpf_list_push_back(&finished, &j->done_link);
	bpf_spin_unlock(&queue_lock);
	return 0;
}

SEC("tc")
int reap(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;
	struct job *j;

	bpf_spin_lock(&queue_lock);
	l = bpf_list_pop_front(&finished);
	if (l) {
		j = container_of(l, struct job, done_link);
		bpf_obj_drop(j); /* Bug: bpf_obj_drop is not allowed under the lock. */
	}
	bpf_spin_unlock(&queue_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
