// kernel: accept
// A scheduler-style run queue: each task sits in a tree ordered by virtual
// runtime and in a list of all tasks, so nodes are refcounted. Enqueue
// inserts in both; pick_next takes the leftmost task off the tree.
#include "bpf_lsp.h"

struct task {
	struct bpf_rb_node rq_node;
	struct bpf_list_node all_link;
	struct bpf_refcount ref;
	__u64 vruntime;
	__u32 pid;
};

private(rq) struct bpf_spin_lock rq_lock;
private(rq) struct bpf_rb_root runq __contains(task, rq_node);
private(rq) struct bpf_list_head all_tasks __contains(task, all_link);
private(rq) __u64 nr_running __guarded_by(rq_lock);

static bool vruntime_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct task *ta = container_of(a, struct task, rq_node);
	struct task *tb = container_of(b, struct task, rq_node);

	return ta->vruntime < tb->vruntime;
}

SEC("tc")
int enqueue(struct __sk_buff *ctx)
{
	struct task *t, *second;

	t = bpf_obj_new(typeof(*t));
	if (!t)
		return 0;
	t->pid = ctx->mark;
	t->vruntime = bpf_ktime_get_ns();

	bpf_spin_lock(&rq_lock);
	second = bpf_refcount_acquire(t);
	bpf_rbtree_add(&runq, &t->rq_node, vruntime_less);
	if (second)
		bpf_list_push_back(&all_tasks, &second->all_link);
	nr_running++;
	bpf_spin_unlock(&rq_lock);
	return 0;
}

SEC("tc")
int pick_next(struct __sk_buff *ctx)
{
	struct bpf_rb_node *n;
	struct task *t;
	__u32 pid;

	bpf_spin_lock(&rq_lock);
	n = bpf_rbtree_first(&runq);
	if (!n) {
		bpf_spin_unlock(&rq_lock);
		return 0;
	}
	n = bpf_rbtree_remove(&runq, n);
	if (n)
		nr_running--;
	bpf_spin_unlock(&rq_lock);
	if (!n)
		return 0;
	t = container_of(n, struct task, rq_node);
	pid = t->pid;
	bpf_obj_drop(t);
	return pid;
}

char _license[] SEC("license") = "GPL";
