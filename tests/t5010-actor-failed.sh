#!/bin/sh
# Actor failures told plainly: the exit status and last lines on the
# console and in handoff.md, the hosts the sandbox refused, K failed turns
# in a row ending the run as actor_failed with advice matching the cause,
# and no "all passed" for gates that did not run.
. "$(dirname "$0")/lib.sh"

# The failing run that cases 1-3 look at, made once (lib.sh use_setup).
nf_run() {
	make_repo nf &&
	expect_code 1 $LOOPGATE run --dir nf --goal "fix add" --gate "sh test.sh" \
		--agent-cmd "no-such-agent-cli --go" --max-iterations 10 --json >nf.json 2>nf.err
}

test_expect_success 'an agent command that is not found: actor_failed, exit 1' '
	use_setup nf nf_run &&
	test "$(summary_field nf.json status)" = actor_failed &&
	test "$(summary_field nf.json exit_code)" = 1 &&
	summary_field nf.json reason >reason &&
	grep -q "failed [23] turn(s) in a row" reason &&
	grep -q "not found (exit 127): check the command and PATH" reason
'

test_expect_success 'the console shows the exit status and the last lines each turn' '
	use_setup nf nf_run &&
	test "$(grep -c "the agent command failed: exit 127; its last lines:" nf.err)" -ge 2 &&
	grep -q "no-such-agent-cli: not found" nf.err &&
	grep -q "loopgate: actor_failed:" nf.err
'

test_expect_success 'handoff.md: the actor section with the exit status and last lines' '
	use_setup nf nf_run &&
	h="$(summary_field nf.json run_dir)/handoff.md" &&
	grep -q "^## Actor" "$h" &&
	grep -q "the agent command failed: exit 127" "$h" &&
	grep -q "no-such-agent-cli: not found" "$h" &&
	! grep -q "all passed" "$h"
'

test_expect_success '--max-actor-failures K (and max_actor_failures:); a round cut short is "gates not run"' '
	make_repo k &&
	expect_code 1 $LOOPGATE run --dir k --goal g --gate "sh test.sh" \
		--agent-cmd "exit 3" --max-actor-failures 1 --json >k.json 2>err &&
	test "$(summary_field k.json status)" = actor_failed &&
	test "$(summary_field k.json iterations)" = 1 &&
	grep -q "ended with exit 3 each time" "$(summary_field k.json run_dir)/handoff.md" &&
	grep -q "| 1 | (none) | exit 3 | 0/0 | gates not run |" "$(summary_field k.json run_dir)/handoff.md" &&
	! grep -q "all passed" "$(summary_field k.json run_dir)/handoff.md" &&
	$LOOPGATE show "$(summary_field k.json run_id)" --dir k >show &&
	grep -q "(gates not run)" show && ! grep -q "all passed" show &&
	printf "max_actor_failures: 2\n" >k/loopgate.yaml &&
	git -C k add loopgate.yaml && git -C k commit -qm cfg &&
	expect_code 1 $LOOPGATE run --dir k --goal g --gate "sh test.sh" \
		--agent-cmd "exit 3" --json >k2.json 2>err &&
	test "$(summary_field k2.json iterations)" = 2
'

test_expect_success 'a failing agent that still changes files is judged, not stopped' '
	make_repo ch &&
	expect_code 1 $LOOPGATE run --dir ch --goal g --gate "sh test.sh" \
		--agent-cmd "echo x >>notes.txt; exit 1" --max-iterations 4 \
		--stall-after 10 --json >ch.json 2>err &&
	test "$(summary_field ch.json status)" = budget_exhausted
'

test_expect_success 'a denied network request names the host, on the console and in handoff.md' '
	make_repo net &&
	printf "policy:\n  network: [\"allowed.invalid\"]\n" >net/loopgate.yaml &&
	git -C net add loopgate.yaml && git -C net commit -qm net &&
	expect_code 1 $LOOPGATE run --dir net --goal g --gate "sh test.sh" \
		--agent-cmd "curl -fsS --max-time 5 http://denied.invalid:8080/v1 || exit 7" \
		--json >net.json 2>net.err &&
	test "$(summary_field net.json status)" = actor_failed &&
	grep -q "refused the agent network access to denied.invalid:8080" net.err &&
	summary_field net.json reason >nreason &&
	grep -q "network access to denied.invalid:8080" nreason &&
	grep -q "network: \[HOST\]" nreason &&
	grep -q "denied.invalid:8080" "$(summary_field net.json run_dir)/handoff.md" &&
	grep -q "\"network_denied\":\"denied.invalid:8080\"" "$(summary_field net.json run_dir)/events.jsonl"
'

test_done
