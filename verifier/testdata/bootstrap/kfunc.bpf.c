// kfuncs: a call pair that acquires and releases a task reference, the
// address of a kfunc the kernel has and a __weak kfunc no kernel has
// (libbpf resolves it to 0 and poisons its dead call).
#include "common.h"

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_lsp_no_such_kfunc(void) __ksym __weak;

/* libbpf 1.2's bpf_ksym_exists, for older headers */
#define ksym_exists(sym) (!!&(sym))

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t;

	if (ksym_exists(bpf_lsp_no_such_kfunc))
		bpf_lsp_no_such_kfunc();
	if (!ksym_exists(bpf_task_acquire))
		return 0;
	t = bpf_task_acquire(task);
	if (!t)
		return 0;
	bpf_printk("new task %d", t->pid);
	bpf_task_release(t);
	return 0;
}
