#!/bin/sh
# The adversarial suite: each tests/adversarial/cNN-*.sh is an attack run as
# a real process (a gate command or a command-actor script) by `loopgate
# run` in a throwaway repository, and asserts that the attack was blocked
# or detected, and audited (the attempt is in events.jsonl and `loopgate
# audit verify` passes).  Each case runs in its own directory under a
# timeout.  Prints TAP lines (counted by tests/run.sh) and a closing
# "adversarial: N cases, P blocked or detected, F failed".
#
# A case whose file has a line "# NEEDS-SANDBOX" is not run (and fails) when
# loopgate has no sandbox: outside one it would harm the machine.
#
# Usage: tests/adversarial/run.sh [PATTERN]     LOOPGATE_BIN: the binary
#        ADV_TIMEOUT: seconds per case (default 120); LOOPGATE_KEEP=1 keeps
#        the scratch directories.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/lib.sh"
pattern=${1:-}
per_case=${ADV_TIMEOUT:-120}
n=0 passed=0 failed=0

for c in "$here"/c[0-9]*.sh; do
	name=$(basename "$c" .sh)
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	n=$((n + 1))
	desc=$(sed -n 's/^# CASE: //p' "$c" | head -n 1)
	dir=$TRASH/$name
	mkdir -p "$dir"
	start=$(date +%s)
	# Each case runs traced (set -x into case.log): on a failure the last
	# lines shown name the check that failed.
	# Cases that would harm the machine outside a sandbox (a fork bomb,
	# kill -1) are not run by a loopgate without one: they fail instead.
	if grep -q '^# NEEDS-SANDBOX' "$c" && ! adv_sandboxed; then
		failed=$((failed + 1))
		echo "not ok $n - $name: $desc (not run: this loopgate has no sandbox)"
		continue
	fi
	(cd "$dir" && export CASE_DIR="$dir" && timeout -k 5 "$per_case" \
		sh -c '. "$1/../lib.sh"; TEST_DIR=$(cd "$1/.." && pwd)
			FAKE=$TEST_DIR/fake/fake_model.py; export TEST_DIR FAKE
			. "$1/lib.sh"; set -ex; . "$2"' sh "$here" "$c") \
		>"$dir/case.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	if [ -s "$dir/outside.path" ] && [ "${LOOPGATE_KEEP:-0}" != 1 ]; then
		rm -rf "$(cat "$dir/outside.path")"
	fi
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $name: $desc (${secs}s)"
	else
		failed=$((failed + 1))
		[ $rc -eq 124 ] && echo "# timed out after ${per_case}s" >>"$dir/case.log"
		echo "not ok $n - $name: $desc (exit $rc, ${secs}s)"
		tail -n 30 "$dir/case.log" | awk '{ print "#   " $0 }'
	fi
done
echo "1..$n"
echo "# adversarial: $n cases, $passed blocked or detected, $failed failed"
[ "$failed" -eq 0 ] && [ "$n" -gt 0 ]
