// kernel: reject
// bpf_obj_drop frees memory: not allowed while the lock is held. Keep the
// popped node and drop it after the unlock.
#include "bpf_lsp.h"

struct req {
	struct bpf_list_node link;
	__u32 id;
};

private(R) struct bpf_spin_lock req_lock;
private(R) struct bpf_list_head reqs __contains(req, link);

SEC("tc")
int submit(struct __sk_buff *ctx)
{
	struct req *r = bpf_obj_new(typeof(*r));

	if (!r)
		return 0;
	r->id = ctx->mark;
	bpf_spin_lock(&req_lock);
	bpf_list_push_back(&reqs, &r->link);
	bpf_spin_unlock(&req_lock);
	return 0;
}

SEC("tc")
int retire(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;
	__u32 id = 0;

	bpf_spin_lock(&req_lock);
	l = bpf_list_pop_front(&reqs);
	if (l) {
		id = container_of(l, struct req, link)->id;
		bpf_obj_drop(container_of(l, struct req, link)); // want "BL207 bpf_obj_drop.*req_lock" verifier "function calls are not allowed while holding a lock"
	}
	bpf_spin_unlock(&req_lock);
	return id;
}

char _license[] SEC("license") = "GPL";
