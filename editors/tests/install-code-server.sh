#!/usr/bin/env bash
# Installs code-server 4.100.3 (the last release for node 20) into $1 without
# network downloads beyond the npm registry: its postinstall fetches ripgrep
# from GitHub, so it is replayed by hand with Debian's ripgrep.
set -euo pipefail
dest=$1
if [ -x "$dest/node_modules/.bin/code-server" ] && [ -f "$dest/.complete" ]; then
	exit 0
fi
mkdir -p "$dest"
cd "$dest"
export npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false npm_config_audit=false
[ -f package.json ] || echo '{"name":"code-server-host","private":true}' > package.json
npm install --ignore-scripts --no-save code-server@4.100.3 >/dev/null
npm rebuild argon2 >/dev/null 2>&1 || true
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm rebuild >/dev/null 2>&1 || true
[ -e node_modules.asar ] || ln -s node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev >/dev/null)
cd "$dest"
touch .complete
