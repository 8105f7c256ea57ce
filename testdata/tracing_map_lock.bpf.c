// kernel: reject
// A tracepoint program calls a helper that looks up a map whose value holds
// a lock: the kernel refuses the map for tracing programs as soon as the
// program refers to it, whatever the path.
#include "bpf_lsp.h"

struct counter {
	struct bpf_spin_lock lock;
	__u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

static __always_inline void bump(void)
{
	__u32 key = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &key); // want "BL214 .*'counts'.*'counters'" verifier "tracing progs cannot use bpf_spin_lock yet"

	if (!c)
		return;
	bpf_spin_lock(&c->lock);
	c->n++;
	bpf_spin_unlock(&c->lock);
}

SEC("tracepoint/syscalls/sys_enter_nanosleep")
int counts(void *ctx)
{
	bump();
	return 0;
}

char _license[] SEC("license") = "GPL";
