// kernel: accept
// A program written in inline assembly: bpf-lsp cannot check it from C and
// says so (an info finding) instead of staying silent.
#include "bpf_lsp.h"

SEC("tc")
__attribute__((naked)) int pass(void) // want "BL003 pass is written in inline assembly"
{
	asm volatile("r0 = 0;"
		     "exit;" ::: "memory");
}

char _license[] SEC("license") = "GPL";
