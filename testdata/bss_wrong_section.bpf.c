// kernel: reject
// Two .bss.NAME sections are two maps: the lock of one does not guard the
// list of the other, even though both are zero-initialised globals.
#include "bpf_lsp.h"

struct item {
	struct bpf_list_node link;
	__u64 value;
};

private_bss(rx) struct bpf_spin_lock rx_lock;
private_bss(rx) struct bpf_list_head rx_q __contains(item, link);
private_bss(tx) struct bpf_spin_lock tx_lock;
private_bss(tx) struct bpf_list_head tx_q __contains(item, link);

SEC("tc")
int forward(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	it->value = ctx->len;
	bpf_spin_lock(&rx_lock);
	bpf_list_push_back(&tx_q, &it->link); // want "BL202 .*tx_q.*tx_lock.*rx_lock" verifier "held lock and object are not in the same allocation"
	bpf_spin_unlock(&rx_lock);
	return 0;
}

SEC("tc")
int receive(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	bpf_spin_lock(&rx_lock);
	bpf_list_push_back(&rx_q, &it->link);
	bpf_spin_unlock(&rx_lock);
	return 0;
}

char _license[] SEC("license") = "GPL";
