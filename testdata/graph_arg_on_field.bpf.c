// kernel: accept
// The twin of graph_arg_off_field: root and node arguments at their
// fields, one of them reached with pointer arithmetic that lands on it.
#include "bpf_lsp.h"

struct order {
	__u32 qty;
	struct bpf_rb_node rb;
	__u64 price;
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
int add_two(struct __sk_buff *ctx)
{
	struct order *o = bpf_obj_new(typeof(*o));
	struct order *p;

	if (!o)
		return 0;
	p = bpf_obj_new(typeof(*p));
	if (!p) {
		bpf_obj_drop(o);
		return 0;
	}
	o->price = ctx->len;
	bpf_spin_lock(&book_lock);
	bpf_rbtree_add(&book, &o->rb, cheaper);
	/* price follows the 32-byte node: 32 bytes back is the node. */
	bpf_rbtree_add(&book, (void *)&p->price - sizeof(struct bpf_rb_node), cheaper);
	bpf_spin_unlock(&book_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
