#!/bin/sh
# The Slurm executor (issue 14, item 3) on a real one-node cluster of
# Debian's slurm-wlm and munge, started by this script in its own directory
# (tests/slurm_cluster.sh) and stopped at the end.  Three workers, each a
# real `loopgate run` against the fake model started through
# tools/loopgate-worker (clone at the base commit, run, push the branch and
# the signed log), queue on 2 CPUs: one fixes the bug, one never does, one
# is cancelled mid-run.  The fan-out engine is not on main yet: the test
# drives the backend with `loopgate dispatch` and does the coordinator's
# part itself (re-verify each pushed branch in a clean checkout, add up
# the spend from the workers' logs).  Each dispatch call is a new process
# that knows a job only by its handle: a resumed coordinator's re-attach.
# Its cases are steps of one scenario on one cluster (lib.sh TEST_STEPS):
# the three jobs submitted in case 1 are cancelled, verified and inspected by the cases after it.
TEST_STEPS=1
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/slurm_cluster.sh"

slurm_test_cluster
WORKER=$TEST_DIR/../tools/loopgate-worker
RUN=0123456789abcdef0123
KEY=sk-slurm-test-never-logged-51d2
export RUN WORKER

cd "$TRASH" || exit 1
make_repo src >/dev/null
cat >src/loopgate.yaml <<-YAML
models:
  openai/priced:
    price_in: 10
    price_out: 20
YAML
git -C src add loopgate.yaml && git -C src commit -qm "a priced model"
git clone -q --bare src "$TRASH/origin.git"
BASE=$(git -C src rev-parse HEAD)
export BASE
# the workers' models: a fixes add(), b never does, c answers once, then hangs
reply_script fix >fix.json
reply_script wrong-forever >wrong.json
python3 -c 'import json,sys; print(json.dumps({"replies":[{"content":sys.argv[1]},{"content":sys.argv[1],"delay_ms":120000}]}))' "$REPLY_WRONG" >slow.json
URL_A=$(start_fake a fix.json) && URL_B=$(start_fake b wrong.json) &&
	URL_C=$(start_fake c slow.json) || exit 1

# The job's command: held until $TRASH/go-W exists (so that the test sees
# it running), then tools/loopgate-worker with `loopgate run`.
cat >"$TRASH/job.sh" <<'SH'
#!/bin/sh
w=$1 url=$2 hold=$3
if [ "$hold" = hold ]; then
	i=0
	while [ ! -e "$TRASH/go-$w" ]; do
		i=$((i + 1)); [ $i -lt 1200 ] || exit 9; sleep 0.05
	done
fi
LOOPGATE_WORKDIR=$TRASH/work-$w exec "$WORKER" "$LOOPGATE" run --goal "make add() add" \
	--gate "sh test.sh" --model openai/priced --base-url "$url" \
	--max-iterations 2 --max-cost 1 --max-output-tokens 200 --json
SH
chmod +x "$TRASH/job.sh"

# submit W URL HOLD: one worker job (1 CPU); prints its handle
submit() {
	OPENAI_API_KEY=$KEY "$LOOPGATE" dispatch submit --executor slurm --run "$RUN" \
		--worker "$1" --cpus 1 --mem 64 --time 300 --secret-env OPENAI_API_KEY \
		--env TRASH --env LOOPGATE --env WORKER --repo "$TRASH/origin.git" \
		--base "$BASE" --workdir "$TRASH" --log "$TRASH/$1.out" \
		--script "$TRASH/$1.sbatch" -- "$TRASH/job.sh" "$1" "$2" "$3" >"$1.handle" &&
		json_get "$1.handle" 'd["handle"]'
}
# state_of H: the job's state word, from a fresh loopgate process
state_of() {
	"$LOOPGATE" dispatch poll --executor slurm "$1" >poll.json && json_get poll.json 'd["state"]'
}
# until_state H STATE / until_grep PATTERN FILE: polls, bounded
until_state() {
	i=0
	while [ "$(state_of "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || { echo "job $1 never reached $2: $(cat poll.json)" >&2; return 1; }
		sleep 0.05
	done
}
# until_grep TEXT GLOB: waits (bounded: 2 minutes) until a file GLOB names
# holds TEXT; GLOB is expanded on each look (the file may not exist yet)
until_grep() {
	i=0
	# shellcheck disable=SC2086
	while ! grep -q "$1" $2 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 2400 ] || { echo "never saw $1 in $2" >&2; return 1; }
		sleep 0.05
	done
}
# last_of H FILE: the last line of a wait's output about job H
last_of() {
	python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[2]) if json.loads(l)["handle"]==sys.argv[1]][-1]))' "$1" "$2"
}

test_expect_success 'three loopgate workers queue on 2 CPUs, run, push their branches and logs' '
	a=$(submit a "$URL_A" hold) && b=$(submit b "$URL_B" hold) && c=$(submit c "$URL_C" go) &&
	echo "$a $b $c" >handles &&
	until_state "$a" running && until_state "$b" running &&
	"$LOOPGATE" dispatch poll --executor slurm "$c" >c.json &&
	test "$(json_get c.json "d[\"state\"]")" = queued &&
	# Slurm says why: no CPU left (Resources) or behind the others (Priority)
	json_get c.json "d[\"reason\"]" | grep -E "^(Resources|Priority)$" &&
	touch "$TRASH/go-a" "$TRASH/go-b" &&
	"$LOOPGATE" dispatch wait --executor slurm --interval-ms 100 "$a" "$b" >wait.jsonl &&
	last_of "$a" wait.jsonl >a.json && last_of "$b" wait.jsonl >b.json &&
	test "$(json_get a.json "d[\"state\"]")" = succeeded &&
	# b ran out of iterations: loopgate exit 1, a failed job with its code
	test "$(json_get b.json "d[\"state\"]")" = failed &&
	test "$(json_get b.json "d[\"exit_code\"]")" = 1 &&
	for w in a b; do
		git -C origin.git rev-parse -q --verify "refs/heads/loopgate/$RUN/$w" &&
		git -C origin.git merge-base --is-ancestor "$BASE" "loopgate/$RUN/$w" &&
		git -C origin.git rev-parse -q --verify "refs/loopgate/$RUN/$w/log" || return 1
	done &&
	"$LOOPGATE" dispatch log --executor slurm "$a" | grep "loopgate-worker: a exited 0; pushed loopgate/$RUN/a"
'

test_expect_success 'a job cancelled mid-run is reported cancelled; its spend so far is in its log' '
	c=$(cut -d" " -f3 handles) &&
	until_state "$c" running &&
	# its first iteration ended (charged); its second model call hangs
	until_grep "\"iteration_end\"" "$TRASH/work-c/.loopgate/runs/*/events.jsonl" &&
	"$LOOPGATE" dispatch cancel --executor slurm "$c" &&
	"$LOOPGATE" dispatch wait --executor slurm --interval-ms 100 "$c" >wait.jsonl &&
	last_of "$c" wait.jsonl >c.json &&
	test "$(json_get c.json "d[\"state\"]")" = cancelled &&
	test "$(json_get c.json "d[\"native\"]")" = CANCELLED &&
	! git -C origin.git rev-parse -q --verify "refs/heads/loopgate/$RUN/c" &&
	"$LOOPGATE" dispatch cancel --executor slurm "$c"
'

test_expect_success 'the coordinator'"'"'s part: re-verify each branch clean, the spend from every log' '
	# a clean checkout of each pushed branch, the gate run there
	for w in a b; do
		git clone -q origin.git "verify-$w" &&
		git -C "verify-$w" checkout -q "loopgate/$RUN/$w" &&
		(cd "verify-$w" && sh test.sh) >"verify-$w.out" 2>&1; echo $? >"verify-$w.rc"
	done &&
	test "$(cat verify-a.rc)" = 0 && test "$(cat verify-b.rc)" = 1 &&
	# logs: a and b from their pushed log refs, c (killed before pushing)
	# from the shared filesystem; each verifies, each charged
	for w in a b; do
		mkdir -p "log-$w" &&
		git -C origin.git archive "refs/loopgate/$RUN/$w/log" | tar -x -C "log-$w" || return 1
	done &&
	ev_a=$(ls log-a/.loopgate/runs/*/events.jsonl) && ev_b=$(ls log-b/.loopgate/runs/*/events.jsonl) &&
	ev_c=$(ls "$TRASH"/work-c/.loopgate/runs/*/events.jsonl) &&
	# (the worker that was killed has no final checkpoint: intact so far)
	for ev in "$ev_a" "$ev_b" "$ev_c"; do
		"$LOOPGATE" audit verify "$ev" || return 1
	done &&
	test "$(json_get "$(dirname "$ev_a")/summary.json" "d[\"status\"]")" = converged &&
	test "$(json_get "$(dirname "$ev_b")/summary.json" "d[\"status\"]")" = budget_exhausted &&
	python3 - "$ev_a" "$ev_b" "$ev_c" <<-PY
	import json, sys
	total = 0
	for path in sys.argv[1:]:
	    spent = 0
	    for l in open(path):
	        r = json.loads(l)
	        if r["kind"] == "model_attempt":
	            spent += r["body"].get("cost_usd", 0) or 0
	    assert spent > 0, (path, "no spend")
	    total += spent
	assert 0 < total <= 3.0, total
	print("spend", total)
	PY
'

test_expect_success 'the batch script: resources, time from the deadline, the key by name only' '
	grep -x "#SBATCH --cpus-per-task=1" a.sbatch &&
	grep -x "#SBATCH --mem=64M" a.sbatch &&
	grep -x "#SBATCH --time=5" a.sbatch &&
	grep -x "#SBATCH --output=$TRASH/a.out" a.sbatch &&
	grep -x "#SBATCH --export=PATH,HOME,LANG,OPENAI_API_KEY,TRASH,LOOPGATE,WORKER" a.sbatch &&
	grep -x "LOOPGATE_REPO=.$TRASH/origin.git.; export LOOPGATE_REPO" a.sbatch &&
	# the key reached the worker (the model saw it) and nothing else
	test "$(req_field a.log 1 "h.get(\"authorization\")")" = "Bearer $KEY" &&
	! grep -r "$KEY" ./*.sbatch ./*.handle ./*.out log-a log-b work-c/.loopgate
'

test_expect_success 'a job Slurm does not know is lost; a refused submit says why' '
	"$LOOPGATE" dispatch poll --executor slurm 999999 >lost.json &&
	test "$(json_get lost.json "d[\"state\"]")" = lost &&
	expect_code 3 "$LOOPGATE" dispatch submit --executor slurm --partition nosuch \
		--run "$RUN" --worker e --script "$TRASH/e.sbatch" -- true 2>err &&
	grep "sbatch exited 1: .*nvalid partition" err &&
	expect_code 2 "$LOOPGATE" dispatch poll --executor slurm "12; rm -rf /" 2>err &&
	grep "not a Slurm job id" err
'

test_done
