// Verification depends on frozen .rodata: the bad store is dead code only
// because the loader writes debug_store = 0 and freezes the map, so the
// verifier knows the value.
#include "common.h"

const volatile int debug_store = 0;
const volatile u32 limit = 8;
int counts[8];

SEC("tp/syscalls/sys_enter_getpid")
int use_rodata(void *ctx)
{
	u32 i = bpf_get_prandom_u32();

	if (debug_store)
		*(volatile int *)(long)i = 1;
	if (i < limit)
		counts[i & 7]++;
	return 0;
}
