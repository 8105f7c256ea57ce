// kernel: accept (guarded_by)
// A guarded field of a map value, written outside the value's own lock.
#include "bpf_lsp.h"

struct flow {
	struct bpf_spin_lock lock;
	__u64 packets __guarded_by(lock);
	__u64 bytes __guarded_by(lock);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct flow);
} flows SEC(".maps");

SEC("tc")
int account(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct flow *f = bpf_map_lookup_elem(&flows, &key);

	if (!f)
		return 0;
	bpf_spin_lock(&f->lock);
	f->packets++;
	bpf_spin_unlock(&f->lock);
	f->bytes += ctx->len; // want "BL208 writing 'f->bytes' requires holding 'f->lock'"
	return 0;
}

char _license[] SEC("license") = "GPL";
