#!/bin/sh
# Ctrl-C (SIGINT) mid-gate: the gate's process group is killed, the state
# recorded, a handoff written, exit 1.
. "$(dirname "$0")/lib.sh"

test_expect_success 'SIGINT while a gate runs (sandboxed: pids are the namespace'"'"'s)' '
	make_repo repo &&
	reply_script fix >s.json &&
	url=$(start_fake sig s.json) &&
	mark=300.$$ &&
	gate="sh test.sh || exit 1; echo \$\$ >$TRASH/gate.pid; sleep $mark & echo \$! >$TRASH/sleep.pid; wait" &&
	set +e
	$LOOPGATE run $TRASH_WRITABLE --dir repo --goal g --gate "$gate" --model openai/m \
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
	! pgrep -f "sleep $mark" &&
	tail -n 1 "$run_dir/events.jsonl" | grep -q "\"kind\":\"run_end\""
'

test_expect_success 'SIGINT while a gate runs, --no-sandbox' '
	make_repo nrepo &&
	reply_script fix >s.json &&
	url=$(start_fake nsig s.json) &&
	gate="sh test.sh || exit 1; echo \$\$ >$TRASH/ngate.pid; sleep 300 & echo \$! >$TRASH/nsleep.pid; wait" &&
	set +e
	$LOOPGATE run --no-sandbox --dir nrepo --goal g --gate "$gate" --model openai/m \
		--base-url "$url" --json >nsum.json 2>nerr &
	lg=$!
	i=0
	while [ ! -s nsleep.pid ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done
	kill -INT $lg
	wait $lg
	rc=$?
	set -e
	test -s nsleep.pid &&
	test $rc = 1 &&
	test "$(summary_field nsum.json status)" = interrupted &&
	run_dir=$(summary_field nsum.json run_dir) &&
	test -f "$run_dir/handoff.md" &&
	grep -q interrupted "$run_dir/handoff.md" &&
	proc_dead "$(cat nsleep.pid)" &&
	proc_dead "$(cat ngate.pid)" &&
	tail -n 1 "$run_dir/events.jsonl" | grep -q "\"kind\":\"run_end\""
'

test_done
