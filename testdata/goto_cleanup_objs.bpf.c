// kernel: accept
// The corrected goto_cleanup_leak: each failure jumps to the label that
// releases exactly what was allocated so far.
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

	r = bpf_obj_new(typeof(*r));
	if (!r)
		goto err;
	s = bpf_obj_new(typeof(*s));
	if (!s)
		goto err_free_r;
	r->id = ctx->mark;
	s->id = 0;
	bpf_spin_lock(&q_lock);
	bpf_list_push_back(&pending, &r->link);
	bpf_list_push_back(&spare, &s->link);
	bpf_spin_unlock(&q_lock);
	return 0;

err_free_r:
	bpf_obj_drop(r);
err:
	return -1;
}

char _license[] SEC("license") = "GPL";
