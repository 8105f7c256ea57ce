// A minimal TCP congestion control as a struct_ops map (a plain
// ".struct_ops" section, which libbpf 1.1 and cilium/ebpf 0.22 read differently).
#include "common.h"

SEC("struct_ops")
void BPF_PROG(bl_init, struct sock *sk)
{
}

SEC("struct_ops")
u32 BPF_PROG(bl_ssthresh, struct sock *sk)
{
	const struct tcp_sock *tp = (struct tcp_sock *)sk;

	return tp->snd_cwnd > 4 ? tp->snd_cwnd / 2 : 2;
}

SEC("struct_ops")
void BPF_PROG(bl_cong_avoid, struct sock *sk, u32 ack, u32 acked)
{
}

SEC("struct_ops")
u32 BPF_PROG(bl_undo_cwnd, struct sock *sk)
{
	return ((struct tcp_sock *)sk)->snd_cwnd;
}

SEC(".struct_ops")
struct tcp_congestion_ops bpf_lsp_cc = {
	.init = (void *)bl_init,
	.ssthresh = (void *)bl_ssthresh,
	.cong_avoid = (void *)bl_cong_avoid,
	.undo_cwnd = (void *)bl_undo_cwnd,
	.name = "bpf_lsp_cc",
};
