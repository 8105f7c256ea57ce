// kernel: reject
// The twin of kptr_stash that forgets the object bpf_kptr_xchg hands back.
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
	struct blob *b;

	if (!s)
		return 0;
	b = bpf_obj_new(typeof(*b));
	if (!b)
		return 0;
	b->seen = ctx->len;
	bpf_kptr_xchg(&s->blob, b);
	return 0; // want "BL210 .*bpf_kptr_xchg"
} // verifier "Unreleased reference"

char _license[] SEC("license") = "GPL";
