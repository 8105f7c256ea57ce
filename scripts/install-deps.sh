#!/usr/bin/env bash
# Installs what the tests need when it is missing: clang-19 (compiles test
# programs for the kernel cross-check), bpftool (generates vmlinux.h from the
# kernel's BTF), libbpf-dev (<bpf/bpf_helpers.h>), clangd-19 (the LSP
# benchmark's baseline), qemu-system-x86 (boots other kernels for
# verify --kernels). Without root or apt-get it only reports what is
# missing; the tests that need a tool then skip and say which.
set -euo pipefail

need=()
command -v clang-19 >/dev/null 2>&1 || need+=(clang-19)
command -v bpftool >/dev/null 2>&1 || need+=(bpftool)
[ -f /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
command -v clangd-19 >/dev/null 2>&1 || need+=(clangd-19)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
else
	echo "install-deps: missing ${need[*]} (run as root with apt-get to install); tests needing them will skip" >&2
fi
