#!/bin/sh
# Runs every unit binary and end-to-end test script, each in its own process
# under a timeout, and prints the plain closing line "N passed, N failed".
# Usage: tests/run.sh [PATTERN]   (PATTERN filters test file names: t3030
# one script, t3 a family; tests/README.md)
# Needs LOOPGATE_BIN and UNIT_DIR (set by `make test`).
here=$(cd "$(dirname "$0")" && pwd)
pattern=${1:-}
timeout_s=${LOOPGATE_TEST_TIMEOUT:-300}
passed=0
failed=0
logdir=${TMPDIR:-/tmp}/loopgate-tests.$$
mkdir -p "$logdir"

count() {	# $1: log file, $2: exit status, $3: name
	# "ok N # skip": a case not selected (LOOPGATE_CASES), neither passed
	# nor failed
	p=$(grep '^ok ' "$1" | grep -vc '^ok [0-9]* # skip')
	f=$(grep -c '^not ok ' "$1")
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		# crashed, timed out, or failed outside a test case: one failure
		f=1
		echo "not ok - $3 exited with status $2" >>"$1"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $3 ($p passed, $f failed)"
		grep -v '^ok ' "$1" | tail -n 60 | sed 's/^/    /'
	else
		echo "PASS $3 ($p passed)"
	fi
}

for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	log=$logdir/$name.log
	(cd "$here" && timeout -k 5 "$timeout_s" "$t") >"$log" 2>&1
	count "$log" $? "$name"
done

for t in "$here"/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	log=$logdir/$name.log
	timeout -k 5 "$timeout_s" sh "$t" >"$log" 2>&1
	count "$log" $? "$name"
done

# The adversarial suite (tests/adversarial/run.sh) counts as one script:
# its ok / not ok lines are its cases.
case adversarial in *"$pattern"*)
	log=$logdir/adversarial.log
	timeout -k 5 "${LOOPGATE_ADV_TIMEOUT:-1800}" sh "$here/adversarial/run.sh" >"$log" 2>&1
	count "$log" $? adversarial
	grep '^# adversarial:' "$log"
	;;
esac

rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
