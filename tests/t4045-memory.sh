#!/bin/sh
# loopgate's own memory is set by the run's configuration, not by how long it
# runs (issue 16, docs/design/heap.md): the peak resident set (VmHWM, read at
# exit by bench/rss.py) of a run of 4N iterations stays within a fixed margin
# of the same run of N.  The margins are wide: what they catch is growth per
# iteration (before: ~25 KB per iteration from the report's records, and every
# gate output the cache had seen, up to 1 MiB each).
. "$(dirname "$0")/lib.sh"

RSS="python3 $TEST_DIR/../bench/rss.py"
# Under AddressSanitizer (make check) the heap is the sanitizer's (redzones,
# a quarantine of freed blocks): the runs still run, the margins are not
# checked.
within_3mb() {
	grep -q __asan_init "$LOOPGATE" || test $(($2 - $1)) -lt 3072
}

# hwm DIR N ARGS...: a command-actor run of N iterations in a fresh
# repository DIR (budget exhausted: exit 1); prints its VmHWM in KiB.
hwm() {
	d=$1 n=$2
	shift 2
	make_repo "$d" >/dev/null &&
		expect_code 1 timeout 120 $RSS "$d.json" -- $LOOPGATE run --dir "$d" --goal g \
			--max-iterations "$n" --stall-after 100000 "$@" >"$d.out" 2>"$d.err" &&
		python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["hwm_kb"])' "$d.json"
}

test_expect_success '400 iterations: peak within 3 MB of 100 (report at the end included)' '
	a=$(hwm r100 100 --gate false --agent-cmd true) &&
	b=$(hwm r400 400 --gate false --agent-cmd true) &&
	echo "VmHWM: 100 iterations $a KiB, 400 iterations $b KiB" &&
	grep -q "budget_exhausted" r400.err &&
	within_3mb $a $b
'

test_expect_success 'gate cache: 8 new trees of 900 KB gate output, peak within 3 MB of 2' '
	cat >big.sh <<-\EOF &&
	i=0
	while [ $i -lt 12800 ]; do
		echo "test_$i FAILED at calc.py:$i: a line of gate output to fill the cache"
		i=$((i + 1))
	done
	exit 1
	EOF
	cat >bump.sh <<-\EOF &&
	n=$(cat n 2>/dev/null || echo 0)
	echo $((n + 1)) >n
	EOF
	a=$(hwm g2 2 --gate "sh $TRASH/big.sh" --agent-cmd "sh $TRASH/bump.sh") &&
	b=$(hwm g8 8 --gate "sh $TRASH/big.sh" --agent-cmd "sh $TRASH/bump.sh") &&
	echo "VmHWM: 2 iterations $a KiB, 8 iterations $b KiB" &&
	set -- g8/.loopgate/runs/*/iter-008/gate-1.out &&
	test "$(wc -c <"$1")" -gt 850000 &&
	test "$(grep -c "\"kind\":\"gate_end\"" g8/.loopgate/runs/*/events.jsonl)" = 9 &&
	within_3mb $a $b
'

test_done
