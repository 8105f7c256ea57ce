/* Shared by both sides: each has its marks under an #if. */
#ifdef __bpf__
#include <bpf/bpf_helpers.h>
#else
#include <stdio.h>
#endif
