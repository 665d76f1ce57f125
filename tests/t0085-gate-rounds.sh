#!/bin/sh
# Gate rounds: the result cache (an unchanged tree is not judged again) and
# flake confirmation (a gate that flips on one tree is never convergence).
. "$(dirname "$0")/lib.sh"

# count_runs FILE: how many times a gate appended to FILE
count_runs() { if [ -f "$1" ]; then wc -l <"$1" | tr -d " "; else echo 0; fi; }

test_expect_success 'an iteration that changes nothing does not re-run the gates' '
	make_repo noop &&
	expect_code 1 $LOOPGATE run --dir noop --goal g \
		--gate "echo run >>$TRASH/noop.runs; sh test.sh" \
		--agent-cmd true --max-iterations 3 --stall-after 10 --json >noop.sum 2>err &&
	test "$(count_runs noop.runs)" = 1 &&
	run_dir=$(summary_field noop.sum run_dir) &&
	test "$(grep -c "\"kind\":\"gate_cached\"" "$run_dir/events.jsonl")" = 3 &&
	test "$(grep -c "\"noop\":true" "$run_dir/events.jsonl")" -ge 3
'

test_expect_success 'a tree that returns to a judged state is not judged again' '
	make_repo back &&
	cat >back.agent <<-\SH &&
	#!/bin/sh
	if [ "$LOOPGATE_ITERATION" = 1 ]; then echo "# note" >>calc.py
	else sed -i "/# note/d" calc.py; fi
	SH
	chmod +x back.agent &&
	expect_code 1 $LOOPGATE run --dir back --goal g \
		--gate "echo run >>$TRASH/back.runs; sh test.sh" \
		--agent-cmd "$TRASH/back.agent" --max-iterations 2 --json >back.sum 2>err &&
	test "$(count_runs back.runs)" = 2 &&
	run_dir=$(summary_field back.sum run_dir) &&
	grep "\"kind\":\"gate_cached\"" "$run_dir/events.jsonl" | grep -q "baseline/gate-1.out"
'

test_expect_success 'a gate that passes every other run is flaky, never converged' '
	make_repo flaky &&
	cat >flaky-gate.sh <<-SH &&
	#!/bin/sh
	n=\$(cat $TRASH/flaky.count 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >$TRASH/flaky.count
	echo "run \$n"; [ \$((n % 2)) -eq 0 ]
	SH
	chmod +x flaky-gate.sh &&
	expect_code 1 $LOOPGATE run --dir flaky --goal g --gate "$TRASH/flaky-gate.sh" \
		--agent-cmd "echo x >>calc.py" --confirm 2 --max-iterations 3 --json >flaky.sum 2>err &&
	test "$(summary_field flaky.sum status)" = integrity_violation &&
	summary_field flaky.sum reason | grep -q "is flaky" &&
	run_dir=$(summary_field flaky.sum run_dir) &&
	grep -q "\"kind\":\"flaky\"" "$run_dir/events.jsonl" &&
	grep -q "is flaky" "$run_dir/handoff.md" &&
	test -f "$run_dir/iter-001/confirm-1/gate-1.out"
'

test_expect_success 'without --confirm the same gate would have been taken at its word' '
	make_repo once && rm -f flaky.count &&
	expect_code 0 $LOOPGATE run --dir once --goal g --gate "$TRASH/flaky-gate.sh" \
		--agent-cmd "echo x >>calc.py" --max-iterations 3 --json >once.sum 2>err &&
	test "$(summary_field once.sum status)" = converged
'

test_expect_success 'a steady gate survives confirmation' '
	make_repo steady &&
	expect_code 0 $LOOPGATE run --dir steady --goal g \
		--gate "echo run >>$TRASH/steady.runs; sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --confirm 2 --json >steady.sum 2>err &&
	test "$(summary_field steady.sum status)" = converged &&
	test "$(count_runs steady.runs)" = 4
'

test_done
