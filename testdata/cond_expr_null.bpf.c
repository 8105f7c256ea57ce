// kernel: accept
// NULL checks inside expressions: `v ? v->hits : 0` and `v && v->hits`
// each dereference v only on the path where it is not NULL.
#include "bpf_lsp.h"

struct stat {
	__u64 hits;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct stat);
} stats SEC(".maps");

SEC("tc")
int peek(struct __sk_buff *ctx)
{
	__u32 key = ctx->mark;
	struct stat *v = bpf_map_lookup_elem(&stats, &key);
	__u64 hits = v ? v->hits : 0;

	if (v && v->bytes > 1000)
		return 1;
	return hits > 10;
}

char _license[] SEC("license") = "GPL";
