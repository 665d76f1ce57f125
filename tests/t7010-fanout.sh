#!/bin/sh
# Fan-out (docs/design/fanout.md): N workers, each its own process with its
# own log, tree and branch; a worker's "converged" counts only after the
# coordinator re-verifies its commit in a clean checkout; one budget across
# all of them; the winner's commit on loopgate/<id>; resume after SIGKILL.
# Each case makes its own repository.
. "$(dirname "$0")/lib.sh"

# fan_repo DIR: make_repo with DIR/loopgate.yaml from stdin, committed.
fan_repo() {
	make_repo "$1" && cat >"$1/loopgate.yaml" &&
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm config
}

# The three workers of issue 11, as command actors: one multiplies (never
# converges), one writes an add() that adds only in its own tree's path (it
# converges there, and its own re-verification under <id>-w2/ holds: the
# claim is false anywhere else), one really fixes add().
cat >"$TRASH/wrong.sh" <<'SH'
sed -i 's/a - b/a * b/' calc.py
SH
cat >"$TRASH/env-only.sh" <<'SH'
printf 'import os\ndef add(a, b):\n    return a + b if "-w2/" in os.getcwd() else a - b\n' >calc.py
SH
cat >"$TRASH/right.sh" <<'SH'
sed -i 's/a - b/a + b/' calc.py
SH
# waits for $TRASH/go (so that it is mid-turn when its coordinator dies)
cat >"$TRASH/right-after-go.sh" <<'SH'
while [ ! -e "$1/go" ]; do sleep 0.05; done
sed -i 's/a - b/a + b/' calc.py
SH
THREE="workers:
  - name: wrong
    agent_cmd: sh $TRASH/wrong.sh
  - name: env-only
    agent_cmd: sh $TRASH/env-only.sh
  - name: right
    agent_cmd: sh $TRASH/right.sh"

test_expect_success 'select best: the real fix wins; a claim that holds only in its worker is rejected centrally' '
	printf "%s\nselect: best\n" "$THREE" | fan_repo b &&
	expect_code 0 $LOOPGATE run --dir b --goal "make add() add" --gate "sh test.sh" \
		--max-iterations 12 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	id=$(summary_field s.json run_id) && rd=b/.loopgate/runs/$id &&
	python3 - s.json <<-\PY &&
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["name"]: x for x in s["workers"]}
	assert s["select"] == "best" and len(w) == 3, s
	assert w["right"]["winner"] and w["right"]["verified"] is True, w["right"]
	assert w["env-only"]["status"] == "converged" and w["env-only"]["verified"] is False, w
	assert "fails in a clean checkout" in w["env-only"]["rejected"], w["env-only"]
	assert w["wrong"]["status"] == "stalled" and w["wrong"]["verified"] is None, w["wrong"]
	# the run counts what its workers did
	assert s["iterations"] == sum(x["iterations"] for x in s["workers"]), s
	assert s["reason"].startswith("worker w3 (command"), s["reason"]
	PY
	# the run branch holds the winner'"'"'s commit, the user'"'"'s tree is untouched
	test "$(git -C b rev-parse "loopgate/$id")" = "$(git -C b rev-parse "loopgate/$id-w3")" &&
	git -C b show "loopgate/$id:calc.py" | grep -q "return a + b" &&
	grep -q "return a - b" b/calc.py &&
	# the coordinator checked each claim itself: the records say so
	event_bodies "$rd" candidate >c.json &&
	json_get c.json "sorted((x[\"worker\"], x[\"verified\"]) for x in d)" >cv &&
	test "$(cat cv)" = "[('"'"'w2'"'"', False), ('"'"'w3'"'"', True)]" &&
	event_bodies "$rd" reverify_end >rv.json &&
	json_get rv.json "sorted(x[\"worker\"] for x in d)" >rw &&
	test "$(cat rw)" = "['"'"'w2'"'"', '"'"'w3'"'"']" &&
	grep -q "worker w2: its commit is rejected in a clean checkout" err &&
	grep -q "worker w3.s commit .* chosen: the smallest verified change" err
'

test_expect_success 'each worker keeps its own signed log; the coordinator links each by its head' '
	printf "%s\n" "$THREE" | fan_repo l &&
	expect_code 0 $LOOPGATE run --dir l --goal "make add() add" --gate "sh test.sh" \
		--select best --max-parallel 2 --json >s.json 2>err &&
	id=$(summary_field s.json run_id) &&
	$LOOPGATE audit verify "$id" --dir l >/dev/null &&
	for w in w1 w2 w3; do
		$LOOPGATE audit verify "$id-$w" --dir l >/dev/null || exit 1
		test -f "l/.loopgate/runs/$id/workers/$w.json" || exit 1
	done &&
	python3 - "l/.loopgate/runs/$id" <<-\PY
	import json, sys, os
	rd = sys.argv[1]
	recs = [json.loads(l) for l in open(rd + "/events.jsonl")]
	ends = [r["body"] for r in recs if r["kind"] == "worker_end"]
	starts = [r["body"] for r in recs if r["kind"] == "worker_start"]
	fan = [r["body"] for r in recs if r["kind"] == "fanout_start"][0]
	assert fan["max_parallel"] == 2 and len(fan["workers"]) == 3, fan
	assert len(ends) == 3 and len(starts) == 3, (starts, ends)
	for e in ends:
	    wl = [json.loads(l) for l in open(e["log"]["events"])]
	    assert e["log"]["head"] == wl[-1]["h"] and e["log"]["seq"] == wl[-1]["seq"], e
	    assert e["log"]["checkpoint"]["seq"] == wl[-1]["seq"], e["log"]
	    # the worker knows its coordinator
	    st = wl[1]["body"]
	    assert st["fanout"]["parent"] == os.path.basename(rd), st["fanout"]
	PY
'

# fake_model scripts for model workers
fix_script() { reply_script fix >"$1"; }
wrong_script() {
	python3 -c "import json,sys; print(json.dumps({\"replies\":[{\"content\":sys.argv[1],
		\"delay_ms\":int(sys.argv[2])}],\"repeat_last\":True}))" "$REPLY_WRONG" "$2" >"$1"
}
PRICED='models:
  openai/priced:
    price_in: 1000
    price_out: 2000'

test_expect_success 'select first with model workers: the first verified wins, the others are stopped and their spend counted' '
	fix_script fix.json && wrong_script wrong.json 0 && wrong_script slow.json 20000 &&
	u1=$(start_fake fa wrong.json) && u2=$(start_fake fb fix.json) && u3=$(start_fake fc slow.json) &&
	printf "%s\nworkers:\n  - {model: openai/priced, base_url: \"%s\"}\n  - {model: openai/priced, base_url: \"%s\"}\n  - {model: openai/priced, base_url: \"%s\", name: slow}\n" \
		"$PRICED" "$u1" "$u2" "$u3" | fan_repo f &&
	start=$(date +%s) &&
	expect_code 0 $LOOPGATE run --dir f --goal "make add() add" --gate "sh test.sh" \
		--max-parallel 3 --max-iterations 30 --stall-after 50 --max-output-tokens 100 \
		--json >s.json 2>err &&
	test $(( $(date +%s) - start )) -lt 15 &&
	python3 - s.json f <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["worker"]: x for x in s["workers"]}
	assert s["status"] == "converged" and w["w2"]["winner"], s
	assert w["w3"]["status"] == "interrupted", w["w3"]
	assert w["w1"]["status"] in ("interrupted", "budget_exhausted"), w["w1"]
	# every attempt of every worker is in its own log and counted once
	total = 0.0
	for x in s["workers"]:
	    recs = [json.loads(l) for l in open(sys.argv[2] + "/.loopgate/runs/" + x["run_id"] + "/events.jsonl")]
	    logged = sum(r["body"]["cost_usd"] for r in recs if r["kind"] == "model_attempt")
	    assert abs(logged - x["cost_usd"]) < 1e-9, (x, logged)
	    total += logged
	assert abs(s["cost_usd"] - total) < 1e-9 and total > 0, (s["cost_usd"], total)
	assert w["w3"]["calls"] >= 1, w["w3"]  # the slow call was in flight: charged
	PY
'

test_expect_success 'one budget: 4 concurrent workers and a slow model never pass --max-cost together' '
	python3 -c "import json,sys; print(json.dumps({\"replies\":[{\"content\":sys.argv[1],
		\"delay_ms\":300,\"usage\":{\"in\":1000,\"out\":100}}],\"repeat_last\":True}))" \
		"$REPLY_WRONG" >slowb.json &&
	url=$(start_fake bud slowb.json) &&
	printf "%s\n" "$PRICED" | fan_repo m &&
	expect_code 1 $LOOPGATE run --dir m --goal g --gate "sh test.sh" --model openai/priced \
		--base-url "$url" --workers 4 --max-parallel 4 --max-output-tokens 100 \
		--max-cost 5 --max-iterations 100 --stall-after 100 --json >s.json 2>err &&
	test "$(summary_field s.json status)" = budget_exhausted &&
	python3 - s.json m <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	total, refused, t = 0.0, 0, []
	for x in s["workers"]:
	    recs = [json.loads(l) for l in open(sys.argv[2] + "/.loopgate/runs/" + x["run_id"] + "/events.jsonl")]
	    total += sum(r["body"]["cost_usd"] for r in recs if r["kind"] == "model_attempt")
	    t += [r["body"]["t"] if "t" in r["body"] else 0 for r in recs if r["kind"] == "model_request"]
	    refused += "the run" in x["reason"] and "--max-cost" in x["reason"]
	assert 0 < total <= 5.0 + 1e-9, total
	assert abs(total - s["cost_usd"]) < 1e-9, (total, s["cost_usd"])
	assert refused >= 1, [x["reason"] for x in s["workers"]]
	PY
	# the workers ran at once: requests overlapped at the fake server (each
	# takes 0.3 s); how many fit at once is for the ledger to say, and the
	# worst case of a call is more than its real cost, so not all four
	python3 - "$TRASH/bud.log" <<-\PY
	import json, sys
	reqs = [json.loads(l) for l in open(sys.argv[1])]
	ts = sorted(r["t"] for r in reqs)
	assert len(ts) >= 2 and any(b - a < 0.3 for a, b in zip(ts, ts[1:])), ts
	PY
'

test_expect_success 'configuration errors name the worker and start nothing' '
	make_repo c &&
	expect_code 2 $LOOPGATE run --dir c --goal g --gate "sh test.sh" --agent-cmd true \
		--select worst 2>e1 && grep -q "select: .worst. is not a selection policy" e1 &&
	expect_code 2 $LOOPGATE run --dir c --goal g --gate "sh test.sh" --agent-cmd true \
		--workers 0 2>e2 && grep -q -- "--workers expects a positive integer" e2 &&
	printf "workers:\n  - {agent_cmd: true, model: openai/m}\n  - {agent_cmd: true}\n" >c/bad.yaml &&
	expect_code 2 $LOOPGATE run --dir c --config c/bad.yaml --goal g --gate "sh test.sh" 2>e3 &&
	grep -q "workers\[0\]: both model .openai/m. and agent_cmd are set" e3 &&
	printf "workers:\n  - {agent_cmd: true, modle: x}\n" >c/bad2.yaml &&
	expect_code 2 $LOOPGATE run --dir c --config c/bad2.yaml --goal g --gate "sh test.sh" 2>e4 &&
	grep -q "workers\[0\].modle: unknown key; did you mean .model.?" e4 &&
	printf "workers:\n  - {agent_cmd: true}\n  - {agent_cmd: true}\n" >c/two.yaml &&
	expect_code 2 $LOOPGATE run --dir c --config c/two.yaml --workers 1 --goal g --gate "sh test.sh" 2>e5 &&
	grep -q -- "--workers 1 is fewer than the 2 workers" e5 &&
	test ! -d c/.loopgate/runs || test -z "$(ls c/.loopgate/runs)"
'

cat >"$TRASH/swapped.sh" <<'SH'
sed -i 's/a - b/b + a/' calc.py
SH
# a verifier's verdict as a fake-server reply
verdict() {
	printf '{"content": "{\\"verdict\\": \\"%s\\", \\"confidence\\": %s, \\"reasons\\": []}"}' "$1" "$2"
}

test_expect_success 'select best: two verified changes of the same size, the verifiers'"'"' vote decides, and every report shows the votes' '
	cat >vs.json <<-JSON &&
	{"routes": [
	  {"contains": "return b + a", "replies": [$(verdict accept 1.0)], "repeat_last": true},
	  {"contains": "return a + b", "replies": [$(verdict accept 0.6)], "repeat_last": true}]}
	JSON
	url=$(start_fake v vs.json) &&
	fan_repo vb <<-YAML &&
	select: best
	workers:
	  - name: plain
	    agent_cmd: sh $TRASH/right.sh
	  - name: swapped
	    agent_cmd: sh $TRASH/swapped.sh
	verifiers:
	  - name: goal
	    brief: Does the change meet the goal?
	    model: openai/v-goal
	  - name: gaming
	    brief: Is a test gamed?
	    model: openai/v-gaming
	YAML
	expect_code 0 $LOOPGATE run --dir vb --goal "make add() add" --gate "sh test.sh" \
		--base-url "$url" --json >s.json 2>err &&
	python3 - s.json <<-\PY &&
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["name"]: x for x in s["workers"]}
	assert (w["plain"]["diff_lines"], w["plain"]["diff_files"]) == (w["swapped"]["diff_lines"], w["swapped"]["diff_files"]), w
	assert w["plain"]["vote"] == {"accepted": True, "accepts": 2, "of": 2, "score": 0.8}, w["plain"]
	assert w["swapped"]["vote"] == {"accepted": True, "accepts": 2, "of": 2, "score": 1.0}, w["swapped"]
	# the verifier calls of the workers are the verifier spend of the run
	assert s["roles"]["verifier"]["calls"] == 4 and s["roles"]["worker"]["calls"] == 0, s["roles"]
	assert s["roles"]["verifier"]["tokens_in"] == s["tokens_in"] > 0, s
	# without the vote the lower number (plain) would have won
	assert w["swapped"]["winner"] and not w["plain"]["winner"], w
	assert "its verifiers'"'"' vote (2 of 2 accept, score 1.00) was the stronger" in s["reason"], s["reason"]
	PY
	id=$(summary_field s.json run_id) &&
	grep -q "<td>2 of 2 (0.80)</td>" "vb/.loopgate/runs/$id/report.html" &&
	grep -q "<tr class=\"won\"><td><b>won</b> w2 (swapped).*<td>2 of 2 (1.00)</td>" \
		"vb/.loopgate/runs/$id/report.html" &&
	$LOOPGATE show --dir vb "$id" >show.out &&
	grep -q "swapped .* 2 of 2 (1.00)" show.out &&
	event_bodies "vb/.loopgate/runs/$id" candidate >c.json &&
	json_get c.json "sorted((x[\"worker\"], x[\"vote\"][\"score\"]) for x in d)" >cv &&
	test "$(cat cv)" = "[('"'"'w1'"'"', 0.8), ('"'"'w2'"'"', 1.0)]"
'

test_expect_success 'SIGKILL of the coordinator mid fan-out, then resume: same result, spend counted once, every log verifies' '
	printf "workers:\n  - agent_cmd: sh %s/right-after-go.sh %s\n  - agent_cmd: sh %s/wrong.sh\n" \
		"$TRASH" "$TRASH" "$TRASH" | fan_repo k &&
	LOOPGATE_FAULT=kill:event.worker_end expect_code 137 $LOOPGATE run --dir k --goal g \
		--gate "sh test.sh" --select first $TRASH_WRITABLE >/dev/null 2>killed.err &&
	id=$(ls k/.loopgate/runs | grep -v -- "-w" ) &&
	! grep -q "\"run_end\"" "k/.loopgate/runs/$id/events.jsonl" &&
	# the wardens took the workers down with their coordinator
	w1pid=$(python3 -c "import json,sys; print([json.loads(l)[\"body\"][\"pid\"] for l in open(sys.argv[1]) if json.loads(l)[\"kind\"]==\"worker_start\"][0])" k/.loopgate/runs/$id/events.jsonl) &&
	proc_dead "$w1pid" &&
	touch "$TRASH/go" &&
	expect_code 0 $LOOPGATE resume "$id" --dir k --json >r.json 2>resumed.err &&
	test "$(summary_field r.json status)" = converged &&
	python3 - r.json k <<-\PY &&
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["worker"]: x for x in s["workers"]}
	assert w["w1"]["winner"] and w["w2"]["status"] == "stalled", w
	recs = [json.loads(l) for l in open(sys.argv[2] + "/.loopgate/runs/" + s["run_id"] + "/events.jsonl")]
	ends = [r["body"]["worker"] for r in recs if r["kind"] == "worker_end"]
	assert sorted(ends) == ["w1", "w2"], ends   # each ended once
	starts = [r["body"] for r in recs if r["kind"] == "worker_start"]
	assert any(b["worker"] == "w1" and b["resumed"] for b in starts), starts
	# spend counted once: the run sums what the worker logs say
	its = 0
	for x in s["workers"]:
	    wl = [json.loads(l) for l in open(sys.argv[2] + "/.loopgate/runs/" + x["run_id"] + "/events.jsonl")]
	    its += len([r for r in wl if r["kind"] == "iteration_end"])
	assert s["iterations"] == its, (s["iterations"], its)
	PY
	for r in "$id" "$id-w1" "$id-w2"; do
		$LOOPGATE audit verify "$r" --dir k >/dev/null || exit 1
	done
'

# A gate that, in the coordinator's clean checkout of a claim (<id>/verify*,
# not a worker's own <id>-wK/verify), marks its start in $1 and then waits
# (at most 20 s) until two checks have started: it passes only when the
# checks of two claims overlap in time.
cat >"$TRASH/overlap-gate.sh" <<'SH'
case $PWD in
*-w[0-9]/verify* | */tree) ;;
*/verify*)
	mkdir -p "$1" && mktemp "$1/start.XXXXXX" >/dev/null || exit 1
	i=0
	while [ "$(ls "$1" | wc -l)" -lt 2 ]; do
		i=$((i + 1))
		[ $i -le 400 ] || exit 1
		sleep 0.05
	done
	;;
esac
sh test.sh
SH

test_expect_success 'the claims of workers ending together are checked at once, each in its own checkout' '
	printf "workers:\n  - agent_cmd: sh %s/right.sh\n  - agent_cmd: sh %s/right.sh\nselect: best\n" \
		"$TRASH" "$TRASH" | fan_repo ov &&
	expect_code 0 $LOOPGATE run --dir ov --goal g --gate "sh $TRASH/overlap-gate.sh $TRASH/ov-starts" \
		--max-parallel 2 --max-iterations 4 $TRASH_WRITABLE --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	test "$(ls "$TRASH/ov-starts" | wc -l)" = 2 &&
	id=$(summary_field s.json run_id) &&
	python3 - ov/.loopgate/runs/$id/events.jsonl <<-\PY
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	kinds = [(r["kind"], r["body"].get("worker")) for r in recs]
	cands = [b for k, b in [(r["kind"], r["body"]) for r in recs] if k == "candidate"]
	assert sorted((c["worker"], c["verified"]) for c in cands) == [("w1", True), ("w2", True)], cands
	# each claim'"'"'s records form one block: reverify_start ... reverify_end, candidate
	for w in ("w1", "w2"):
	    i = kinds.index(("reverify_start", w))
	    j = kinds.index(("candidate", w))
	    block = [k for k, _ in kinds[i:j + 1]]
	    assert "worker_end" not in block and block.count("reverify_start") == 1, block
	    assert kinds[j - 1] == ("reverify_end", w), kinds[i:j + 1]
	PY
'

test_expect_success 'SIGKILL while a claim'"'"'s check is written, then resume: the claim is checked again and wins' '
	printf "workers:\n  - agent_cmd: sh %s/right.sh\n  - agent_cmd: sh %s/wrong.sh\n" \
		"$TRASH" "$TRASH" | fan_repo kc &&
	LOOPGATE_FAULT=kill:torn.candidate expect_code 137 $LOOPGATE run --dir kc --goal g \
		--gate "sh test.sh" --select first --max-iterations 6 >/dev/null 2>killed.err &&
	id=$(ls kc/.loopgate/runs | grep -v -- "-w") &&
	! grep -q "\"candidate\"" "kc/.loopgate/runs/$id/events.jsonl" &&
	expect_code 0 $LOOPGATE resume "$id" --dir kc --json >r.json 2>resumed.err &&
	test "$(summary_field r.json status)" = converged &&
	python3 - r.json kc/.loopgate/runs/$id/events.jsonl <<-\PY &&
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["worker"]: x for x in s["workers"]}
	assert w["w1"]["winner"] and w["w1"]["verified"] is True, w
	recs = [json.loads(l) for l in open(sys.argv[2])]
	ends = [r["body"]["worker"] for r in recs if r["kind"] == "worker_end"]
	assert ends.count("w1") == 1, ends
	cands = [r["body"] for r in recs if r["kind"] == "candidate"]
	assert [(c["worker"], c["verified"]) for c in cands] == [("w1", True)], cands
	PY
	$LOOPGATE audit verify "$id" --dir kc >/dev/null
'

test_done
