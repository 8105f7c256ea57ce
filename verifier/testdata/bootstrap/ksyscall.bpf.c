// ksyscall programs: BPF_KSYSCALL reads the LINUX_HAS_SYSCALL_WRAPPER
// .kconfig extern to find the arguments.
#include "common.h"

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("kill(%d, %d) from %s", pid, sig, comm);
	return 0;
}

SEC("kretsyscall/tgkill")
int BPF_KRETPROBE(tgkill_exit, long ret)
{
	bpf_printk("tgkill ret=%ld", ret);
	return 0;
}
