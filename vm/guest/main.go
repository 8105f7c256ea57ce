// Command guest is the init process of bpf-lsp's verification VMs: it
// loads the objects in the initramfs into the guest kernel's verifier and
// reports verdicts on the serial console. The host builds it with
// CGO_ENABLED=0; it is not meant to be run by hand.
package main

import "github.com/bpf-lsp/bpf-lsp/vm"

func main() { vm.GuestMain() }
