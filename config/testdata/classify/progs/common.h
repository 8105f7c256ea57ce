/* A project header that brings libbpf's BPF side to its includers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
