// .kconfig externs of every kind libbpf fills: a bool, a tristate, a
// number, a string, the kernel version and a __weak option no kernel has.
#include "common.h"

extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_LOCALVERSION[64] __kconfig __weak;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_BPF_LSP_NO_SUCH_OPTION __kconfig __weak;

int seen[6];

SEC("tp/syscalls/sys_enter_getpid")
int read_config(void *ctx)
{
	seen[0] = CONFIG_BPF_SYSCALL;
	seen[1] = CONFIG_BPF_JIT == TRI_YES;
	seen[2] = CONFIG_HZ;
	seen[3] = CONFIG_LOCALVERSION[0];
	seen[4] = LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 0, 0);
	seen[5] = CONFIG_BPF_LSP_NO_SUCH_OPTION;
	return 0;
}
