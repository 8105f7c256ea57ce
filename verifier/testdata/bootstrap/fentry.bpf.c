// fentry and fexit on the same kernel function: the attach BTF id comes
// from the section name.
#include "common.h"

SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_fentry, int dfd, struct filename *name)
{
	bpf_printk("fentry: %s", name->name);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(unlink_fexit, int dfd, struct filename *name, long ret)
{
	bpf_printk("fexit: %s ret=%ld", name->name, ret);
	return 0;
}
