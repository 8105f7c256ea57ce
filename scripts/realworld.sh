#!/usr/bin/env bash
# Real-world corpus: the kernel's own BPF programs (Debian's linux-source-6.12:
# the BPF selftests and sched_ext), compiled and loaded as their Makefiles do,
# then checked with bpf-lsp as a user would. Fetches the source package once
# into the cache, builds bpf-lsp from this checkout and runs the harness
# (scripts/realworld), which prints the table, writes out/realworld.json and fails
# on a regression against testdata/realworld-baseline.json.
#
# Extra arguments go to the harness, e.g. --update-baseline or
# --files 'rbtree*,scx_*'. BPF_LSP_REALWORLD_CACHE overrides the cache dir.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=linux-source-6.12
cache="${BPF_LSP_REALWORLD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bpf-lsp/realworld}"
src="$cache/$pkg"
mkdir -p "$cache"

# Without the tools (or a way to fetch the sources) there is nothing to
# measure: say so, and fail only where capabilities are required (CI).
missing=()
for tool in clang-19 bpftool python3 xz go /usr/bin/time; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ! -f "$src/.extracted" ] && ! command -v apt-get >/dev/null 2>&1; then
	missing+=(apt-get)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "realworld: skipped, missing ${missing[*]} (scripts/install-deps.sh installs them as root)" >&2
	[ "${BPF_LSP_REQUIRE_KERNEL:-}" = 1 ] && exit 1
	exit 0
fi

# What the builds read: the selftests and sched_ext with their headers,
# libbpf's headers, the uapi headers and the generator of bpf_helper_defs.h.
members=(
	tools/testing/selftests/bpf
	tools/sched_ext
	tools/lib/bpf
	tools/include
	tools/arch/x86/include
	tools/scripts
	include/uapi
	scripts/bpf_doc.py
)

if [ ! -f "$src/.extracted" ]; then
	tarball="$cache/$pkg.tar.xz"
	if [ ! -f "$tarball" ]; then
		deb=$(ls "$cache"/${pkg}_*_all.deb 2>/dev/null | head -n1 || true)
		if [ -z "$deb" ]; then
			echo "realworld: downloading $pkg with apt-get download into $cache"
			(cd "$cache" && { apt-get download "$pkg" 2>/dev/null || { apt-get update -qq && apt-get download "$pkg"; }; })
			deb=$(ls "$cache"/${pkg}_*_all.deb | head -n1)
		fi
		echo "realworld: unpacking $(basename "$deb")"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$pkg.tar.xz" >"$tarball.tmp"
		mv "$tarball.tmp" "$tarball"
	fi
	echo "realworld: extracting ${members[*]}"
	rm -rf "$src"
	tar -xJf "$tarball" -C "$cache" "${members[@]/#/$pkg/}"
	touch "$src/.extracted"
fi

# Binaries per checkout (out/ is ignored): runs from two worktrees share the
# cache but must not run each other's build.
bin="$PWD/out/realworld-bin"
mkdir -p "$bin"
go build -o "$bin/bpf-lsp" ./cmd/bpf-lsp
go build -o "$bin/realworld" ./scripts/realworld
exec nice -n "${BPF_LSP_REALWORLD_NICE:-10}" "$bin/realworld" \
	--source "$src" --cache "$cache" --bpf-lsp "$bin/bpf-lsp" \
	--repo . --baseline testdata/realworld-baseline.json --json out/realworld.json "$@"
