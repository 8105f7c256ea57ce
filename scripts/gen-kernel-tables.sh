#!/usr/bin/env bash
# Regenerates kernels/available.txt (which kfuncs and helpers each
# catalogued kernel has) from the kernels' own BTF. Needs apt-get and
# dpkg-deb (to fetch the pinned images) and zstd/lz4/xz/gzip (to unpack
# them). Run after editing kernels/catalogue.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${BPF_LSP_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpf-lsp/kernels}"
go run ./kernels/internal/gentables "$cache" kernels/available.txt
