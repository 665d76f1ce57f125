#!/bin/sh
# `loopgate run --workers 3 --executor slurm` end to end on a real one-node
# Slurm cluster of Debian's slurm-wlm and munge (tests/slurm_cluster.sh,
# 2 CPUs): each worker is a batch job running `loopgate __worker` on the
# shared filesystem; the jobs queue, run and write their branches and
# signed logs; the coordinator re-verifies the converged one in a clean
# checkout before it counts, cancels the one still running (scancel) and
# counts its spend; a coordinator killed mid-run re-attaches to the jobs.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/slurm_cluster.sh"

slurm_test_cluster
KEY=sk-slurm-fanout-never-logged-77c1
export OPENAI_API_KEY=$KEY

cd "$TRASH" || exit 1
# the models: w1 multiplies forever (quickly stalls), w2 answers after a
# long wait (it is running when the winner is found: cancelled), w3 fixes
reply_script wrong-forever >wrong.json
python3 -c "import json,sys; print(json.dumps({\"replies\":[{\"content\":sys.argv[1],\"delay_ms\":120000}]}))" \
	"$REPLY_WRONG" >slow.json
reply_script fix >fix.json
# slurm_repo DIR: make_repo with three priced model workers, each with a
# fake server of its own (DIR-1, DIR-2, DIR-3)
slurm_repo() {
	U1=$(start_fake "$1-1" wrong.json) && U2=$(start_fake "$1-2" slow.json) &&
		U3=$(start_fake "$1-3" fix.json) || return 1
	make_repo "$1" && cat >"$1/loopgate.yaml" <<-YAML &&
	models:
	  openai/priced:
	    price_in: 10
	    price_out: 20
	workers:
	  - {name: wrong, model: openai/priced, base_url: "$U1"}
	  - {name: slow, model: openai/priced, base_url: "$U2"}
	  - {name: right, model: openai/priced, base_url: "$U3"}
	executor: slurm
	max_parallel: 3
	YAML
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm config
}

test_expect_success 'three workers as Slurm jobs on 2 CPUs: queued, run, the right one verified and chosen, the running one cancelled' '
	slurm_repo r &&
	expect_code 0 $LOOPGATE run --dir r --goal "make add() add" --gate "sh test.sh" \
		--max-iterations 20 --stall-after 2 --max-output-tokens 200 --max-cost 2 \
		--json >s.json 2>err &&
	id=$(summary_field s.json run_id) && rd=r/.loopgate/runs/$id &&
	python3 - s.json "$rd" <<-\PY &&
	import json, sys
	s = json.load(open(sys.argv[1]))
	w = {x["name"]: x for x in s["workers"]}
	assert s["status"] == "converged" and w["right"]["winner"], s
	assert w["right"]["verified"] is True, w["right"]
	assert w["wrong"]["status"] == "stalled", w["wrong"]
	# the slow one was running when the winner was found: cancelled, its
	# call in flight on its record
	assert w["slow"]["status"] in ("interrupted", "lost"), w["slow"]
	assert w["slow"]["calls"] >= 1, w["slow"]
	assert abs(s["cost_usd"] - sum(x["cost_usd"] for x in s["workers"])) < 1e-9, s
	recs = [json.loads(l) for l in open(sys.argv[2] + "/events.jsonl")]
	starts = [r["body"] for r in recs if r["kind"] == "worker_start"]
	assert all(b["executor"] == "slurm" and b["handle"].isdigit() for b in starts), starts
	PY
	# each worker was a batch job with the key passed by name only
	for w in w1 w2 w3; do
		grep -q "^#SBATCH --export=PATH,HOME,LANG,OPENAI_API_KEY" "$rd/workers/$w.sbatch" || exit 1
	done &&
	! grep -r "$KEY" "$rd" r/.loopgate/runs/*-w*/events.jsonl &&
	# the third job waited for a CPU: only two ran at once
	python3 - "$TRASH/r-3.log" "$TRASH/r-1.log" <<-\PY &&
	import json, sys
	first3 = json.loads(open(sys.argv[1]).readline())["t"]
	first1 = json.loads(open(sys.argv[2]).readline())["t"]
	assert first3 > first1, (first1, first3)
	PY
	test "$(git -C r rev-parse "loopgate/$id")" = "$(git -C r rev-parse "loopgate/$id-w3")" &&
	for x in "$id" "$id-w1" "$id-w3"; do
		$LOOPGATE audit verify "$x" --dir r >/dev/null || exit 1
	done &&
	# loopgate rm: each job cancelled (ended ones too: scancel says nothing),
	# then the runs
	expect_code 0 $LOOPGATE rm --dir r "$id" >rm.out &&
	test "$(grep -c "^deleted slurm job [0-9]*$" rm.out)" = 3 &&
	test ! -e "$rd" && test ! -e "$rd-w1"
'

test_expect_success 'the coordinator SIGKILLed while its jobs run: resume re-attaches to them by their job ids' '
	slurm_repo k &&
	LOOPGATE_FAULT=kill:event.worker_start@3 expect_code 137 $LOOPGATE run --dir k \
		--goal "make add() add" --gate "sh test.sh" --max-iterations 20 --stall-after 2 \
		--max-output-tokens 200 --max-cost 2 >/dev/null 2>killed.err &&
	id=$(ls k/.loopgate/runs | grep -v -- "-w") &&
	# the jobs outlive their coordinator: they belong to Slurm
	test -n "$(squeue -h -o %i)" &&
	expect_code 0 $LOOPGATE resume "$id" --dir k --json >r.json 2>resumed.err &&
	test "$(summary_field r.json status)" = converged &&
	python3 - r.json "k/.loopgate/runs/$id/events.jsonl" <<-\PY
	import json, sys
	s = json.load(open(sys.argv[1]))
	recs = [json.loads(l) for l in open(sys.argv[2])]
	starts = [r["body"]["worker"] for r in recs if r["kind"] == "worker_start"]
	ends = [r["body"]["worker"] for r in recs if r["kind"] == "worker_end"]
	assert sorted(starts) == ["w1", "w2", "w3"], starts   # none submitted twice
	assert sorted(ends) == ["w1", "w2", "w3"], ends
	assert [x["worker"] for x in s["workers"] if x["winner"]] == ["w3"], s["workers"]
	PY
'

test_done
