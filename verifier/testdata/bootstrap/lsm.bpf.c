// An LSM hook that denies nothing but counts opens in a hash map.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} opens SEC(".maps");

SEC("lsm/file_open")
int BPF_PROG(count_open, struct file *file, int ret)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *n;

	if (ret)
		return ret;
	n = bpf_map_lookup_elem(&opens, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&opens, &pid, &one, BPF_NOEXIST);
	return 0;
}
