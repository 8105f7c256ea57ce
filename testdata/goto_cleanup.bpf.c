// kernel: accept
// goto-based cleanup: every exit path goes through the unlock.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private(Q) struct bpf_spin_lock qlock;
private(Q) struct bpf_list_head queue __contains(item, link);
private(Q) __u64 queued __guarded_by(qlock);

SEC("tc")
int enqueue(struct __sk_buff *ctx)
{
	struct item *it;
	int ret = 0;

	it = bpf_obj_new(typeof(*it));
	if (!it)
		return 0;
	it->value = ctx->len;
	bpf_spin_lock(&qlock);
	if (queued >= 64) {
		ret = 1;
		goto out_unlock;
	}
	bpf_list_push_back(&queue, &it->link);
	it = NULL;
	queued++;
out_unlock:
	bpf_spin_unlock(&qlock);
	if (it)
		bpf_obj_drop(it);
	return ret;
}

char _license[] SEC("license") = "GPL";
