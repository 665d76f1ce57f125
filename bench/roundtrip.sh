#!/bin/sh
# bench/roundtrip.sh: one model round trip, loopgate against `codex exec`
# on the same fake server (bench/roundtrip.py says how). `make bench` runs
# it; BENCH_ROUNDTRIP=0 skips it, BENCH_RT_REPEATS (7) runs a side.
# codex is the pinned one tools/npm-clis.sh installs into build/npm (what
# `./bootstrap test` does), or CODEX_BIN, or the first on PATH; without one
# the figure is not measured and says how to get it.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LOOPGATE=${LOOPGATE_BIN:-$ROOT/loopgate}
REPEATS=${BENCH_RT_REPEATS:-7}
case $REPEATS in '' | *[!0-9]*) echo "bench: BENCH_RT_REPEATS must be a number" >&2; exit 1 ;; esac
[ "$REPEATS" -ge 1 ] || { echo "bench: BENCH_RT_REPEATS must be at least 1" >&2; exit 1; }
CODEX=${CODEX_BIN:-}
[ -n "$CODEX" ] || { [ -x "$ROOT/build/npm/node_modules/.bin/codex" ] &&
	CODEX=$ROOT/build/npm/node_modules/.bin/codex; }
[ -n "$CODEX" ] || CODEX=$(command -v codex 2>/dev/null) || CODEX=
if [ -z "$CODEX" ]; then
	echo "verdict: one round trip at least 10x faster than codex exec: NOT MEASURED" \
		"(no codex: sh tools/npm-clis.sh installs the pinned one into build/npm)"
	exit 0
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-rt.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 130' INT TERM
. "$BENCH_DIR/env.sh"
python3 "$BENCH_DIR/roundtrip.py" "$LOOPGATE" "$CODEX" "$ROOT/tests/fake/fake_agent_api.py" \
	"$W" "$REPEATS"
