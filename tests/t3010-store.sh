#!/bin/sh
# The run store: real runs are indexed live, `runs`/`show` read it, reindex
# rebuilds the same thing from the logs, a missing database is rebuilt, a
# broken store never harms a run, two runs at once both land.
. "$(dirname "$0")/lib.sh"

SQ="'"
export SQ

# runs_json DIR OUT: `loopgate runs --json` of the repository DIR into OUT.
runs_json() {
	expect_code 0 $LOOPGATE runs --dir "$1" --json >"$2"
}

# The runs the cases look at, made once (lib.sh use_setup) by whichever
# case needs them first.  one_run: a two-iteration run against the fake
# model in repo (sum1.json); two_runs: that, then a second run with an agent
# command in the same repo (sum2.json).  A case that changes them (deletes
# the database) calls two_runs itself.
one_run() {
	make_repo repo &&
	reply_script wrong-then-fix >s.json &&
	url=$(start_fake oa s.json) &&
	expect_code 0 $LOOPGATE run --dir repo --goal "make add() add" \
		--gate "sh test.sh" --model openai/test-model --base-url "$url" \
		--max-iterations 5 --json >sum1.json 2>err
}
two_runs() {
	one_run &&
	expect_code 0 $LOOPGATE run --dir repo --goal "fix add, second run" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >sum2.json 2>err2
}

test_expect_success 'a two-iteration run against the fake model is indexed live' '
	use_setup one one_run &&
	! grep -q "run store" err &&
	test -f repo/.loopgate/loopgate.db &&
	runs_json repo runs.json &&
	id=$(summary_field sum1.json run_id) &&
	python3 - "$id" <<-PY
	import json, sys
	runs = json.load(open("runs.json"))
	assert len(runs) == 1, runs
	r = runs[0]
	assert r["id"] == sys.argv[1], r
	assert r["status"] == "converged" and r["exit_code"] == 0, r
	assert r["iterations"] == 2 and r["goal"] == "make add() add", r
	assert r["model"] == "openai/test-model" and r["actor"] == "model", r
	assert r["tokens_in"] > 0 and r["duration_s"] > 0, r
	assert r["started"] < r["ended"], r
	PY
'

test_expect_success 'runs prints a table; show prints each iteration' '
	use_setup one one_run &&
	id=$(summary_field sum1.json run_id) &&
	expect_code 0 $LOOPGATE runs --dir repo >table &&
	head -n 1 table | grep -q "^ID  *STARTED (UTC)  *STATUS  *ITER  *COST  *TIME  *GOAL" &&
	grep -q "^$id .* converged  *2 .* make add() add$" table &&
	(cd repo && expect_code 0 $LOOPGATE show "$id" >"$TRASH/show") &&
	grep -q "^  status:     converged (exit 0)" show &&
	grep -q "^  1  gate 1: exit 1 .*calc.py$" show &&
	grep -q "^  2  all passed .*calc.py$" show &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --json >show.json &&
	test "$(json_get show.json "d[\"per_iteration\"][0][\"describe\"]")" = "exit 1" &&
	test "$(json_get show.json "d[\"per_iteration\"][0][\"files\"]")" = "[${SQ}calc.py${SQ}]" &&
	test "$(json_get show.json "len(d[\"model_calls\"])")" = 2 &&
	test "$(json_get show.json "[g[\"passed\"] for g in d[\"gates\"]]")" = "[0, 0, 1]"
'

test_expect_success 'show --iteration K: prompt, response and gate output; a missing file is named' '
	use_setup one one_run &&
	id=$(summary_field sum1.json run_id) &&
	run_dir=$(summary_field sum1.json run_dir) &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --iteration 1 >it1 &&
	grep -q "^== prompt (iter-001/prompt.md) ==" it1 &&
	grep -q "^== response (iter-001/response.md) ==" it1 &&
	grep -q "Maybe multiplication" it1 &&
	grep -q "^== gate 1 .sh test.sh.: exit 1 (iter-001/gate-1.out) ==" it1 &&
	grep -q "returned 6, expected 5" it1 &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --iteration 0 >it0 &&
	grep -q "returned -1, expected 5" it0 &&
	mv "$run_dir/iter-001/response.md" resp.bak &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --iteration 1 >it1b &&
	mv resp.bak "$run_dir/iter-001/response.md" &&
	grep -A1 "^== response (iter-001/response.md) ==" it1b | grep -q "^(missing: No such file or directory" &&
	expect_code 2 $LOOPGATE show "$id" --dir repo --iteration 9 2>e9 &&
	grep -q "has no iteration 9" e9
'

test_expect_success 'a second run (agent command); unique prefixes, unknown and ambiguous ids' '
	use_setup two two_runs &&
	id1=$(summary_field sum1.json run_id) && id2=$(summary_field sum2.json run_id) &&
	runs_json repo runs2.json &&
	test "$(json_get runs2.json "[r[\"id\"] for r in d]")" = "[${SQ}$id2${SQ}, ${SQ}$id1${SQ}]" &&
	expect_code 0 $LOOPGATE show "${id2%??}" --dir repo --json >s2.json &&
	test "$(json_get s2.json "d[\"id\"]")" = "$id2" &&
	expect_code 2 $LOOPGATE show 2 --dir repo 2>amb &&
	grep -q "is ambiguous" amb && grep -q "$id1" amb &&
	expect_code 2 $LOOPGATE show nosuchrun --dir repo 2>unk &&
	grep -q "no run .nosuchrun." unk &&
	expect_code 2 $LOOPGATE show --dir repo 2>none && grep -q "which run" none
'

test_expect_success 'filters: --status, --since, --until, --limit; bad values are usage errors' '
	use_setup two two_runs &&
	id1=$(summary_field sum1.json run_id) && id2=$(summary_field sum2.json run_id) &&
	expect_code 0 $LOOPGATE runs --dir repo --json --limit 1 >l1 &&
	test "$(json_get l1 "[r[\"id\"] for r in d]")" = "[${SQ}$id2${SQ}]" &&
	expect_code 0 $LOOPGATE runs --dir repo --json --status stalled >st &&
	test "$(json_get st "len(d)")" = 0 &&
	expect_code 0 $LOOPGATE runs --dir repo --json --since 2000-01-01 --until 2999-01-01 >sn &&
	test "$(json_get sn "len(d)")" = 2 &&
	expect_code 0 $LOOPGATE runs --dir repo --json --since 2999-01-01 >fut &&
	test "$(json_get fut "len(d)")" = 0 &&
	expect_code 2 $LOOPGATE runs --dir repo --since yesterday 2>e1 &&
	grep -q "expected a UTC date" e1 &&
	expect_code 2 $LOOPGATE runs --dir repo --limit 0 2>e2 && grep -q "limit" e2 &&
	expect_code 2 $LOOPGATE runs --dir repo --bogus 2>e3 && grep -q "bogus" e3
'

test_expect_success 'reindex rebuilds exactly what the live store holds' '
	use_setup two two_runs &&
	runs_json repo live.json &&
	expect_code 0 $LOOPGATE show "$(summary_field sum1.json run_id)" --dir repo --json >live-show.json &&
	expect_code 0 $LOOPGATE reindex --dir repo >ri &&
	grep -q "^reindexed 2 run(s), [0-9]* record(s)$" ri &&
	runs_json repo re.json &&
	cmp live.json re.json &&
	expect_code 0 $LOOPGATE show "$(summary_field sum1.json run_id)" --dir repo --json >re-show.json &&
	python3 - <<-PY
	import json
	a, b = json.load(open("live-show.json")), json.load(open("re-show.json"))
	# only what reindex adds: the verdict of audit verify on the log
	assert b.pop("log_status") == "intact", b
	a.pop("log_status")
	assert a == b, (a, b)
	PY
'

test_expect_success 'a deleted database is rebuilt by `loopgate runs`' '
	two_runs &&
	runs_json repo live.json &&
	rm -f repo/.loopgate/loopgate.db repo/.loopgate/loopgate.db-wal repo/.loopgate/loopgate.db-shm &&
	runs_json repo rebuilt.json &&
	test -f repo/.loopgate/loopgate.db &&
	cmp live.json rebuilt.json
'

test_expect_success 'a failing store never harms the run: one warning, reindex repairs' '
	make_repo r3 &&
	LOOPGATE_FAULT=fail:store.ingest@3 expect_code 0 $LOOPGATE run --dir r3 --goal "fix" \
		--gate "sh test.sh" --agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" \
		--json >s3.json 2>e3 &&
	test "$(summary_field s3.json status)" = converged &&
	test "$(grep -c "run store" e3)" = 1 &&
	grep -q "the run goes on.*loopgate reindex" e3 &&
	expect_code 0 $LOOPGATE audit verify "$(summary_field s3.json run_id)" --dir r3 &&
	runs_json r3 before.json &&
	test "$(json_get before.json "d[0][\"status\"]")" = running &&
	expect_code 0 $LOOPGATE reindex --dir r3 &&
	runs_json r3 after.json &&
	test "$(json_get after.json "d[0][\"status\"]")" = converged &&
	test "$(json_get after.json "d[0][\"iterations\"]")" = 1
'

test_expect_success 'a database that is not SQLite: the run still converges, runs says what is wrong' '
	make_repo r4 &&
	mkdir -p r4/.loopgate && echo "this is not a database at all, not at all....." >r4/.loopgate/loopgate.db &&
	expect_code 0 $LOOPGATE run --dir r4 --goal "fix" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >s4.json 2>e4 &&
	test "$(summary_field s4.json status)" = converged &&
	grep -q "warning: run store: .*not a database" e4 &&
	expect_code 3 $LOOPGATE runs --dir r4 2>e4b &&
	grep -q "not a database" e4b
'

# rendezvous ME OTHER: an agent command that says it started, waits (bounded)
# until the other run's agent has started too, then fixes calc.py; it
# fixes nothing when the other never came, so the run cannot converge.
rendezvous() {
	echo "touch $TRASH/$1.started; i=0; while [ ! -e $TRASH/$2.started ] && [ \$i -lt 6000 ]; do i=\$((i+1)); sleep 0.01; done; [ -e $TRASH/$2.started ] && sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py"
}

test_expect_success 'two runs at once in one repository are both indexed' '
	make_repo r5
	$LOOPGATE run --dir r5 --goal "run A" --gate "sh test.sh" --agent-cmd "$(rendezvous A B)" $TRASH_WRITABLE \
		--max-iterations 1 --json >a.json 2>a.err &
	pa=$!
	$LOOPGATE run --dir r5 --goal "run B" --gate "sh test.sh" --agent-cmd "$(rendezvous B A)" $TRASH_WRITABLE \
		--max-iterations 1 --json >b.json 2>b.err &
	pb=$!
	ra=0 && wait $pa || ra=$?
	rb=0 && wait $pb || rb=$?
	{
		test $ra = 0 && test $rb = 0 &&
		test -e A.started && test -e B.started &&
		test "$(summary_field a.json status)" = converged &&
		test "$(summary_field b.json status)" = converged &&
		! grep -q "run store" a.err b.err
	} || {
		echo "exit codes $ra $rb; started: $(ls *.started)"
		for f in a.err b.err a.json b.json; do echo "--- $f"; tail -n 15 $f; done
		false
	} &&
	runs_json r5 both.json &&
	test "$(json_get both.json "sorted((r[\"goal\"], r[\"status\"], r[\"iterations\"]) for r in d)")" = \
		"[(${SQ}run A${SQ}, ${SQ}converged${SQ}, 1), (${SQ}run B${SQ}, ${SQ}converged${SQ}, 1)]" ||
		{ echo "--- runs --json"; cat both.json; false; }
	expect_code 0 $LOOPGATE reindex --dir r5 && runs_json r5 both2.json && cmp both.json both2.json
'

# runs_ab: two runs, A then B, in r5 (a.json, b.json), for the cases that
# change their logs.
runs_ab() {
	make_repo r5 &&
	for r in a b; do
		expect_code 0 $LOOPGATE run --dir r5 --goal "run $r" --gate "sh test.sh" \
			--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --max-iterations 1 \
			--json >$r.json 2>$r.err || return 1
	done
}

test_expect_success 'reindex: a tampered log is indexed up to its last good record and named' '
	runs_ab &&
	id=$(summary_field a.json run_id) &&
	log=$(summary_field a.json run_dir)/events.jsonl &&
	n=$(wc -l <"$log") &&
	python3 - "$log" <<-PY
	import sys
	p = sys.argv[1]
	lines = open(p, "rb").read().split(b"\n")[:-1]
	del lines[5]
	open(p, "wb").write(b"".join(l + b"\n" for l in lines))
	PY
	expect_code 0 $LOOPGATE reindex --dir r5 >ri5 &&
	grep -q "^$id: log tampered at line 6: .*indexed its 5 intact records" ri5 &&
	grep -q "1 log(s) damaged" ri5 &&
	expect_code 0 $LOOPGATE show "$id" --dir r5 --json >t.json &&
	test "$(json_get t.json "d[\"log_status\"]")" = tampered &&
	test "$(json_get t.json "d[\"last_seq\"]")" = 4 &&
	test "$(json_get t.json "d[\"status\"]")" = running
'

test_expect_success 'reindex imports checkpoints.jsonl when present' '
	runs_ab &&
	id=$(summary_field b.json run_id) &&
	printf "{\"run_id\":\"%s\",\"seq\":3,\"h\":\"%s\",\"key_id\":\"k\",\"sig\":\"c2ln\",\"ts\":\"2026-01-01T00:00:00Z\"}\n" \
		"$id" "$(printf %064d 0)" >"$(summary_field b.json run_dir)/checkpoints.jsonl" &&
	expect_code 0 $LOOPGATE reindex --dir r5 &&
	expect_code 0 $LOOPGATE show "$id" --dir r5 --json >cp.json &&
	test "$(json_get cp.json "[(c[\"seq\"], c[\"key_id\"]) for c in d[\"checkpoints\"]]")" = "[(3, ${SQ}k${SQ})]"
'

test_expect_success 'outside a git repository: a clear usage error' '
	mkdir -p notrepo &&
	expect_code 2 $LOOPGATE runs --dir notrepo 2>nr &&
	grep -qi "git" nr
'

test_done
