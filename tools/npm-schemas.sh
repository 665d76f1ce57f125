#!/bin/sh
# tools/npm-schemas.sh [DIR]: installs the Kubernetes OpenAPI schema
# validators the Kueue tests check every manifest with (tests/t8010) into
# DIR (default build/npm-schemas), with npm, unless that version is there.
# Pinned: a schema that moves under the tests would make them flaky.
# Exit 0 installed (or already there), 1 failed, 77 npm is not available.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../build/npm-schemas}
pkg=kubernetes-models
ver=5.1.0
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	echo "npm-schemas: npm or node is not available" >&2
	exit 77
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
have=$(node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
	"$dir/node_modules/$pkg/package.json" 2>/dev/null || true)
[ "$have" = "$ver" ] && exit 0
echo "npm-schemas: installing $pkg@$ver into $dir" >&2
HOME=${HOME:-/root} npm install --prefix "$dir" --cache "$dir/cache" --no-audit \
	--no-fund --no-save --loglevel=error "$pkg@$ver" >&2
