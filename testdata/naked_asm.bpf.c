// kernel: accept
// A program in inline assembly that bpf-lsp cannot follow (its asm model
// covers map lookups, locks, calls, loads and stores on 64-bit registers):
// it says so (an info finding) instead of staying silent.
#include "bpf_lsp.h"

SEC("tc")
__attribute__((naked)) int pass(void) // want "BL003 pass is written in inline assembly that bpf-lsp cannot follow"
{
	asm volatile("w0 = 0;"
		     "exit;" ::: "memory");
}

char _license[] SEC("license") = "GPL";
