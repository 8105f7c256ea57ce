#!/usr/bin/env bash
# Editor tests: Neovim (headless), Emacs + eglot (batch, both ways of
# bpf-lsp.el) and VS Code (code-server 4.100.3 in headless Chromium)
# against the real server.
# Installs what it needs when missing (apt packages as root, npm packages
# pinned), builds the server, runs each test with a time limit, and ends
# with "N passed, N failed, N skipped" (an editor that is missing and
# cannot be installed, without root, is skipped with the reason).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache="$here/.cache"
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
skipped=0

need_apt=()
command -v nvim >/dev/null || need_apt+=(neovim)
command -v emacs >/dev/null || need_apt+=(emacs-nox)
ls /usr/share/emacs/site-lisp/elpa-src 2>/dev/null | grep -q "^eglot" || need_apt+=(elpa-eglot)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
command -v curl >/dev/null || need_apt+=(curl)
command -v clangd-19 >/dev/null || command -v clangd >/dev/null || need_apt+=(clangd-19)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "editors: installing ${need_apt[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
	else
		echo "editors: missing ${need_apt[*]} (run as root to install)"
	fi
fi

echo "editors: building bpf-lsp"
(cd "$repo" && go build -o "$work/bpf-lsp" ./cmd/bpf-lsp) || { echo "0 passed, 1 failed"; exit 1; }
export BPF_LSP="$work/bpf-lsp" BPF_LSP_EDITORS="$here"
# clangd serves every C buffer beside bpf-lsp, as in a user's setup; the
# tests check it keeps doing so and that bpf-lsp stays off user-space files.
export CLANGD=$(command -v clangd-19 || command -v clangd || true)

skip() { # name reason: the capability is really absent (and could not be installed)
	echo "--- SKIP: editor $1 ($2)"
	skipped=$((skipped + 1))
}

result() { # name rc
	if [ "$2" -eq 0 ]; then
		echo "--- PASS: editor $1"
		passed=$((passed + 1))
	else
		echo "--- FAIL: editor $1"
		failed=$((failed + 1))
	fi
}

# Neovim.
if command -v nvim >/dev/null; then
	(
		export XDG_CONFIG_HOME=$work/nv/c XDG_DATA_HOME=$work/nv/d XDG_STATE_HOME=$work/nv/s XDG_CACHE_HOME=$work/nv/k
		cd "$here/testdata" && timeout 120 nvim --headless -n -i NONE -u ../tests/nvim_init.lua demo.bpf.c +'luafile ../tests/nvim_test.lua'
	)
	result "neovim $(nvim --version | head -1)" $?
	(
		export XDG_CONFIG_HOME=$work/nv/c XDG_DATA_HOME=$work/nv/d XDG_STATE_HOME=$work/nv/s XDG_CACHE_HOME=$work/nv/k
		cd "$here/testdata" && BPF_LSP=$work/no-such-bpf-lsp timeout 60 nvim --headless -n -i NONE -u ../tests/nvim_init.lua +'luafile ../tests/nvim_missing_test.lua'
	)
	result "neovim without the binary" $?
else
	skip neovim "nvim not installed: apt-get install neovim"
fi

# Neovim 0.11+ (vim.lsp.config/enable with lsp/bpf_lsp.lua): Debian 12 has
# only 0.7, so this runs when NVIM011 names a newer binary (for example one
# unpacked from Debian sid's .deb, see /work/shared/notes/editors.md).
if [ -n "${NVIM011:-}" ]; then
	(
		export XDG_CONFIG_HOME=$work/nv11/c XDG_DATA_HOME=$work/nv11/d XDG_STATE_HOME=$work/nv11/s XDG_CACHE_HOME=$work/nv11/k
		cd "$here/testdata" &&
			timeout 120 "$NVIM011" --headless -n -i NONE -u ../tests/nvim011_init.lua demo.bpf.c +'luafile ../tests/nvim_test.lua' &&
			BPF_LSP=$work/no-such-bpf-lsp timeout 60 "$NVIM011" --headless -n -i NONE -u ../tests/nvim011_init.lua +'luafile ../tests/nvim_missing_test.lua'
	)
	result "neovim $("$NVIM011" --version | head -1) (lsp/ config)" $?
else
	skip "neovim 0.11+" "NVIM011 is not set to a Neovim 0.11+ binary (Debian 12 ships 0.7)"
fi

# Helix (not packaged for Debian 12): when HX names a helix binary.
if [ -n "${HX:-}" ] && command -v tmux >/dev/null; then
	timeout 120 bash "$here/tests/helix_test.sh" "$HX" "$work/hx"
	result "helix $("$HX" --version)" $?
else
	skip helix "HX is not set to a helix binary, or tmux is missing (Debian 12 has no helix)"
fi

# Emacs + eglot.
if command -v emacs >/dev/null; then
	(cd "$here/tests" && HOME=$work/emacs-home timeout 120 emacs --batch -l emacs_test.el 2>&1 | grep -v '^Loading')
	result "emacs $(emacs --version | head -1 | cut -d' ' -f3) + eglot (clangd) + bpf-lsp Flymake backend" "${PIPESTATUS[0]}"
	(cd "$here/tests" && HOME=$work/emacs-home timeout 120 emacs --batch -l emacs_eglot_test.el 2>&1 | grep -v '^Loading')
	result "emacs $(emacs --version | head -1 | cut -d' ' -f3) + eglot running bpf-lsp (hover, quick fix)" "${PIPESTATUS[0]}"
else
	skip emacs "emacs not installed: apt-get install emacs-nox elpa-eglot"
fi

# VS Code: package the extension, install it into code-server, drive it.
vscode_test() {
	set -e
	local platform
	case $(uname -m) in
	x86_64) platform=linux-x64 ;;
	aarch64) platform=linux-arm64 ;;
	*) echo "vscode: no platform package for $(uname -m)"; return 1 ;;
	esac
	# The platform package ships the server: the test must not find another.
	(cd "$here/vscode" && npm ci --no-audit --no-fund >/dev/null && npm run -s build >/dev/null &&
		sh package-platforms.sh "$platform" </dev/null >/dev/null)
	echo "vscode: packaged $(ls "$here/vscode"/bpf-lsp-$platform.vsix)"
	(cd "$here/tests" && npm ci --no-audit --no-fund >/dev/null)
	bash "$here/tests/install-code-server.sh" "$cache/code-server"
	local cs="node $cache/code-server/node_modules/code-server/out/node/entry.js"
	local d=$work/cs
	mkdir -p "$d/ws/progs" "$d/user/User" "$d/ext" "$repo/out"
	cp "$here/testdata/demo.bpf.c" "$here/testdata/loader.c" "$d/ws/"
	cp "$here/testdata/demo.bpf.c" "$d/ws/progs/demo.c" # a BPF program only by its text
	printf -- '-I%s\n' "$repo/testdata/include" > "$d/ws/compile_flags.txt"
	cat > "$d/user/User/settings.json" <<JSON
{"workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "extensions.autoCheckUpdates": false,
 "extensions.autoUpdate": false, "workbench.enableExperiments": false, "update.mode": "none",
 "security.workspace.trust.enabled": false, "workbench.tips.enabled": false}
JSON
	export XDG_CONFIG_HOME=$d/xdgconfig XDG_DATA_HOME=$d/xdgdata
	local path_without="" dir
	local IFS=:
	for dir in $PATH; do [ -x "$dir/bpf-lsp" ] || path_without="$path_without${path_without:+:}$dir"; done
	unset IFS
	export PATH=$path_without
	! command -v bpf-lsp >/dev/null || { echo "vscode: bpf-lsp is still on PATH"; return 1; }
	$cs --extensions-dir "$d/ext" --user-data-dir "$d/user" --install-extension "$here/vscode/bpf-lsp-$platform.vsix"
	local port=$((20000 + RANDOM % 20000))
	setsid $cs --bind-addr "127.0.0.1:$port" --auth none --disable-telemetry --disable-update-check \
		--disable-workspace-trust --extensions-dir "$d/ext" --user-data-dir "$d/user" "$d/ws" >"$d/cs.log" 2>&1 </dev/null &
	local pgid=$!
	trap "kill -- -$pgid 2>/dev/null" RETURN
	for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
	timeout 240 node "$here/tests/vscode_test.js" "http://127.0.0.1:$port/?folder=$d/ws" "$repo/out"
}
if command -v node >/dev/null && command -v chromium >/dev/null; then
	(vscode_test)
	result "vscode (code-server 4.100.3, platform .vsix, no bpf-lsp on PATH)" $?
else
	skip vscode "node or chromium not installed: apt-get install chromium"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
