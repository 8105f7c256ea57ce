// kernel: accept
// The corrected root_without_contains and contains_wrong_node: each root
// names its element type and the node member of the matching kind. One
// refcounted item sits in the list and in the tree at once.
#include "bpf_lsp.h"

struct item {
	struct bpf_rb_node rb;
	struct bpf_list_node link;
	struct bpf_refcount ref;
	__u64 value;
};

private(L) struct bpf_spin_lock lock;
private(L) struct bpf_list_head head __contains(item, link);
private(L) struct bpf_rb_root by_value __contains(item, rb);

static bool value_less(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	return container_of(a, struct item, rb)->value < container_of(b, struct item, rb)->value;
}

SEC("tc")
int push(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));
	struct item *alias;

	if (!it)
		return 0;
	it->value = ctx->len;
	alias = bpf_refcount_acquire(it);
	bpf_spin_lock(&lock);
	bpf_list_push_back(&head, &it->link);
	if (alias)
		bpf_rbtree_add(&by_value, &alias->rb, value_less);
	bpf_spin_unlock(&lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
