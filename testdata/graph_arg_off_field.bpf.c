// kernel: reject
// The kernel finds a graph call's root and node by their offset in the
// allocation: a pointer moved off the field, or an object whose type has
// no node, is refused before any lock or ownership check.
#include "bpf_lsp.h"

struct order {
	__u32 qty;
	struct bpf_rb_node rb;
	__u64 price;
};

struct note {
	__u64 text;
};

private(B) struct bpf_spin_lock book_lock;
private(B) struct bpf_rb_root book __contains(order, rb);

static bool cheaper(struct bpf_rb_node *a, const struct bpf_rb_node *b)
{
	struct order *x = container_of(a, struct order, rb);
	struct order *y = container_of(b, struct order, rb);

	return x->price < y->price;
}

SEC("tc")
int root_moved(struct __sk_buff *ctx)
{
	struct order *o = bpf_obj_new(typeof(*o));

	if (!o)
		return 0;
	bpf_spin_lock(&book_lock);
	bpf_rbtree_add((void *)&book + 8, &o->rb, cheaper); // want "BL218 .*'\\(void \\*\\)&book \\+ 8' is at offset" verifier "bpf_rb_root not found at offset=16"
	bpf_spin_unlock(&book_lock);
	return 0;
}

SEC("tc")
int node_moved(struct __sk_buff *ctx)
{
	struct order *o = bpf_obj_new(typeof(*o));

	if (!o)
		return 0;
	bpf_spin_lock(&book_lock);
	bpf_rbtree_add(&book, (void *)&o->rb + 4, cheaper); // want "BL218 .*is at offset 12 of struct order" verifier "bpf_rb_node not found at offset=12"
	bpf_spin_unlock(&book_lock);
	return 0;
}

SEC("tc")
int no_node(struct __sk_buff *ctx)
{
	void *n = bpf_obj_new(struct note);

	if (!n)
		return 0;
	bpf_spin_lock(&book_lock);
	bpf_rbtree_add(&book, n, cheaper); // want "BL218 .*'n' points into struct note, which has none" verifier "bpf_rb_node not found at offset=0"
	bpf_spin_unlock(&book_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
