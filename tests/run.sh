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
# Every script's scratch directory (lib.sh's $TRASH) is made in one of this
# run's own, so that what a script killed by its timeout left behind (its
# EXIT trap does not run on SIGKILL) is found and swept after it: leftovers
# would pile up in /var/tmp, which the sandbox's socket walk reads at every
# run's start.
scratch=$(mktemp -d "${LOOPGATE_TEST_TMP:-/var/tmp}/loopgate-tests.XXXXXX") || exit 1
export LOOPGATE_TEST_TMP="$scratch"
sweep() {
	[ "${LOOPGATE_KEEP:-0}" = 1 ] && return 0
	set -- "$scratch"/*
	[ -e "$1" ] && sh "$here/sweep.sh" "$@"
	return 0
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

count() {	# $1: log file, $2: exit status, $3: name, $4: start (now_ms)
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
	ms=$(($(now_ms) - $4))
	took="$((ms / 1000)).$((ms % 1000 / 100)) s"
	if [ "$f" -ne 0 ]; then
		echo "FAIL $3 ($p passed, $f failed, $took)"
		grep -v '^ok ' "$1" | tail -n 60 | sed 's/^/    /'
	else
		echo "PASS $3 ($p passed, $took)"
	fi
}

for t in "$UNIT_DIR"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	log=$logdir/$name.log
	t0=$(now_ms)
	(cd "$here" && timeout -k 5 "$timeout_s" "$t") >"$log" 2>&1
	count "$log" $? "$name" "$t0"
	sweep
done

for t in "$here"/t[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$pattern"*) ;; *) continue ;; esac
	log=$logdir/$name.log
	t0=$(now_ms)
	timeout -k 5 "$timeout_s" sh "$t" >"$log" 2>&1
	count "$log" $? "$name" "$t0"
	sweep
done

# The adversarial suite (tests/adversarial/run.sh) counts as one script:
# its ok / not ok lines are its cases.
case adversarial in *"$pattern"*)
	log=$logdir/adversarial.log
	t0=$(now_ms)
	timeout -k 5 "${LOOPGATE_ADV_TIMEOUT:-1800}" sh "$here/adversarial/run.sh" >"$log" 2>&1
	count "$log" $? adversarial "$t0"
	sweep
	grep '^# adversarial:' "$log"
	;;
esac

rm -rf "$logdir"
[ "${LOOPGATE_KEEP:-0}" = 1 ] || rmdir "$scratch" 2>/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
