// kernel: reject
// bpf_rcu_read_lock is a kfunc outside the lock's allow-list; a held spin
// lock already counts as an RCU read-side section, so it is not needed.
#include "bpf_lsp.h"

struct peer {
	struct bpf_list_node link;
	__u32 addr;
};

private(N) struct bpf_spin_lock nb_lock;
private(N) struct bpf_list_head neighbours __contains(peer, link);

SEC("tc")
int first_addr(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;
	__u32 addr = 0;

	bpf_spin_lock(&nb_lock);
	bpf_rcu_read_lock(); // want "BL207 bpf_rcu_read_lock" verifier "function calls are not allowed while holding a lock"
	l = bpf_list_front(&neighbours);
	if (l)
		addr = container_of(l, struct peer, link)->addr;
	bpf_rcu_read_unlock(); // want "BL207 bpf_rcu_read_unlock"
	bpf_spin_unlock(&nb_lock);
	return addr;
}

SEC("tc")
int learn(struct __sk_buff *ctx)
{
	struct peer *p = bpf_obj_new(typeof(*p));

	if (!p)
		return 0;
	p->addr = ctx->mark;
	bpf_spin_lock(&nb_lock);
	bpf_list_push_front(&neighbours, &p->link);
	bpf_spin_unlock(&nb_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
