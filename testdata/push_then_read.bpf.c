// kernel: reject
// After bpf_list_push_back the list owns the node: the program's pointer is
// a non-owning reference that dies at the unlock.
#include "bpf_lsp.h"

struct conn {
	struct bpf_list_node link;
	__u32 port;
};

private(C) struct bpf_spin_lock conn_lock;
private(C) struct bpf_list_head conns __contains(conn, link);

SEC("tc")
int track(struct __sk_buff *ctx)
{
	struct conn *c = bpf_obj_new(typeof(*c));

	if (!c)
		return 0;
	c->port = ctx->mark & 0xffff;
	bpf_spin_lock(&conn_lock);
	bpf_list_push_back(&conns, &c->link);
	bpf_spin_unlock(&conn_lock);
	return c->port; // want "BL209 .*'c'" verifier "R\\d+ invalid mem access 'scalar'"
}

char _license[] SEC("license") = "GPL";
