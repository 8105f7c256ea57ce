// kernel: reject
// The twin of cond_expr_null whose ?: tests the wrong thing: the
// dereference runs whenever the mark is set, NULL or not.
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
	__u64 hits = ctx->mark ? v->hits : 0; // want "BL211 .*'v'.*NULL" verifier "invalid mem access 'map_value_or_null'"

	return hits > 10;
}

char _license[] SEC("license") = "GPL";
