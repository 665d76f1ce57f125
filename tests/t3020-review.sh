#!/bin/sh
# Sampling review: review_sample marks converged runs deterministically by
# id, `loopgate review` lists them with diff and gate evidence, a verdict is
# appended to the run's own log, a second one needs --force.
. "$(dirname "$0")/lib.sh"

SQ="'"
export SQ

# with_sample DIR F: a repository whose loopgate.yaml sets review_sample: F.
with_sample() {
	make_repo "$1" &&
	printf "review_sample: %s\n" "$2" >"$1/loopgate.yaml" &&
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm "review sample"
}

# picked ID F: does SHA-256(ID)'s first 8 bytes fall below F * 2^64?
picked() {
	python3 -c 'import hashlib,sys; x=int.from_bytes(hashlib.sha256(sys.argv[1].encode()).digest()[:8],"big"); print(int(x < float(sys.argv[2]) * 2**64))' "$1" "$2"
}

# sampled_run: a converged run marked for review (repo, sum.json); the
# cases that only look share one (lib.sh use_setup), the ones that give a
# verdict make their own.  judged_run: that run accepted by alice, then
# rejected by bob with --force.
sampled_run() {
	with_sample repo 1 &&
	reply_script wrong-then-fix >s.json &&
	url=$(start_fake oa s.json) &&
	(cd repo && expect_code 0 $LOOPGATE run --goal "make add() add" \
		--gate "sh test.sh" --model openai/test-model --base-url "$url" \
		--json >../sum.json 2>../err)
}
judged_run() {
	sampled_run &&
	id=$(summary_field sum.json run_id) &&
	expect_code 0 $LOOPGATE review "$id" --accept --note "looks right" \
		--reviewer alice --dir repo >/dev/null &&
	USER=bob expect_code 0 $LOOPGATE review "$id" --reject --force --dir repo >/dev/null
}

test_expect_success 'review_sample: 1 marks a converged run, before run_end' '
	use_setup sampled sampled_run &&
	test "$(summary_field sum.json review_requested)" = True &&
	events_kinds "$(summary_field sum.json run_dir)" | tail -n 2 >kinds &&
	printf "review_requested\nrun_end\n" | cmp - kinds &&
	expect_code 0 $LOOPGATE runs --dir repo --json >runs.json &&
	test "$(json_get runs.json "d[0][\"review\"]")" = requested
'

test_expect_success 'loopgate review lists it with its diff and the final gate evidence' '
	use_setup sampled sampled_run &&
	id=$(summary_field sum.json run_id) &&
	run_dir=$(summary_field sum.json run_dir) &&
	expect_code 0 $LOOPGATE review --dir repo >list &&
	grep -q "^run $id " list &&
	grep -q "^    gate 1 .sh test.sh.: exit 0, tests: plain: 1 executed" list &&
	grep -qx "      output: $run_dir/iter-002/gate-1.out" list &&
	grep -q "calc.py | 2 +-" list &&
	grep -qx "+    return a + b" list &&
	expect_code 0 $LOOPGATE review --dir repo --json >list.json &&
	python3 - "$id" "$run_dir" <<-PY
	import json, sys
	d = json.load(open("list.json"))
	assert [r["id"] for r in d] == [sys.argv[1]], d
	r = d[0]
	assert "-    return a - b" in r["patch"] and not r["patch_truncated"], r
	assert "1 file changed" in r["diff_stat"], r
	g = r["gates"]
	assert len(g) == 1 and g[0]["exit_code"] == 0 and g[0]["passed"] == 1, g
	assert g[0]["iteration"] == 2 and g[0]["command"] == "sh test.sh", g
	assert g[0]["output_path"] == sys.argv[2] + "/iter-002/gate-1.out", g
	PY
'

test_expect_success 'a verdict goes into the run log and the store; a second needs --force' '
	sampled_run &&
	id=$(summary_field sum.json run_id) &&
	run_dir=$(summary_field sum.json run_dir) &&
	expect_code 0 $LOOPGATE review "${id%???}" --accept --note "looks right" \
		--reviewer alice --dir repo >v1 &&
	grep -qx "run $id: accepted by alice" v1 &&
	events_ok "$run_dir" &&
	expect_code 0 $LOOPGATE audit verify "$id" --dir repo &&
	test "$(events_kinds "$run_dir" | tail -n 1)" = review &&
	test "$(event_bodies "$run_dir" review)" = "[{\"note\": \"looks right\", \"previous\": \"requested\", \"reviewer\": \"alice\", \"verdict\": \"accepted\"}]" &&
	expect_code 0 $LOOPGATE show "$id" --dir repo >show &&
	grep -q "^  review:     accepted by alice at .*: looks right$" show &&
	expect_code 0 $LOOPGATE review --dir repo >after &&
	grep -qx "no run awaits review" after &&
	USER=bob expect_code 2 $LOOPGATE review "$id" --reject --dir repo 2>refused &&
	grep -q "already accepted by alice.*--force" refused &&
	test "$(event_bodies "$run_dir" review | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = 1 &&
	USER=bob expect_code 0 $LOOPGATE review "$id" --reject --force --dir repo &&
	test "$(event_bodies "$run_dir" review | python3 -c "import json,sys; print([(b[\"verdict\"], b[\"reviewer\"], b[\"previous\"]) for b in json.load(sys.stdin)])")" = \
		"[(${SQ}accepted${SQ}, ${SQ}alice${SQ}, ${SQ}requested${SQ}), (${SQ}rejected${SQ}, ${SQ}bob${SQ}, ${SQ}accepted${SQ})]" &&
	expect_code 0 $LOOPGATE audit verify "$id" --dir repo &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --json >s.json &&
	test "$(json_get s.json "(d[\"review\"], d[\"reviewer\"])")" = "(${SQ}rejected${SQ}, ${SQ}bob${SQ})"
'

test_expect_success 'the verdict survives a rebuild of the store (it is in the log)' '
	judged_run &&
	id=$(summary_field sum.json run_id) &&
	rm -f repo/.loopgate/loopgate.db* &&
	expect_code 0 $LOOPGATE show "$id" --dir repo --json >s2.json &&
	test "$(json_get s2.json "(d[\"review\"], d[\"reviewer\"])")" = "(${SQ}rejected${SQ}, ${SQ}bob${SQ})"
'

test_expect_success 'verdict usage errors: no verdict, both, unknown run, no reviewer' '
	use_setup sampled sampled_run &&
	id=$(summary_field sum.json run_id) &&
	expect_code 2 $LOOPGATE review "$id" --dir repo 2>e1 && grep -q "accept or --reject" e1 &&
	expect_code 2 $LOOPGATE review "$id" --accept --reject --dir repo 2>e2 && grep -q "one verdict" e2 &&
	expect_code 2 $LOOPGATE review nosuch --accept --reviewer x --dir repo 2>e3 && grep -q "no run .nosuch." e3 &&
	(unset USER; expect_code 2 $LOOPGATE review "$id" --accept --force --dir repo 2>e4) &&
	grep -q "who is reviewing" e4 &&
	expect_code 2 $LOOPGATE review --accept --dir repo 2>e5 && grep -q "which run" e5
'

test_expect_success 'a run whose log does not end in run_end is not judged' '
	with_sample r2 1 &&
	expect_code 0 $LOOPGATE run --dir r2 --goal "fix" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >s2.json 2>/dev/null &&
	id=$(summary_field s2.json run_id) &&
	log=$(summary_field s2.json run_dir)/events.jsonl &&
	head -n -2 "$log" >cut && cat cut >"$log" &&
	expect_code 0 $LOOPGATE reindex --dir r2 &&
	expect_code 2 $LOOPGATE review "$id" --accept --reviewer x --dir r2 2>e &&
	grep -q "has not ended (its log ends with a budget record)" e &&
	cmp cut "$log"
'

# unsampled_run: a converged run with review_sample: 0 (r3, s3.json).
unsampled_run() {
	with_sample r3 0 &&
	expect_code 0 $LOOPGATE run --dir r3 --goal "fix" --gate "sh test.sh" \
		--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >s3.json 2>/dev/null
}

test_expect_success 'review_sample: 0 marks nothing; out of range or not a number is refused' '
	unsampled_run &&
	! events_kinds "$(summary_field s3.json run_dir)" | grep -q review_requested &&
	expect_code 0 $LOOPGATE review --dir r3 >l3 && grep -qx "no run awaits review" l3 &&
	make_repo r4 &&
	printf "review_sample: 1.5\n" >r4/loopgate.yaml &&
	(cd r4 && expect_code 2 $LOOPGATE run --goal g --gate "sh test.sh" --agent-cmd true 2>../e4) &&
	grep -q "review_sample" e4 &&
	printf "review_sample: lots\n" >r4/loopgate.yaml &&
	(cd r4 && expect_code 2 $LOOPGATE run --goal g --gate "sh test.sh" --agent-cmd true 2>../e5) &&
	grep -q "review_sample" e5 &&
	test ! -d r4/.loopgate/runs
'

test_expect_success 'a tampered log gets no verdict (exit 3) and is left as it was' '
	unsampled_run &&
	id=$(summary_field s3.json run_id) &&
	log=$(summary_field s3.json run_dir)/events.jsonl &&
	python3 - "$log" <<-PY
	import sys
	p = sys.argv[1]
	lines = open(p, "rb").read().split(b"\n")[:-1]
	assert b"\"goal\":\"fix\"" in lines[1], lines[1]
	lines[1] = lines[1].replace(b"\"goal\":\"fix\"", b"\"goal\":\"fiy\"")
	open(p, "wb").write(b"".join(l + b"\n" for l in lines))
	PY
	cp "$log" before &&
	expect_code 1 $LOOPGATE audit verify "$id" --dir r3 >/dev/null &&
	expect_code 3 $LOOPGATE review "$id" --accept --reviewer x --dir r3 2>e &&
	grep -q "fails verification at line 2" e &&
	cmp before "$log"
'

test_expect_success 'review_sample: 0.5 picks exactly the runs SHA-256 of the id says' '
	with_sample r6 0.5 &&
	for i in 1 2 3 4 5 6; do
		git -C r6 checkout -q main &&
		expect_code 0 $LOOPGATE run --dir r6 --goal "fix $i" --gate "sh test.sh" \
			--agent-cmd "sed -i s/a\\ -\\ b/a\\ +\\ b/ calc.py" --json >r6-$i.json 2>/dev/null || return 1
	done &&
	for i in 1 2 3 4 5 6; do
		id=$(summary_field r6-$i.json run_id) &&
		want=$(picked "$id" 0.5) &&
		got=$(events_kinds "$(summary_field r6-$i.json run_dir)" | grep -c review_requested || true) &&
		test "$want" = "$got" || { echo "run $id: picked=$want, marked=$got" >&2; return 1; }
	done &&
	expect_code 0 $LOOPGATE review --dir r6 --json >l6 &&
	n=$(for i in 1 2 3 4 5 6; do picked "$(summary_field r6-$i.json run_id)" 0.5; done | grep -c 1 || true) &&
	test "$(json_get l6 "len(d)")" = "$n"
'

test_done
