// An editor test fixture: a user-space loader beside the BPF program.
// bpf-lsp must not attach to it; clangd must (it reports the undeclared
// identifier below).
#include <stdio.h>

int main(void)
{
	printf("%d\n", undeclared_counter);
	return 0;
}
