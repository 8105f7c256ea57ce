// kernel: reject
// Lock mistakes in BPF assembly, which bpf-lsp follows instruction by
// instruction: each lookup is its own map value (the verifier's register
// id), the lock word is opaque, and a held lock forbids calls and exit.
// Each program looks up slots[0] into r6 first. The kernel's line info
// places every instruction of an asm statement on its first line.
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
__attribute__((naked)) int stamp_locked(void)
{
	asm volatile("r1 = 0;" // verifier "function calls are not allowed while holding a lock"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 != 0 goto l0_%=;"
		     "exit;"
		     "l0_%=: r6 = r0;"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[lock];"
		     "call %[now];" // want "BL207 bpf_ktime_get_ns is called while the lock of a slots value is held"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[unlock];"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [slots] "i"(&slots), [lookup] "i"(bpf_map_lookup_elem), [lock] "i"(bpf_spin_lock),
		       [unlock] "i"(bpf_spin_unlock), [now] "i"(bpf_ktime_get_ns)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
}

SEC("tc")
__attribute__((naked)) int peek_guard(void)
{
	asm volatile("r1 = 0;" // verifier "bpf_spin_lock cannot be accessed directly by load/store"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 != 0 goto l0_%=;"
		     "exit;"
		     "l0_%=: r6 = r0;"
		     "r0 = *(u32 *)(r6 + 8);" // want "BL216 .*4 bytes at offset 8 of a slots value, which overlaps its bpf_spin_lock 'guard'"
		     "exit;"
		     :
		     : [slots] "i"(&slots), [lookup] "i"(bpf_map_lookup_elem)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
}

SEC("tc")
__attribute__((naked)) int keep_locked(void)
{
	asm volatile("r1 = 0;" // verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 != 0 goto l0_%=;"
		     "exit;"
		     "l0_%=: r6 = r0;"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[lock];"
		     "r0 = 0;"
		     "exit;" // want "BL203 the lock of a slots value is still held at exit"
		     :
		     : [slots] "i"(&slots), [lookup] "i"(bpf_map_lookup_elem), [lock] "i"(bpf_spin_lock)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "memory");
}

SEC("tc")
__attribute__((naked)) int unlock_other(void)
{
	asm volatile("r1 = 0;" // verifier "bpf_spin_unlock of different lock"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 != 0 goto l0_%=;"
		     "exit;"
		     "l0_%=: r6 = r0;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[slots] ll;"
		     "call %[lookup];"
		     "if r0 != 0 goto l1_%=;"
		     "exit;"
		     "l1_%=: r7 = r0;"
		     "r1 = r6;"
		     "r1 += 8;"
		     "call %[lock];"
		     "r1 = r7;"
		     "r1 += 8;"
		     "call %[unlock];" // want "BL205 bpf_spin_unlock of the lock of another slots value"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [slots] "i"(&slots), [lookup] "i"(bpf_map_lookup_elem), [lock] "i"(bpf_spin_lock),
		       [unlock] "i"(bpf_spin_unlock)
		     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "memory");
}

char _license[] SEC("license") = "GPL";
