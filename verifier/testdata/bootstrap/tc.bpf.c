// A tc classifier that parses Ethernet and IPv4 headers with bounds checks.
#include "common.h"

#define ETH_P_IP 0x0800
#define TC_ACT_OK 0

SEC("tc")
int tc_ingress(struct __sk_buff *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	bpf_printk("ipv4 ttl=%d", ip->ttl);
	return TC_ACT_OK;
}
