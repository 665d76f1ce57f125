#!/bin/sh
# Gate rounds: the result cache (an unchanged tree is not judged again) and
# flake confirmation (a gate that flips on one tree is never convergence).
. "$(dirname "$0")/lib.sh"

# count_runs FILE: how many times a gate appended to FILE
count_runs() { if [ -f "$1" ]; then wc -l <"$1" | tr -d " "; else echo 0; fi; }

test_expect_success 'an iteration that changes nothing does not re-run the gates' '
	make_repo noop &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir noop --goal g \
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
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir back --goal g \
		--gate "echo run >>$TRASH/back.runs; sh test.sh" \
		--agent-cmd "$TRASH/back.agent" --max-iterations 2 --json >back.sum 2>err &&
	test "$(count_runs back.runs)" = 2 &&
	run_dir=$(summary_field back.sum run_dir) &&
	grep "\"kind\":\"gate_cached\"" "$run_dir/events.jsonl" | grep -q "baseline/gate-1.out"
'

# write_flaky_gate: $TRASH/flaky-gate.sh, a gate that passes every other run
# (it counts its runs in $TRASH/flaky.count).
write_flaky_gate() {
	cat >"$TRASH/flaky-gate.sh" <<-SH &&
	#!/bin/sh
	n=\$(cat $TRASH/flaky.count 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >$TRASH/flaky.count
	echo "run \$n"; [ \$((n % 2)) -eq 0 ]
	SH
	chmod +x "$TRASH/flaky-gate.sh"
}

test_expect_success 'a gate that passes every other run is flaky, never converged' '
	make_repo flaky &&
	write_flaky_gate &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir flaky --goal g --gate "$TRASH/flaky-gate.sh" \
		--agent-cmd "echo x >>calc.py" --confirm 2 --max-iterations 3 --json >flaky.sum 2>err &&
	test "$(summary_field flaky.sum status)" = integrity_violation &&
	summary_field flaky.sum reason | grep -q "is flaky" &&
	run_dir=$(summary_field flaky.sum run_dir) &&
	grep -q "\"kind\":\"flaky\"" "$run_dir/events.jsonl" &&
	grep -q "is flaky" "$run_dir/handoff.md" &&
	test -f "$run_dir/iter-001/confirm-1/gate-1.out"
'

# Without --confirm the worker's pass is still a claim: the re-verification
# in a clean checkout (docs/design/reverify.md) runs the gate again, and an
# alternating gate fails there.
test_expect_success 'without --confirm the re-verification still runs the gate again' '
	make_repo once && rm -f flaky.count && write_flaky_gate &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir once --goal g --gate "$TRASH/flaky-gate.sh" \
		--agent-cmd "echo x >>calc.py" --max-iterations 3 --json >once.sum 2>err &&
	test "$(summary_field once.sum status)" != converged &&
	run_dir=$(summary_field once.sum run_dir) &&
	grep "\"kind\":\"reverify_end\"" "$run_dir/events.jsonl" | grep -q "\"passed\":false"
'

test_expect_success 'a steady gate survives confirmation' '
	make_repo steady &&
	expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir steady --goal g \
		--gate "echo run >>$TRASH/steady.runs; sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --confirm 2 --json >steady.sum 2>err &&
	test "$(summary_field steady.sum status)" = converged &&
	# baseline, the round, 2 confirmations; then the same 1 + 2 in a clean
	# checkout of the commit (the re-verification)
	test "$(count_runs steady.runs)" = 7
'

# check.sh [ID...]: a TAP-speaking gate for calc.py; with arguments it is
# the focus run and logs them (to a fixed path: gates get no extra variables).
write_check() {
	printf '#!/bin/sh\n[ $# -gt 0 ] && echo "focus: $*" >>%s/focus.log\n' "$TRASH" >"$1/check.sh"
	cat >>"$1/check.sh" <<-\SH
	echo "1..1"
	if [ "$(python3 -B -c "import calc; print(calc.add(2, 3))")" = 5 ]; then
		echo "ok 1 - test_add"
	else
		echo "not ok 1 - test_add"; exit 1
	fi
	SH
}

test_expect_success 'a failing focus run decides the round; a passing one hands over to the full gate' '
	make_repo foc && write_check foc &&
	printf "gates:\n  - run: sh check.sh\n    focus: sh check.sh {failed}\n" >foc/loopgate.yaml &&
	git -C foc add -A && git -C foc commit -qm gate &&
	cat >foc.agent <<-\SH &&
	#!/bin/sh
	if [ "$LOOPGATE_ITERATION" = 1 ]; then echo "# not yet" >>calc.py
	else sed -i "s/a - b/a + b/" calc.py; fi
	SH
	chmod +x foc.agent &&
	expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir foc --goal g \
		--agent-cmd "$TRASH/foc.agent" --json >foc.sum 2>err &&
	test "$(grep -c "focus: test_add" focus.log)" = 2 &&
	run_dir=$(summary_field foc.sum run_dir) &&
	test -f "$run_dir/iter-001/gate-1.focus.out" && test ! -e "$run_dir/iter-001/gate-1.out" &&
	test -f "$run_dir/iter-002/gate-1.focus.out" && test -f "$run_dir/iter-002/gate-1.out" &&
	grep -q "\"focus\":true" "$run_dir/events.jsonl"
'

test_expect_success 'a gate has its own timeout' '
	make_repo pto &&
	printf "gates:\n  - run: echo started; sleep 30\n    timeout: 1s\n" >pto/loopgate.yaml &&
	git -C pto add -A && git -C pto commit -qm gate &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir pto --goal g --agent-cmd true \
		--max-iterations 1 --gate-timeout 10m --json >pto.sum 2>err &&
	grep -q "timed out after 1.0s" "$(summary_field pto.sum run_dir)/handoff.md"
'

test_expect_success 'JUnit reports count for the floor: a skip they show is caught' '
	make_repo ju &&
	cat >ju/junit.sh <<-\SH &&
	#!/bin/sh
	mkdir -p reports
	skipped=$(cat skip.txt 2>/dev/null | wc -l)
	if [ "$(python3 -B -c "import calc; print(calc.add(2, 3))")" = 5 ]; then fail=0; else fail=1; fi
	printf "<testsuite name=\"calc\" tests=\"2\" failures=\"%s\" errors=\"0\" skipped=\"%s\"></testsuite>\n" $fail $skipped >reports/TEST-calc.xml
	echo "ran the calc suite"
	exit $fail
	SH
	printf "gates:\n  - run: sh junit.sh\n    junit: reports/TEST-*.xml\n" >ju/loopgate.yaml &&
	git -C ju add -A && git -C ju commit -qm gate &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir ju --goal g \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py; echo test_zero >skip.txt" \
		--json >ju.sum 2>err &&
	test "$(summary_field ju.sum status)" = integrity_violation &&
	summary_field ju.sum reason | grep -q "1 skipped"
'

# What a gate creates in the tree is the gate's, not the actor's change: it
# never lands in the next commit (the scan after each round puts it in the
# run's excludes file), while the files a model's edit blocks create do.
test_expect_success 'a model run: files the gates create stay out of the commits, the model'"'"'s new files go in' '
	make_repo art &&
	python3 -c "
import json, sys
r = lambda n: {\"content\": \"<<<<<<< FILE notes%d.txt\\nnote %d\\n>>>>>>> END\\n\" % (n, n)}
json.dump({\"replies\": [r(1), r(2), r(3)]}, open(\"art.json\", \"w\"))
" &&
	url=$(start_fake art art.json) &&
	expect_code 1 $LOOPGATE run --dir art --goal "fix add" --model openai/m \
		--base-url "$url" --gate "echo made >gate-made-\$(date +%N).txt; sh test.sh" \
		--max-iterations 3 --stall-after 100 --json >art.sum 2>art.err &&
	test "$(summary_field art.sum iterations)" = 3 &&
	br=$(summary_field art.sum branch) &&
	git -C art log --name-only --format= "main..$br" >committed.txt &&
	grep -qx notes1.txt committed.txt && grep -qx notes2.txt committed.txt &&
	grep -qx notes3.txt committed.txt &&
	! grep -q gate-made committed.txt &&
	d=$(summary_field art.sum run_dir) &&
	test "$(grep -c "^/gate-made-" "$d/gate-artifacts.exclude")" = 4
'

test_done
