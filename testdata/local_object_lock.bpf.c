// kernel: accept
// A lock and a list inside an object from bpf_obj_new: the lock guards the
// list of that one object. Dropping the bag frees the items still in it.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u32 v;
};

struct bag {
	struct bpf_spin_lock lock;
	struct bpf_list_head items __contains(item, link);
	__u32 count __guarded_by(lock);
};

SEC("tc")
int fill_and_free(struct __sk_buff *ctx)
{
	struct bag *b = bpf_obj_new(typeof(*b));
	struct item *it;

	if (!b)
		return 0;
	it = bpf_obj_new(typeof(*it));
	if (!it) {
		bpf_obj_drop(b);
		return 0;
	}
	it->v = ctx->len;
	bpf_spin_lock(&b->lock);
	bpf_list_push_back(&b->items, &it->link);
	b->count++;
	bpf_spin_unlock(&b->lock);
	bpf_obj_drop(b);
	return 1;
}

char _license[] SEC("license") = "GPL";
