#!/bin/sh
# loopgate resume with a command actor: SIGKILL before, during and after the
# agent's turn; the resumed run rolls back, runs the agent again and ends as
# an uninterrupted run does.  Also: the deadline across a crash.
. "$(dirname "$0")/lib.sh"

# The agent: iteration 1 writes a wrong fix, iteration 2 the right one.
# On its Nth turn (never with 0) it first writes half a change, marks that
# it started and waits for a release file (bounded).

# agent_reset [N]: writes the case's $TRASH/agent.sh, holding on turn N.
agent_reset() {
	rm -f "$TRASH/agent.count" "$TRASH/agent.marker" "$TRASH/agent.release"
	echo "${1:-0}" >"$TRASH/agent.hold"
	cat >"$TRASH/agent.sh" <<-EOF
	n=\$(cat "$TRASH/agent.count" 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >"$TRASH/agent.count"
	if [ "\$n" = "\$(cat "$TRASH/agent.hold")" ]; then
		echo "half a change" >>calc.py
		echo junk >new-file.txt
		echo \$\$ >"$TRASH/agent.marker"
		i=0; while [ ! -f "$TRASH/agent.release" ] && [ \$i -lt 600 ]; do i=\$((i + 1)); sleep 0.1; done
		exit 0
	fi
	if [ "\$LOOPGATE_ITERATION" = 1 ]; then op='*'; else op='+'; fi
	printf 'def add(a, b):\n    return a %s b\n' "\$op" >calc.py
	EOF
}

lg_exec() {
	exec $LOOPGATE run --dir "$1" --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/agent.sh" $TRASH_WRITABLE --json
}

lg_cmd() {
	$LOOPGATE run --dir "$1" --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/agent.sh" $TRASH_WRITABLE --json
}

check_same() {
	id=$(summary_field resumed.json run_id)
	test "$(summary_field resumed.json status)" = converged
	test "$(summary_field resumed.json iterations)" = 2
	test "$(summary_field resumed.json resumed)" -ge 1
	test "$(git -C "$1" rev-parse "loopgate/$id^{tree}")" = "$(cat "$(shared_setup refc refc_run)/refc.tree")"
	test "$(git -C "$1" log --format=%s "loopgate/$id" | grep -c '^loopgate: iteration')" = 2
	$LOOPGATE audit verify "$id" --dir "$1"
}

# The uninterrupted run every resumed one is compared with (made once:
# lib.sh shared_setup).
refc_run() {
	agent_reset 0 &&
	make_repo refc &&
	(lg_exec refc) >refc.json &&
	git -C refc rev-parse "loopgate/$(summary_field refc.json run_id)^{tree}" >refc.tree
}

test_expect_success 'the uninterrupted command-actor run (reference)' '
	use_setup refc refc_run &&
	test "$(summary_field refc.json status)" = converged &&
	test "$(summary_field refc.json iterations)" = 2 &&
	test "$(git -C refc rev-parse "loopgate/$(summary_field refc.json run_id)^{tree}")" = "$(cat refc.tree)"
'

for point in actor_start@1 actor_end@1 commit@1 actor_start@2 actor_end@2; do
	test_expect_success "command actor: SIGKILL after $point, then resume" "
		agent_reset 0 &&
		make_repo c-$point &&
		( LOOPGATE_FAULT=kill:event.$point; export LOOPGATE_FAULT; expect_code 137 lg_cmd c-$point ) >/dev/null 2>&1 &&
		$LOOPGATE resume \$(ls c-$point/.loopgate/runs) --dir c-$point --json >resumed.json &&
		check_same c-$point
	"
done

test_expect_success 'command actor: SIGKILL mid-turn (half a change made): rolled back, run again' '
	agent_reset 1 &&
	make_repo mid &&
	{ lg_exec mid >/dev/null 2>mid.err & } &&
	lg=$! &&
	i=0 &&
	while [ ! -s agent.marker ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done &&
	test -s agent.marker &&
	agents=$(pgrep -f "^(/bin/sh -c )?sh $TRASH/agent.sh") &&
	test -n "$agents" &&
	kill -9 $lg &&
	{ wait $lg || true; } &&
	# the sandboxed agent dies with loopgate (bwrap --die-with-parent):
	# nobody kills it here
	for p in $agents; do
		i=0 &&
		while ! proc_dead $p && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done &&
		proc_dead $p || exit 1
	done &&
	grep -q "half a change" mid/.loopgate/runs/*/tree/calc.py &&
	$LOOPGATE resume $(ls mid/.loopgate/runs) --dir mid --json >resumed.json &&
	check_same mid &&
	id=$(summary_field resumed.json run_id) &&
	! git -C mid cat-file -e "loopgate/$id:new-file.txt" 2>/dev/null &&
	test ! -e mid/.loopgate/runs/$id/tree/new-file.txt
'

# The deadline counts the time the run was alive, not the time it lay dead:
# killed after iteration 1 of a 3s run, resumed once 4s of wall time have
# passed since it started, it still converges.
test_expect_success 'the deadline counts the time alive, not the time dead' '
	agent_reset 0 &&
	make_repo dl &&
	t0=$(date +%s%N) &&
	( LOOPGATE_FAULT=kill:event.iteration_end@1; export LOOPGATE_FAULT;
	  exec $LOOPGATE run --dir dl --goal g --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/agent.sh" $TRASH_WRITABLE --deadline 3s ) >/dev/null 2>&1 || true &&
	id=$(ls dl/.loopgate/runs) &&
	ev=dl/.loopgate/runs/$id/events.jsonl &&
	grep -q "\"kind\":\"iteration_end\"" $ev &&
	# wait until the wall-clock deadline has certainly passed
	i=0 &&
	while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 4000 ] && [ $i -lt 1000 ]; do i=$((i + 1)); sleep 0.05; done &&
	$LOOPGATE resume "$id" --dir dl --json >resumed.json &&
	test "$(summary_field resumed.json status)" = converged &&
	python3 - "$ev" <<-\PY
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	b = [r["body"] for r in recs if r["kind"] == "budget"]
	# killed before iteration 1's budget record: iteration 2's is the one
	assert len(b) == 1 and 0 < b[0]["ms_left"] <= 3000, b
	PY
'

test_expect_success 'a resumed run that halts says so in handoff.md and summary.json' '
	agent_reset 0 &&
	make_repo halt &&
	( LOOPGATE_FAULT=kill:event.iteration_start@1; export LOOPGATE_FAULT;
	  exec $LOOPGATE run --dir halt --goal g --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/agent.sh" $TRASH_WRITABLE --max-iterations 1 ) >/dev/null 2>&1 || true &&
	id=$(ls halt/.loopgate/runs) &&
	expect_code 1 $LOOPGATE resume "$id" --dir halt --json >resumed.json &&
	test "$(summary_field resumed.json status)" = budget_exhausted &&
	test "$(summary_field resumed.json iterations)" = 1 &&
	test "$(summary_field resumed.json resumed)" = 1 &&
	test "$(json_get halt/.loopgate/runs/$id/summary.json "d[\"resumed\"]")" = 1 &&
	grep -q "Resumed.*1 time" halt/.loopgate/runs/$id/handoff.md
'

test_expect_success 'a tampered log is not resumed: exit 3, the bad line named' '
	agent_reset 0 &&
	make_repo tamper &&
	( LOOPGATE_FAULT=kill:event.commit@1; export LOOPGATE_FAULT;
	  exec $LOOPGATE run --dir tamper --goal g --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/agent.sh" $TRASH_WRITABLE ) >/dev/null 2>&1 || true &&
	id=$(ls tamper/.loopgate/runs) &&
	ev=tamper/.loopgate/runs/$id/events.jsonl &&
	sed -i "3s/\"kind\"/\"kinD\"/" $ev &&
	cp $ev before &&
	expect_code 3 $LOOPGATE resume "$id" --dir tamper 2>err &&
	grep -q "fails verification at line 3" err &&
	cmp before $ev
'

test_expect_success 'a run whose logged config lost a secret is not resumed (exit 2)' '
	agent_reset 0 &&
	make_repo secret &&
	( LG_SECRET=pasted-secret-value; export LG_SECRET;
	  LOOPGATE_FAULT=kill:event.iteration_start@1; export LOOPGATE_FAULT;
	  exec $LOOPGATE run --dir secret --goal g --gate "sh test.sh" \
		--agent-env LG_SECRET --agent-cmd "sh $TRASH/agent.sh pasted-secret-value" ) >/dev/null 2>&1 || true &&
	id=$(ls secret/.loopgate/runs) &&
	! grep -q pasted-secret-value secret/.loopgate/runs/$id/events.jsonl &&
	LG_SECRET=pasted-secret-value expect_code 2 $LOOPGATE resume "$id" --dir secret 2>err &&
	grep -q "secret redacted from agent_cmd" err
'

test_done
