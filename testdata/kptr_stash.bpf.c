// kernel: accept
// An object stashed in a map value's kptr with bpf_kptr_xchg: ownership
// moves into the map, and the object it replaces comes back and is dropped.
#include "bpf_lsp.h"

static void *(*bpf_kptr_xchg)(void *dst, void *ptr) = (void *)194;

struct blob {
	__u64 seen;
};

struct slot {
	struct blob __kptr *blob;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

SEC("tc")
int stash(struct __sk_buff *ctx)
{
	__u32 key = 0;
	struct slot *s = bpf_map_lookup_elem(&slots, &key);
	struct blob *b, *old;

	if (!s)
		return 0;
	b = bpf_obj_new(typeof(*b));
	if (!b)
		return 0;
	b->seen = ctx->len;
	old = bpf_kptr_xchg(&s->blob, b);
	if (old)
		bpf_obj_drop(old);
	return 0;
}

char _license[] SEC("license") = "GPL";
