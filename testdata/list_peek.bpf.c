// kernel: accept
// bpf_list_front and bpf_list_back peek at the ends of a list without
// taking the node out (6.16+): the results are non-owning references, so
// every field is read before the unlock.
#include "bpf_lsp.h"

struct sample {
	struct bpf_list_node link;
	__u64 ts;
};

private(win) struct bpf_spin_lock win_lock;
private(win) struct bpf_list_head window __contains(sample, link);

SEC("tc")
int record(struct __sk_buff *ctx)
{
	struct sample *s = bpf_obj_new(typeof(*s));

	if (!s)
		return 0;
	s->ts = bpf_ktime_get_ns();
	bpf_spin_lock(&win_lock);
	bpf_list_push_back(&window, &s->link);
	bpf_spin_unlock(&win_lock);
	return 0;
}

SEC("tc")
int span(struct __sk_buff *ctx)
{
	struct bpf_list_node *first, *last;
	__u64 oldest = 0, newest = 0;

	bpf_spin_lock(&win_lock);
	first = bpf_list_front(&window);
	last = bpf_list_back(&window);
	if (first)
		oldest = container_of(first, struct sample, link)->ts;
	if (last)
		newest = container_of(last, struct sample, link)->ts;
	bpf_spin_unlock(&win_lock);
	return newest - oldest;
}

char _license[] SEC("license") = "GPL";
