#!/bin/sh
# Ctrl-C (SIGINT) mid-gate: the gate's process group is killed, the state
# recorded, a handoff written, exit 1.
. "$(dirname "$0")/lib.sh"

test_expect_success 'SIGINT while a gate runs' '
	make_repo repo &&
	replies_json "$REPLY_FIX" >s.json &&
	url=$(start_fake sig s.json) &&
	gate="sh test.sh || exit 1; echo \$\$ >$TRASH/gate.pid; sleep 300 & echo \$! >$TRASH/sleep.pid; wait" &&
	set +e
	$LOOPGATE run --dir repo --goal g --gate "$gate" --model openai/m \
		--base-url "$url" --json >sum.json 2>err &
	lg=$!
	i=0
	while [ ! -s sleep.pid ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done
	kill -INT $lg
	wait $lg
	rc=$?
	set -e
	test -s sleep.pid &&
	test $rc = 1 &&
	test "$(summary_field sum.json status)" = interrupted &&
	run_dir=$(summary_field sum.json run_dir) &&
	test -f "$run_dir/handoff.md" &&
	grep -q interrupted "$run_dir/handoff.md" &&
	proc_dead "$(cat sleep.pid)" &&
	proc_dead "$(cat gate.pid)" &&
	tail -n 1 "$run_dir/events.jsonl" | grep -q "\"kind\":\"run_end\""
'

test_done
