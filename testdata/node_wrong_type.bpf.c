// kernel: reject
// A list that holds struct job gets a struct task's node: the root's
// __contains names the only type (and member) it may hold.
#include "bpf_lsp.h"

struct job {
	__u64 cost;
	struct bpf_list_node link;
};

struct task {
	struct bpf_list_node link;
	__u32 pid;
};

private(Q) struct bpf_spin_lock q_lock;
private(Q) struct bpf_list_head jobs __contains(job, link);

SEC("tc")
int submit(struct __sk_buff *ctx)
{
	struct job *j = bpf_obj_new(typeof(*j));
	struct task *t;

	if (j)
		bpf_obj_drop(j); /* puts struct job in BTF */
	t = bpf_obj_new(typeof(*t));
	if (!t)
		return 0;
	t->pid = ctx->mark;
	bpf_spin_lock(&q_lock);
	bpf_list_push_back(&jobs, &t->link); // want "BL217 'jobs' holds struct job.*struct task" verifier "operation on bpf_list_head expects arg#1 bpf_list_node at offset=8 in struct job, but arg is at offset=0 in struct task"
	bpf_spin_unlock(&q_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
