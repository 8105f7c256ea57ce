#ifndef __KERNEL__
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#endif
