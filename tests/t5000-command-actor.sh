#!/bin/sh
# The command-actor protocol of PRODUCT.md, and what it may not see.
. "$(dirname "$0")/lib.sh"

# An agent that records what it was given and fixes calc.py on its second turn.
cat >"$TRASH/agent.sh" <<'SH'
#!/bin/sh
log=$AGENT_LOG/iter-$LOOPGATE_ITERATION
mkdir -p "$log"
cat >"$log/stdin"
pwd >"$log/cwd"
env >"$log/env"
cp "$LOOPGATE_PROMPT_FILE" "$log/prompt-file"
cp "$LOOPGATE_GATE_OUTPUT_FILE" "$log/gate-output"
if [ "$LOOPGATE_ITERATION" = 1 ]; then
	sed -i 's/a - b/a * b/' calc.py
else
	sed -i 's/a \* b/a + b/' calc.py
fi
echo "agent turn $LOOPGATE_ITERATION done"
SH
chmod +x "$TRASH/agent.sh"

# Made once (lib.sh use_setup) for the cases that look at it, by whichever runs first.
agent_run() {
	make_repo repo &&
	mkdir -p agentlog &&
	printf "agent_env:\n  - AGENT_LOG\n" >repo/loopgate.yaml &&
	git -C repo add loopgate.yaml && git -C repo commit -qm cfg &&
	AGENT_LOG=$TRASH/agentlog OPENAI_API_KEY=sk-never-leak-1 ANTHROPIC_API_KEY=sk-never-leak-2 \
		expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir repo --goal "fix add" --gate "env >>$TRASH/gate-env; sh test.sh" \
		--agent-cmd "$TRASH/agent.sh" --json >s.json 2>err
}

test_expect_success 'converges through the command actor' '
	use_setup agent agent_run &&
	test "$(summary_field s.json status)" = converged &&
	test "$(summary_field s.json iterations)" = 2
'

test_expect_success 'prompt on stdin and in LOOPGATE_PROMPT_FILE, identical' '
	use_setup agent agent_run &&
	cmp agentlog/iter-1/stdin agentlog/iter-1/prompt-file &&
	grep -q "fix add" agentlog/iter-1/stdin &&
	grep -q "sh test.sh" agentlog/iter-1/stdin
'

test_expect_success 'the protocol variables are set; cwd is the run tree' '
	use_setup agent agent_run &&
	run_id=$(summary_field s.json run_id) &&
	run_dir=$(summary_field s.json run_dir) &&
	grep -qx "LOOPGATE_ITERATION=1" agentlog/iter-1/env &&
	grep -qx "LOOPGATE_ITERATION=2" agentlog/iter-2/env &&
	grep -qx "LOOPGATE_RUN_ID=$run_id" agentlog/iter-1/env &&
	test "$(cat agentlog/iter-1/cwd)" = "$(cd "$run_dir/tree" && pwd -P)"
'

test_expect_success 'LOOPGATE_GATE_OUTPUT_FILE holds the previous gate output' '
	use_setup agent agent_run &&
	run_dir=$(summary_field s.json run_dir) &&
	cmp agentlog/iter-1/gate-output "$run_dir/baseline/gate-1.out" &&
	cmp agentlog/iter-2/gate-output "$run_dir/iter-001/gate-1.out" &&
	grep -q "returned 6, expected 5" agentlog/iter-2/gate-output
'

test_expect_success 'API keys reach neither the agent nor the gate unless named' '
	use_setup agent agent_run &&
	! grep -q "sk-never-leak" agentlog/iter-1/env &&
	! grep -q "sk-never-leak" gate-env &&
	grep -q "AGENT_LOG=" agentlog/iter-1/env &&
	! grep -q "AGENT_LOG=" gate-env
'

test_expect_success 'the actor output and exit status are recorded' '
	use_setup agent agent_run &&
	run_dir=$(summary_field s.json run_dir) &&
	grep -q "agent turn 1 done" "$run_dir/iter-001/actor.out" &&
	grep -q "\"kind\":\"actor_end\"" "$run_dir/events.jsonl"
'

test_expect_success 'an agent that changes nothing is a no-op iteration' '
	make_repo idle &&
	expect_code 1 $LOOPGATE run --stall-after 100 --dir idle --goal g --gate "sh test.sh" \
		--agent-cmd "true" --max-iterations 2 --json >i.json 2>err &&
	test "$(summary_field i.json status)" = budget_exhausted &&
	grep -q "\"noop\":true" "$(summary_field i.json run_dir)/events.jsonl"
'

test_expect_success 'files the agent staged itself are still listed as changed' '
	cat >stager.sh <<-\SH &&
	#!/bin/sh
	if [ "$LOOPGATE_ITERATION" = 1 ]; then
		echo "# turn one" >>notes.txt
	else
		sed -i "s/a - b/a + b/" calc.py && git add calc.py
		echo new >added.txt
	fi
	SH
	chmod +x stager.sh &&
	make_repo st &&
	expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir st --goal g --gate "sh test.sh" \
		--agent-cmd "$TRASH/stager.sh" --json >st.json 2>err &&
	python3 -c "
import json,sys
ev=[json.loads(l) for l in open(sys.argv[1]+\"/events.jsonl\")]
c=[e[\"body\"] for e in ev if e[\"kind\"]==\"commit\"]
assert c[0][\"files\"]==[\"notes.txt\"], c
assert sorted(c[1][\"files\"])==[\"added.txt\",\"calc.py\"], c
" "$(summary_field st.json run_dir)"
'

test_done
