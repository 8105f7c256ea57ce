// kernel: reject
// Two allocations with goto-based error handling; the label order is wrong
// so the first object leaks when the second allocation fails.
#include "bpf_lsp.h"

struct req {
	struct bpf_list_node link;
	__u32 id;
};

private(Q) struct bpf_spin_lock q_lock;
private(Q) struct bpf_list_head pending __contains(req, link);
private(Q) struct bpf_list_head spare __contains(req, link);

SEC("tc")
int submit(struct __sk_buff *ctx)
{
	struct req *r, *s;
	int ret = -1;

	r = bpf_obj_new(typeof(*r));
	if (!r)
		goto out;
	s = bpf_obj_new(typeof(*s));
	if (!s)
		goto out;
	r->id = ctx->mark;
	s->id = 0;
	bpf_spin_lock(&q_lock);
	bpf_list_push_back(&pending, &r->link);
	bpf_list_push_back(&spare, &s->link);
	bpf_spin_unlock(&q_lock);
	ret = 0;
out:
	return ret; // want "BL210 .*bpf_obj_new" verifier "Unreleased reference id=\\d+ alloc_insn=\\d+"
}

char _license[] SEC("license") = "GPL";
