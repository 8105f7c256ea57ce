#!/bin/sh
# Packages one .vsix per platform with the server inside (bin/bpf-lsp),
# cross-compiled without cgo: bpf-lsp-linux-x64.vsix, bpf-lsp-linux-arm64.vsix.
# Run from editors/vscode after `npm run build` (npm run package:platforms);
# arguments choose platforms (default: both).
set -eu
repo=$(cd ../.. && pwd)
[ $# -gt 0 ] || set -- linux-x64 linux-arm64
for platform in "$@"; do
	case $platform in
	linux-x64) goarch=amd64 ;;
	linux-arm64) goarch=arm64 ;;
	*) echo "package-platforms: unknown platform $platform (linux-x64, linux-arm64)" >&2; exit 2 ;;
	esac
	rm -rf bin && mkdir bin
	(cd "$repo" && CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -trimpath -o editors/vscode/bin/bpf-lsp ./cmd/bpf-lsp)
	npx --no-install vsce package --no-dependencies --allow-missing-repository --target "$platform" -o "bpf-lsp-$platform.vsix" </dev/null
done
rm -rf bin
