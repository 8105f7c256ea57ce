#!/usr/bin/env bash
# Helix under tmux: demo.bpf.c (language bpf-c) shows bpf-lsp's diagnostic;
# loader.c (plain c) shows clangd's and no bpf-lsp one.
# Usage: helix_test.sh HX WORKDIR (BPF_LSP, CLANGD and BPF_LSP_EDITORS set).
set -euo pipefail
hx=$1 w=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$w/config/helix/runtime" "$w/ws"
cp "$here/testdata/demo.bpf.c" "$here/testdata/loader.c" "$w/ws/"
printf -- '-I%s\n' "$here/../testdata/include" > "$w/ws/compile_flags.txt"
sed -e "s|command = \"bpf-lsp\"|command = \"$BPF_LSP\"|" "$here/helix/languages.toml" > "$w/config/helix/languages.toml"
printf '[language-server.clangd]\ncommand = "%s"\n' "$CLANGD" >> "$w/config/helix/languages.toml"
cp -r "$here/helix/queries" "$w/config/helix/runtime/"
session=bpflsp-hx-$$
trap 'tmux kill-session -t $session 2>/dev/null || true' EXIT
cd "$w/ws"
tmux new-session -d -s "$session" -x 160 -y 40 "XDG_CONFIG_HOME=$w/config $hx demo.bpf.c"
wait_for() { # pattern: poll the screen for 30 s
	for _ in $(seq 1 150); do
		tmux capture-pane -p -t "$session" | grep -q -- "$1" && return 0
		sleep 0.2
	done
	echo "FAIL: no '$1' on screen:"; tmux capture-pane -p -t "$session"; return 1
}
wait_for "requires holding 'glock'"
echo "DIAG $(tmux capture-pane -p -t "$session" | grep -o "bpf_rbtree_add on 'groot' requires holding 'glock'")"
tmux send-keys -t "$session" ':open loader.c' Enter
wait_for "Use of undeclared identifier 'undeclared_counter'"
sleep 3 # bpf-lsp, were it attached, would report the missing glibc header
if tmux capture-pane -p -t "$session" | grep -q "cannot find <\|● [2-9]"; then
	echo "FAIL: a bpf-lsp diagnostic on loader.c"; tmux capture-pane -p -t "$session"; exit 1
fi
echo "LOADER clangd only"
echo OK
