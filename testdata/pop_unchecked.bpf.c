// kernel: reject
// bpf_list_pop_back returns NULL on an empty list: the result is used
// before the check.
#include "bpf_lsp.h"

struct tok {
	struct bpf_list_node link;
	__u32 weight;
};

private(B) struct bpf_spin_lock bucket_lock;
private(B) struct bpf_list_head tokens __contains(tok, link);

SEC("tc")
int spend(struct __sk_buff *ctx)
{
	struct bpf_list_node *l;
	struct tok *t;
	__u32 w;

	bpf_spin_lock(&bucket_lock);
	l = bpf_list_pop_back(&tokens);
	bpf_spin_unlock(&bucket_lock);
	t = container_of(l, struct tok, link);
	w = t->weight; // want "BL211 .*bpf_list_pop_back"
	bpf_obj_drop(t);
	return w; // verifier "invalid mem access 'ptr_or_null_'" (clang moves the load next to the return)
}

SEC("tc")
int refill(struct __sk_buff *ctx)
{
	struct tok *t = bpf_obj_new(typeof(*t));

	if (!t)
		return 0;
	t->weight = ctx->len;
	bpf_spin_lock(&bucket_lock);
	bpf_list_push_back(&tokens, &t->link);
	bpf_spin_unlock(&bucket_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
