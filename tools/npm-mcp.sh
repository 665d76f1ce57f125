#!/bin/sh
# tools/npm-mcp.sh [DIR]: installs the MCP servers the tests drive (a real
# peer written by nobody here) at pinned versions into DIR (default
# build/npm-mcp), with npm, unless already there.  Exit 0 installed (or
# already there), 1 failed, 77 npm is not available.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../build/npm-mcp}
pkg=@modelcontextprotocol/server-filesystem
ver=2026.8.31
if ! command -v npm >/dev/null 2>&1; then
	echo "npm-mcp: npm is not available" >&2
	exit 77
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/node_modules/$pkg/package.json" ] &&
	grep -q "\"version\": \"$ver\"" "$dir/node_modules/$pkg/package.json"; then
	exit 0
fi
echo "npm-mcp: installing $pkg@$ver into $dir" >&2
HOME=${HOME:-/root} npm install --prefix "$dir" --cache "$dir/cache" --no-audit \
	--no-fund --no-save --loglevel=error "$pkg@$ver" >&2
