// kernel: reject
// Each iteration checks the pool's budget under the lock; the break for a
// full pool leaves the loop with the lock still held.
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
	int i;

	for (i = 0; i < 4; i++) {
		s = bpf_obj_new(typeof(*s));
		if (!s)
			break;
		s->bytes = ctx->len;
		bpf_spin_lock(&pool_lock);
		bpf_list_push_back(&pool, &s->link);
		pool_bytes += ctx->len;
		if (pool_bytes > 65536)
			break;
		bpf_spin_unlock(&pool_lock);
	}
	return i; // want "BL203 'pool_lock' is still held" verifier "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"
}

char _license[] SEC("license") = "GPL";
