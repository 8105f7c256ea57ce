// An array of hash maps with an initial inner map; the program looks up
// through both levels.
#include "common.h"

struct inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u64);
} inner0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner0 },
};

SEC("tp/syscalls/sys_enter_getpid")
int lookup_nested(void *ctx)
{
	u32 zero = 0, pid = bpf_get_current_pid_tgid() >> 32;
	void *m = bpf_map_lookup_elem(&outer, &zero);
	u64 *v;

	if (!m)
		return 0;
	v = bpf_map_lookup_elem(m, &pid);
	if (v)
		*v += 1;
	return 0;
}
