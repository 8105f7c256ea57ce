// A USDT probe: usdt.bpf.h's argument maps and its LINUX_HAS_BPF_COOKIE
// .kconfig extern.
#include "common.h"
#include <bpf/usdt.bpf.h>

SEC("usdt")
int BPF_USDT(on_probe, long a, long b)
{
	bpf_printk("usdt %ld %ld", a, b);
	return 0;
}
