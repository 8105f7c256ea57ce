// A kprobe and a kretprobe on unlinkat, reading the file name through CO-RE.
#include "common.h"

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	const char *fname = BPF_CORE_READ(name, name);
	pid_t pid = bpf_get_current_pid_tgid() >> 32;

	bpf_printk("unlink pid=%d name=%s", pid, fname);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_exit, long ret)
{
	bpf_printk("unlink ret=%ld", ret);
	return 0;
}
