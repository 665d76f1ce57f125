#!/bin/sh
# Split work (tasks:, docs/design/fanout.md): one worker per task, each with
# its own goal and gates; each verified result merged in order; every merge
# verified again in a clean checkout against the gates of every task merged
# so far and the run's own; a merge that conflicts or breaks a gate is not
# kept, and the record says which task broke which gate.
. "$(dirname "$0")/lib.sh"

# two_repo DIR: calc.py with a wrong add() and a wrong mul(), a test per
# function, loopgate.yaml from stdin.
two_repo() {
	mkdir -p "$1" && (
		cd "$1" && git init -q -b main . &&
		printf "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n" >calc.py &&
		printf "test \"\$(python3 -B -c \"import calc; print(calc.add(2, 3))\")\" = 5 || { echo add broken; exit 1; }\n" >test_add.sh &&
		printf "test \"\$(python3 -B -c \"import calc; print(calc.mul(2, 3))\")\" = 6 || { echo mul broken; exit 1; }\n" >test_mul.sh &&
		cat >loopgate.yaml &&
		git add . && git commit -q -m initial
	)
}
# runs_diag REPO: what a failed case needs to be understood from CI's log
runs_diag() {
	echo "--- err"; tail -n 20 err; echo "--- s.json"; cat s.json; cat reason 2>/dev/null
	for d in "$1"/.loopgate/runs/*/; do
		echo "--- $d"; tail -n 6 "$d/events.jsonl" | cut -c 1-600
	done
}
# add_mul_tasks MUL-SCRIPT: tasks: add (fixed by fix-add.sh) and mul (by
# MUL-SCRIPT), each judged by its own test
add_mul_tasks() {
	cat <<-YAML
	tasks:
	  - name: add
	    goal: make add() add
	    gates: ["sh test_add.sh"]
	    agent_cmd: sh $TRASH/fix-add.sh
	  - name: mul
	    goal: make mul() multiply
	    gates: ["sh test_mul.sh"]
	    agent_cmd: sh $TRASH/$1
	YAML
}
cat >"$TRASH/fix-add.sh" <<'SH'
sed -i 's/a - b/a + b/' calc.py
SH
cat >"$TRASH/fix-mul.sh" <<'SH'
sed -i 's/return a + b$/return a * b/' calc.py
SH
# fixes mul, and breaks add() for everyone after it (its own gate passes)
cat >"$TRASH/fix-mul-badly.sh" <<'SH'
sed -i 's/return a + b$/return a * b/' calc.py
printf '\n\ndef add(a, b):\n    return 0\n' >>calc.py
SH
# fixes add on the same line the first task changes
cat >"$TRASH/fix-add-other.sh" <<'SH'
sed -i 's/a - b/b + a/' calc.py
SH

test_expect_success 'two tasks whose verified results merge cleanly: merged in order, the merge verified, converged' '
	{
		add_mul_tasks fix-mul.sh | two_repo ok &&
		expect_code 0 $LOOPGATE run --dir ok --goal "fix calc" --gate "python3 -B -c \"import calc\"" \
			--json >s.json 2>err &&
		test "$(summary_field s.json status)" = converged &&
		id=$(summary_field s.json run_id) &&
		git -C ok show "loopgate/$id:calc.py" >merged.py &&
		grep -q "return a + b" merged.py && grep -q "return a \* b" merged.py &&
		git -C ok log --format=%s "loopgate/$id" | grep -q "loopgate: task add (worker w1)" &&
		git -C ok log --format=%s "loopgate/$id" | grep -q "loopgate: task mul (worker w2)" &&
		event_bodies "ok/.loopgate/runs/$id" task_merge >m.json &&
		json_get m.json "[(x[\"task\"], x[\"merged\"]) for x in d]" >mv &&
		test "$(cat mv)" = "[('"'"'add'"'"', True), ('"'"'mul'"'"', True)]" &&
		# the second merge was judged by the run gate and both tasks gates
		grep "\"kind\":\"gate_end\"" "ok/.loopgate/runs/$id/events.jsonl" |
			grep "\"phase\":\"reverify\"" | grep -c "workers/merge-2/gate-" >n2 &&
		test "$(cat n2)" = 3 &&
		# a task worker judged its claim by its own gate only
		grep -q "sh test_add.sh" "ok/.loopgate/runs/$id-w1/events.jsonl" &&
		! grep -q "sh test_mul.sh" "ok/.loopgate/runs/$id-w1/events.jsonl"
	} || {
		echo "--- err"; tail -n 20 err; echo "--- s.json"; cat s.json; cat mv n2 2>/dev/null
		for d in ok/.loopgate/runs/*/; do
			echo "--- $d"; tail -n 4 "$d/events.jsonl" | cut -c 1-400
		done
		false
	}
'

test_expect_success 'a task whose merge breaks another task'"'"'s gate is not kept, and the record says which gate' '
	{
		add_mul_tasks fix-mul-badly.sh | two_repo br &&
		expect_code 1 $LOOPGATE run --dir br --goal "fix calc" --gate "python3 -B -c \"import calc\"" \
			--json >s.json 2>err &&
		test "$(summary_field s.json status)" = stalled &&
		summary_field s.json reason >reason &&
		grep -q "1 of 2 tasks merged" reason &&
		grep -q "mul merged after the tasks before it, it breaks the merged tree: gate 2 .sh test_add.sh. fails" reason &&
		id=$(summary_field s.json run_id) &&
		# the branch keeps the task that held, not the one that broke it
		git -C br show "loopgate/$id:calc.py" >kept.py &&
		grep -q "return a + b" kept.py && ! grep -q "return 0" kept.py &&
		grep -q "mul merged after the tasks before it" "br/.loopgate/runs/$id/handoff.md"
	} || { runs_diag br; false; }
'

test_expect_success 'two tasks that change the same line: the second conflicts, is not kept, the files are named' '
	two_repo cf <<-YAML &&
	tasks:
	  - name: add
	    goal: make add() add
	    gates: ["sh test_add.sh"]
	    agent_cmd: sh $TRASH/fix-add.sh
	  - name: add-too
	    goal: make add() add, differently
	    gates: ["sh test_add.sh"]
	    agent_cmd: sh $TRASH/fix-add-other.sh
	YAML
	{
		expect_code 1 $LOOPGATE run --dir cf --goal "fix calc" --gate "python3 -B -c \"import calc\"" \
			--json >s.json 2>err &&
		summary_field s.json reason >reason &&
		grep -q "add-too its change conflicts with the tasks merged before it in: calc.py; a worker that redid the task on the merged tree did not converge to a verified result" reason &&
		id=$(summary_field s.json run_id) &&
		test -z "$(git -C "cf/.loopgate/runs/$id/tree" status --porcelain)"
	} || { runs_diag cf; false; }
'

# adds a docstring to add(), and writes its own add() fix on the same lines
# as the first task: its first change conflicts; redone on the merged tree
# (where add() already adds) it only adds the docstring
cat >"$TRASH/doc-add.sh" <<'SH'
sed -i 's/a - b/b + a/' calc.py
grep -q 'adds' calc.py || sed -i 's/^def add(a, b):$/def add(a, b):\n    "adds"/' calc.py
SH

test_expect_success 'a merge conflict becomes a gated loop of its own: the task redone on the merged tree, verified, merged' '
	two_repo rs <<-YAML &&
	tasks:
	  - name: add
	    goal: make add() add
	    gates: ["sh test_add.sh"]
	    agent_cmd: sh $TRASH/fix-add.sh
	  - name: doc
	    goal: make add() add and document it
	    gates: ["sh test_add.sh", "grep -q adds calc.py"]
	    agent_cmd: sh $TRASH/doc-add.sh
	YAML
	expect_code 0 $LOOPGATE run --dir rs --goal "fix calc" --gate "python3 -B -c \"import calc\"" \
		--json >s.json 2>err ||
		{ cat s.json err; tail -n 20 rs/.loopgate/runs/*-w2-r/../*/workers/w2-r.log; false; } &&
	test "$(summary_field s.json status)" = converged &&
	id=$(summary_field s.json run_id) &&
	event_bodies "rs/.loopgate/runs/$id" task_merge >m.json &&
	python3 - m.json s.json <<-\PY &&
	import json, sys
	m, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
	assert [(x["task"], x["merged"]) for x in m] == [("add", True), ("doc", False), ("doc (resolution)", True)], m
	assert "conflicts with the tasks merged before it in: calc.py" in m[1]["reason"], m[1]
	w = {x["worker"]: x for x in s["workers"]}
	assert w["w2-r"]["verified"] is True and w["w2-r"]["status"] == "converged", w
	PY
	# the resolution started from the merged tree, where add() already adds
	git -C rs show "loopgate/$id:calc.py" >final.py &&
	grep -q "return a + b" final.py && grep -q "adds" final.py &&
	! grep -q "b + a" final.py &&
	grep -q "This task was done once already" "rs/.loopgate/runs/$id/workers/w2-r.json"
'

test_expect_success 'a task without gates is a configuration error' '
	two_repo bad <<-YAML &&
	tasks:
	  - name: add
	    goal: make add() add
	    agent_cmd: true
	YAML
	expect_code 2 $LOOPGATE run --dir bad --goal g --gate true 2>e &&
	grep -q "tasks\[0\]: a task needs its own goal: and gates:" e
'

test_done
