// A BTF-typed tracepoint: the arguments are the tracepoint's own types.
#include "common.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (prev->pid == next->pid)
		return 0;
	bpf_printk("switch %d -> %d", prev->pid, next->pid);
	return 0;
}
