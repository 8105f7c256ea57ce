// A uprobe and a uretprobe (attached by the loader at run time).
#include "common.h"

SEC("uprobe")
int BPF_KPROBE(malloc_entry, u64 size)
{
	bpf_printk("malloc(%llu)", size);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_exit, void *ret)
{
	bpf_printk("malloc -> %p", ret);
	return 0;
}
