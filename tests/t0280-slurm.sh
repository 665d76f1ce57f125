#!/bin/sh
# The Slurm executor (issue 14, item 3) on a real one-node cluster of
# Debian's slurm-wlm and munge, started by this script in its own directory
# (tests/slurm_cluster.sh) and stopped at the end.  The fan-out engine is
# not on main yet: `loopgate dispatch` drives the backend with a test worker
# that does what a worker does by git and files: clones the shared
# repository at the base commit, commits, pushes loopgate/<run>/<worker>,
# writes its spend.  Each dispatch call is a new process that knows the job
# only by its handle: the re-attach of a resumed coordinator.
. "$(dirname "$0")/lib.sh"
. "$TEST_DIR/slurm_cluster.sh"

if ! slurm_have; then
	echo "ok 1 # skip slurm-wlm and munge are not installed (./bootstrap test installs them)"
	echo "1..1"
	exit 0
fi
trap 'slurm_stop; cleanup' EXIT
if ! slurm_start "$TRASH/slurm"; then
	echo "not ok 1 - the one-node Slurm cluster starts"
	echo "1..1"
	exit 1
fi
RUN=0123456789abcdef0123
export RUN

# The test worker: $1 worker id; blocks until $TRASH/go-$1 exists when
# asked (--hold), so that the test sees it running.
cat >"$TRASH/worker.sh" <<'SH'
#!/bin/sh
set -eu
w=$1 hold=${2:-}
echo "worker $w on $(hostname -s) key-length ${#LG_TEST_KEY}"
echo '{"cost_usd": 0.25}' >"$TRASH/spend-$w.json"
if [ "$hold" = --hold ]; then
	i=0
	while [ ! -e "$TRASH/go-$w" ]; do
		i=$((i + 1)); [ $i -lt 600 ] || exit 9; sleep 0.1
	done
fi
git clone -q "$TRASH/origin.git" "$TRASH/clone-$w"
cd "$TRASH/clone-$w"
git checkout -q "$LOOPGATE_BASE"
echo "$w" >"worker-$w.txt"
git add "worker-$w.txt"
git -c user.name=w -c user.email=w@x commit -q -m "worker $w"
git push -q origin "HEAD:refs/heads/loopgate/$RUN/$w"
echo "worker $w pushed"
SH
chmod +x "$TRASH/worker.sh"

# submit W [ARGS...]: one worker job; prints its handle
submit() {
	w=$1
	shift
	"$LOOPGATE" dispatch submit --executor slurm --run "$RUN" --worker "$w" \
		--cpus 1 --mem 64 --time 300 --secret-env LG_TEST_KEY --env TRASH \
		--env RUN --base "$BASE" --workdir "$TRASH" --log "$TRASH/$w.out" \
		--script "$TRASH/$w.sbatch" -- "$TRASH/worker.sh" "$w" "$@" >"$w.handle" &&
		json_get "$w.handle" 'd["handle"]'
}

# state_of H: the job's state word, from a fresh loopgate process
state_of() {
	"$LOOPGATE" dispatch poll --executor slurm "$1" >poll.json && json_get poll.json 'd["state"]'
}

# until_state H STATE: polls (bounded) until the job is in STATE
until_state() {
	i=0
	while [ "$(state_of "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "job $1 never reached $2: $(cat poll.json)" >&2; return 1; }
		sleep 0.05
	done
}

# until_file F: polls (bounded) until the worker wrote F
until_file() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt 300 ] || { echo "$1 never appeared" >&2; return 1; }
		sleep 0.05
	done
}

cd "$TRASH" || exit 1
make_repo src >/dev/null
git clone -q --bare src "$TRASH/origin.git"
BASE=$(git -C src rev-parse HEAD)
export BASE LG_TEST_KEY=sk-test-dont-leak-7f3a

test_expect_success 'three workers queue on 2 CPUs, run, push their branches' '
	a=$(submit a --hold) && b=$(submit b --hold) && c=$(submit c) &&
	until_state "$a" running && until_state "$b" running &&
	"$LOOPGATE" dispatch poll --executor slurm "$c" >c.json &&
	test "$(json_get c.json "d[\"state\"]")" = queued &&
	# Slurm says why: no CPU left (Resources) or behind the others (Priority)
	json_get c.json "d[\"reason\"]" | grep -E "^(Resources|Priority)$" &&
	touch "$TRASH/go-a" "$TRASH/go-b" &&
	"$LOOPGATE" dispatch wait --executor slurm --interval-ms 100 "$a" "$b" "$c" >wait.jsonl &&
	for h in "$a" "$b" "$c"; do
		python3 -c "import json,sys; l=[json.loads(x) for x in open(\"wait.jsonl\") if json.loads(x)[\"handle\"]==sys.argv[1]][-1]; assert l[\"state\"]==\"succeeded\" and l[\"exit_code\"]==0, l" "$h"
	done &&
	git -C "$TRASH/origin.git" for-each-ref --format="%(refname)" "refs/heads/loopgate/$RUN" >refs &&
	test "$(wc -l <refs)" = 3 &&
	for w in a b c; do
		git -C "$TRASH/origin.git" merge-base --is-ancestor "$BASE" "loopgate/$RUN/$w" &&
		grep -q "worker $w pushed" "$TRASH/$w.out" || return 1
	done &&
	"$LOOPGATE" dispatch log --executor slurm "$c" | grep "worker c pushed"
'

test_expect_success 'a job cancelled mid-run is reported cancelled; its spend was written' '
	h=$(submit d --hold) &&
	until_state "$h" running && until_file "$TRASH/spend-d.json" &&
	"$LOOPGATE" dispatch cancel --executor slurm "$h" &&
	"$LOOPGATE" dispatch wait --executor slurm --interval-ms 100 "$h" >wait.jsonl &&
	tail -n 1 wait.jsonl >last.json &&
	test "$(json_get last.json "d[\"state\"]")" = cancelled &&
	test "$(json_get last.json "d[\"native\"]")" = CANCELLED &&
	test "$(json_get "$TRASH/spend-d.json" "d[\"cost_usd\"]")" = 0.25 &&
	! git -C "$TRASH/origin.git" rev-parse -q --verify "loopgate/$RUN/d" &&
	# cancelling again is not an error
	"$LOOPGATE" dispatch cancel --executor slurm "$h"
'

test_expect_success 'the batch script: resources, time from the deadline, the key by name only' '
	grep -x "#SBATCH --cpus-per-task=1" "$TRASH/a.sbatch" &&
	grep -x "#SBATCH --mem=64M" "$TRASH/a.sbatch" &&
	grep -x "#SBATCH --time=5" "$TRASH/a.sbatch" &&
	grep -x "#SBATCH --output=$TRASH/a.out" "$TRASH/a.sbatch" &&
	grep -x "#SBATCH --export=PATH,HOME,LANG,LG_TEST_KEY,TRASH,RUN" "$TRASH/a.sbatch" &&
	grep "key-length 22" "$TRASH/a.out" &&
	! grep -r "$LG_TEST_KEY" "$TRASH"/*.sbatch "$TRASH"/*.handle
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
