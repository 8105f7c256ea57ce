// kernel: reject
// A list head without __contains: the kernel cannot know what it holds.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private(L) struct bpf_spin_lock lock;
private(L) struct bpf_list_head head; // want "BL105 bpf_list_head 'head' has no __contains"

SEC("tc")
int push(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	bpf_spin_lock(&lock); // verifier "map '.data.L' has no valid bpf_spin_lock"
	bpf_list_push_back(&head, &it->link);
	bpf_spin_unlock(&lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
