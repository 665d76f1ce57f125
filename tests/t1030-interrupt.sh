#!/bin/sh
# Ctrl-C (SIGINT) mid-gate: the gate's process group is killed, the state
# recorded, a handoff written, exit 1.
. "$(dirname "$0")/lib.sh"

# interrupt_mid_gate P [FLAGS...]: a run (repository P-repo) whose gate
# records its pid in P-gate.pid and starts `sleep 300.$$` (its pid in
# P-sleep.pid); SIGINT once the sleep has started; then the common checks:
# exit 1, status interrupted, a handoff saying so, run_end last.  Sets
# run_dir.
interrupt_mid_gate() {
	p=$1
	shift
	make_repo "$p-repo" &&
	reply_script fix >"$p-s.json" &&
	url=$(start_fake "$p-sig" "$p-s.json") &&
	gate="sh test.sh || exit 1; echo \$\$ >$TRASH/$p-gate.pid; sleep 300.$$ & echo \$! >$TRASH/$p-sleep.pid; wait" &&
	set +e
	$LOOPGATE run "$@" --dir "$p-repo" --goal g --gate "$gate" --model openai/m \
		--base-url "$url" --json >"$p-sum.json" 2>"$p-err" &
	lg=$!
	i=0
	while [ ! -s "$p-sleep.pid" ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done
	kill -INT $lg
	wait $lg
	rc=$?
	set -e
	test -s "$p-sleep.pid" &&
	test $rc = 1 &&
	test "$(summary_field "$p-sum.json" status)" = interrupted &&
	run_dir=$(summary_field "$p-sum.json" run_dir) &&
	test -f "$run_dir/handoff.md" &&
	grep -q interrupted "$run_dir/handoff.md" &&
	tail -n 1 "$run_dir/events.jsonl" | grep -q "\"kind\":\"run_end\""
}

test_expect_success 'SIGINT while a gate runs (sandboxed: pids are the namespace'"'"'s)' '
	interrupt_mid_gate sb $TRASH_WRITABLE &&
	! pgrep -f "sleep 300.$$"
'

test_expect_success 'SIGINT while a gate runs, --no-sandbox' '
	interrupt_mid_gate nosb --no-sandbox &&
	proc_dead "$(cat nosb-sleep.pid)" &&
	proc_dead "$(cat nosb-gate.pid)"
'

test_done
