// kernel: accept
// The corrected loop_break_held: the budget check reads the counter into a
// local, unlocks, and only then leaves the loop.
#include "bpf_lsp.h"

struct slot {
	struct bpf_list_node link;
	__u64 bytes;
};

private(P) struct bpf_spin_lock pool_lock;
private(P) struct bpf_list_head pool __contains(slot, link);
private(P) __u64 pool_bytes __guarded_by(pool_lock);

SEC("tc")
int fill(struct __sk_buff *ctx)
{
	struct slot *s;
	__u64 used;
	int i;

	for (i = 0; i < 4; i++) {
		s = bpf_obj_new(typeof(*s));
		if (!s)
			break;
		s->bytes = ctx->len;
		bpf_spin_lock(&pool_lock);
		bpf_list_push_back(&pool, &s->link);
		pool_bytes += ctx->len;
		used = pool_bytes;
		bpf_spin_unlock(&pool_lock);
		if (used > 65536)
			break;
	}
	return i;
}

char _license[] SEC("license") = "GPL";
