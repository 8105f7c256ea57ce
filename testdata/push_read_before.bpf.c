// kernel: accept
// The corrected push_then_read: keep what is needed from the node in a
// local before handing it to the list.
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
	__u32 port;

	if (!c)
		return 0;
	port = ctx->mark & 0xffff;
	c->port = port;
	bpf_spin_lock(&conn_lock);
	bpf_list_push_back(&conns, &c->link);
	bpf_spin_unlock(&conn_lock);
	return port;
}

char _license[] SEC("license") = "GPL";
