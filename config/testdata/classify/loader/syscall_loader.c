#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	union bpf_attr attr = {};

	return syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}
