// kernel: accept
// Objects kept in a local array: each element is allocated and checked
// through the array, all of them go into the tree under the lock, and the
// error path drops the ones that were allocated.
#include "bpf_lsp.h"

struct item {
	struct bpf_rb_node node;
	__u64 key;
};

private(T) struct bpf_spin_lock t_lock;
private(T) struct bpf_rb_root t_root __contains(item, node);

static bool item_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct item, node)->key < container_of(b, struct item, node)->key;
}

SEC("tc")
int fill(struct __sk_buff *ctx)
{
	struct item *items[3] = {NULL, NULL, NULL};
	int i;

	for (i = 0; i < 3; i++) {
		items[i] = bpf_obj_new(typeof(*items[i]));
		if (!items[i])
			goto err;
		items[i]->key = ctx->len + i;
	}
	bpf_spin_lock(&t_lock);
	for (i = 0; i < 3; i++)
		bpf_rbtree_add(&t_root, &items[i]->node, item_less);
	bpf_spin_unlock(&t_lock);
	return 0;
err:
	for (i = 0; i < 3; i++)
		if (items[i])
			bpf_obj_drop(items[i]);
	return 1;
}

char _license[] SEC("license") = "GPL";
