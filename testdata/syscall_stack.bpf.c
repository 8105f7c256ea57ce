// kernel: accept
// A LIFO free-list driven from user space with BPF_PROG_RUN on syscall
// programs: push_front and pop_front on one list head.
#include "bpf_lsp.h"

struct frame {
	struct bpf_list_node link;
	__u64 addr;
};

struct stack_args {
	__u64 addr;
};

private(S) struct bpf_spin_lock stack_lock;
private(S) struct bpf_list_head stack __contains(frame, link);
private(S) __u32 depth __guarded_by(stack_lock);

SEC("syscall")
int push(struct stack_args *args)
{
	struct frame *f = bpf_obj_new(typeof(*f));

	if (!f)
		return -1;
	f->addr = args->addr;
	bpf_spin_lock(&stack_lock);
	bpf_list_push_front(&stack, &f->link);
	depth++;
	bpf_spin_unlock(&stack_lock);
	return 0;
}

SEC("syscall")
int pop(struct stack_args *args)
{
	struct bpf_list_node *l;
	struct frame *f;

	bpf_spin_lock(&stack_lock);
	l = bpf_list_pop_front(&stack);
	if (l)
		depth--;
	bpf_spin_unlock(&stack_lock);
	if (!l)
		return -1;
	f = container_of(l, struct frame, link);
	args->addr = f->addr;
	bpf_obj_drop(f);
	return 0;
}

char _license[] SEC("license") = "GPL";
