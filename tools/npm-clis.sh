#!/bin/sh
# tools/npm-clis.sh [DIR]: installs the agent CLIs of tools/agent-clis.txt at
# their pinned versions into DIR (default build/npm), with npm, unless each
# one already answers --version there.  The package cache is DIR/cache, so a
# second install (the test under /tmp) can be made --offline from it.
# Exit 0 installed (or already there), 1 failed, 77 npm is not available.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../build/npm}
list=$here/agent-clis.txt
if ! command -v npm >/dev/null 2>&1; then
	echo "npm-clis: npm is not available" >&2
	exit 77
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pkgs=
ok=1
while read -r bin pkg ver; do
	case $bin in '#'* | '') continue ;; esac
	pkgs="$pkgs $pkg@$ver"
	have=$("$dir/node_modules/.bin/$bin" --version 2>/dev/null || true)
	case $have in *"$ver"*) ;; *) ok=0 ;; esac
done <"$list"
[ $ok = 1 ] && exit 0
echo "npm-clis: installing$pkgs into $dir" >&2
# shellcheck disable=SC2086
HOME=${HOME:-/root} npm install --prefix "$dir" --cache "$dir/cache" --no-audit \
	--no-fund --no-save --loglevel=error $pkgs >&2
