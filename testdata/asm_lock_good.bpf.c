// kernel: accept
// The twin of asm_lock_bad: in BPF assembly, the counter next to the lock
// is updated under it, the lock is released with the same map value's
// pointer, and only then is a helper called.
#include "bpf_lsp.h"

struct slot {
	__u64 hits;
	struct bpf_spin_lock guard;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

SEC("tc")
__attribute__((naked)) int count_hit(void)
{
	asm volatile("r1 = 0;"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 == 0 goto l0_%=;"
		     "r6 = r0;"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[lock];"
		     "r1 = 1;"
		     "*(u64 *)(r6 + 0) = r1;"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[unlock];"
		     "call %[now];"
		     "l0_%=: r0 = 0;"
		     "exit;"
		     :
		     : [slots] "i"(&slots), [lookup] "i"(bpf_map_lookup_elem), [lock] "i"(bpf_spin_lock),
		       [unlock] "i"(bpf_spin_unlock), [now] "i"(bpf_ktime_get_ns)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
}

char _license[] SEC("license") = "GPL";
