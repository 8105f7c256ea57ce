// kernel: accept
// A pointer that is NULL on one path and allocated on the other is one
// object that may be NULL: released where it is not NULL, no leak.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private(L) struct bpf_spin_lock lock;
private(L) struct bpf_list_head head __contains(item, link);

SEC("tc")
int maybe(struct __sk_buff *ctx)
{
	struct item *it = NULL;

	if (ctx->len > 100)
		it = bpf_obj_new(typeof(*it));
	if (it) {
		bpf_spin_lock(&lock);
		bpf_list_push_back(&head, &it->link);
		bpf_spin_unlock(&lock);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
