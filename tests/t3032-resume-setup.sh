#!/bin/sh
# loopgate resume after a kill during setup and during git calls: SIGKILL
# in the middle of `git worktree add` on a repository of 3,000 files, in
# the middle of each git call of a run and of a resume, and with the
# worktree left as a crash or a power loss leaves it (a stale index.lock,
# an empty or damaged index, the "initializing" lock, a null HEAD, a tree
# half made).  No git process outlives loopgate; every run resumes to the
# uninterrupted run's result, with its spend counted once and a verifying
# log.  docs/design/resume-setup.md.
. "$(dirname "$0")/lib.sh"
ENDED=

cat >"$TRASH/lg.yaml" <<'EOF'
models:
  m:
    provider: openai
    price_in: 1000
    price_out: 2000
EOF

lg_run() {
	$LOOPGATE run --dir "$1" --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$2" --config "$TRASH/lg.yaml" --json
}

lg_resume() {
	$LOOPGATE resume "$(ls "$1/.loopgate/runs")" --dir "$1" --json
}

# big_repo DIR: make_repo with 3,000 more files (copied from one made once
# per script: lib.sh shared_setup).
big_tmpl() {
	make_repo big &&
	python3 - big <<-'PY' &&
	import os, sys
	for i in range(3000):
	    d = os.path.join(sys.argv[1], "src", "d%02d" % (i % 60))
	    os.makedirs(d, exist_ok=True)
	    with open(os.path.join(d, "f%04d.txt" % i), "w") as f:
	        f.write(("line %d of a file that makes the checkout slow\n" % i) * 40)
	PY
	git -C big add -A &&
	git -C big commit -q -m "3000 files"
}
big_repo() {
	tmpl=$(shared_setup big.tmpl big_tmpl) &&
	cp -a "$tmpl/big" "$1"
}

# no_survivors REPO: once the run lock is free (the dead run's wardens hold
# it until every process they watch is dead), no process works in REPO.
no_survivors() {
	lock=$(ls -d "$1"/.loopgate/runs/*)/lock
	i=0
	while ! flock -n -x "$lock" true; do
		i=$((i + 1))
		[ $i -lt 1000 ] || { echo "the run lock stays held" >&2; return 1; }
		sleep 0.01
	done
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null)" in
		"$1"/*) echo "survivor: $(tr '\0' ' ' <"$p/cmdline")" >&2; return 1 ;;
		esac
	done
}

# check_resumed REPO REF: resumed.json ended as REF.json did (status,
# iterations, tree, spend), the spend is the log's (every attempt, once),
# and the log verifies.
check_resumed() {
	refdir=$(ensure_reference "$2") &&
	sum=resumed.json ref=$refdir/$2
	id=$(summary_field $sum run_id)
	for k in status iterations tokens_in tokens_out cost_usd calls; do
		test "$(summary_field $sum $k)" = "$(summary_field "$ref.json" $k)" ||
			{ echo "$k: $(summary_field $sum $k), uninterrupted: $(summary_field "$ref.json" $k)" >&2; return 1; }
	done
	test -n "$ENDED" || test "$(summary_field $sum resumed)" -ge 1
	test "$(git -C "$1" rev-parse "loopgate/$id^{tree}")" = "$(cat "$ref.tree")"
	python3 - "$1/.loopgate/runs/$id/events.jsonl" $sum <<-'PY'
	import json, sys
	recs = [json.loads(l) for l in open(sys.argv[1])]
	s = json.load(open(sys.argv[2]))
	att = [r["body"] for r in recs if r["kind"] == "model_attempt"]
	chg = [r["body"]["charged"] for r in recs if r["kind"] == "resume" and r["body"]["charged"]]
	assert not chg, chg
	assert (s["tokens_in"], s["tokens_out"]) == (sum(a["tokens_in"] for a in att),
	                                             sum(a["tokens_out"] for a in att)), s
	assert s["calls"] == len(att), (s["calls"], len(att))
	assert [r["kind"] for r in recs].count("run_end") == 1 and recs[-1]["kind"] == "run_end"
	PY
	$LOOPGATE audit verify "$id" --dir "$1" >/dev/null
}

# ended_resume REPO: a run killed after its run_end record (while the CLI
# wrote handoff.md, which asks git for the diff) has nothing to resume: the
# resume says so (exit 2); its summary.json stands for resumed.json.
ended_resume() {
	grep -qs "\"kind\":\"run_end\"" "$1"/.loopgate/runs/*/events.jsonl &&
	expect_code 2 lg_resume "$1" >/dev/null 2>resumed.err &&
	grep -q "already ended (status converged): nothing to resume" resumed.err &&
	cp "$1"/.loopgate/runs/*/summary.json resumed.json
}

# reference NAME MAKE: the uninterrupted run on a repository made by MAKE.
reference() {
	reply_script wrong-then-fix >s.json &&
	$2 "$1" &&
	url=$(start_fake "$1" s.json) &&
	lg_run "$1" "$url" >"$1.json" &&
	test "$(summary_field "$1.json" status)" = converged &&
	test "$(summary_field "$1.json" iterations)" = 2 &&
	git -C "$1" rev-parse "loopgate/$(summary_field "$1.json" run_id)^{tree}" >"$1.tree"
}

# killed REPO MAKE FAULT [DELAY_MS]: a run on a repository made by MAKE,
# SIGKILLed by LOOPGATE_FAULT=FAULT; its fake server's URL in url.
killed() {
	reply_script wrong-then-fix >s.json &&
	$2 "$1" &&
	url=$(start_fake "$1" s.json) &&
	LOOPGATE_FAULT=$3 LOOPGATE_FAULT_DELAY_MS=${4:-0} expect_code 137 \
		lg_run "$1" "$url" >/dev/null 2>"$1.killed.err"
}

# ensure_reference NAME: the reference NAME (bigref, ref), made once per
# script (lib.sh shared_setup) by the first case that needs it: each case
# stands on its own, in any order.  Prints the directory holding NAME.json
# and NAME.tree.
ensure_reference() {
	case $1 in
	bigref) shared_setup bigref reference bigref big_repo ;;
	*) shared_setup ref reference ref make_repo ;;
	esac
}

test_expect_success 'the uninterrupted runs (references)' '
	ensure_reference bigref >/dev/null &&
	ensure_reference ref >/dev/null
'

# The high one: the run's worktree (its record written by loopgate, then
# one `git checkout -f -b`, tree/git_worktree.c) checks out 3,000 files;
# loopgate dies at several moments of the checkout.
for ms in 0 5 15 30 50 80 1000; do
	test_expect_success "SIGKILL ${ms} ms into the worktree checkout (3,000 files): no git survives, resumed" "
		killed big$ms big_repo kill:git.checkout $ms &&
		no_survivors \"\$TRASH/big$ms\" &&
		lg_resume big$ms >resumed.json 2>resumed.err &&
		check_resumed big$ms bigref
	"
done

# A worktree as a crash or a power loss leaves it, made by hand on a run
# killed before its first iteration: each damage repaired and recorded.
damaged() {
	killed "$1" make_repo kill:event.iteration_start@1 &&
	admin=$(sed -n "s/^gitdir: //p" "$1"/.loopgate/runs/*/tree/.git) &&
	test -d "$admin" &&
	eval "$2" &&
	lg_resume "$1" >resumed.json 2>resumed.err &&
	check_resumed "$1" ref &&
	event_bodies "$(ls -d "$1"/.loopgate/runs/*)" resume >res.json &&
	python3 -c "import json,sys; b=json.load(open(\"res.json\"))[0]; print(b[\"repaired\"])" >repaired &&
	grep -q "$3" repaired
}

test_expect_success 'an empty index (a power loss) is rebuilt' '
	damaged d-empty ": >\"\$admin/index\"" "removed a damaged index"
'

test_expect_success 'an index cut short, and one with a bad checksum, are rebuilt' '
	damaged d-cut "head -c 100 \"\$admin/index\" >x && mv x \"\$admin/index\"" "removed a damaged index" &&
	damaged d-sum "printf Z | dd of=\"\$admin/index\" bs=1 seek=40 conv=notrunc 2>/dev/null" "removed a damaged index"
'

test_expect_success 'stale index.lock, HEAD.lock, branch lock and "initializing" are cleared' '
	damaged d-locks "echo initializing >\"\$admin/locked\" && : >\"\$admin/index.lock\" &&
		: >\"\$admin/HEAD.lock\" &&
		: >d-locks/.git/refs/heads/loopgate/\$(ls d-locks/.loopgate/runs).lock" \
		"initializing.*index.lock.*HEAD.lock.*branch ref lock" &&
	! git -C d-locks worktree list --porcelain | grep -q "^locked"
'

test_expect_success 'a HEAD still holding the null id of an interrupted add is pointed back' '
	damaged d-head "printf \"%040d\n\" 0 >\"\$admin/HEAD\" && rm \"\$admin/index\"" \
		"pointed the worktree.s HEAD at the run branch"
'

test_expect_success 'a worktree git never finished (no .git, locked) is made again' '
	damaged d-half "echo initializing >\"\$admin/locked\" && rm d-half/.loopgate/runs/*/tree/.git" \
		"made the worktree again"
'

test_expect_success 'an empty run branch ref (a power loss) is set back to the recorded head' '
	damaged d-ref ": >d-ref/.git/refs/heads/loopgate/\$(ls d-ref/.loopgate/runs)" \
		"set the run branch to the recorded head"
'

# A dead run's processes (its wardens, killing what it started) hold the
# run lock for a moment after it died: resume waits for them, takes the
# lock and goes on (run_lock once returned the wait's EWOULDBLOCK after
# getting the lock: exit 2 "without saying why").
test_expect_success 'a lock a dead run still holds for a moment: resume waits and goes on' '
	killed lk make_repo kill:event.iteration_start@1 &&
	no_survivors "$TRASH/lk" &&
	lock=$(ls -d lk/.loopgate/runs/*)/lock &&
	dead=$(sh -c "echo \$\$") &&
	echo "$dead" >"$lock" &&
	flock -x "$lock" sh -c "touch held; sleep 0.5" &
	holder=$! &&
	while [ ! -f held ]; do sleep 0.01; done &&
	lg_resume lk >resumed.json 2>resumed.err &&
	wait $holder &&
	check_resumed lk ref
'

# Every git call of a run, in turn: loopgate dies while git N runs
# (LOOPGATE_FAULT=kill:git@N), until a run makes fewer than N calls.
test_expect_success 'SIGKILL during each git call of a run, each resumed' '
	n=1 &&
	while [ $n -le 80 ]; do
		reply_script wrong-then-fix >s.json &&
		make_repo g$n &&
		url=$(start_fake g$n s.json) &&
		set +e &&
		LOOPGATE_FAULT=kill:git@$n lg_run g$n "$url" >g.json 2>g.err
		code=$? &&
		set -e &&
		if [ $code = 0 ]; then break; fi &&
		test $code = 137 &&
		if ! grep -qs "\"kind\":\"run_start\"" g$n/.loopgate/runs/*/events.jsonl; then
			# died before the run began: nothing to resume, and it says so
			test ! -d g$n/.loopgate/runs ||
				expect_code 2 lg_resume g$n >/dev/null 2>resumed.err
		else
			no_survivors "$TRASH/g$n" &&
			if grep -qs "\"kind\":\"run_end\"" g$n/.loopgate/runs/*/events.jsonl; then
				ended_resume g$n && ENDED=1 && check_resumed g$n ref && ENDED=
			else
				lg_resume g$n >resumed.json 2>resumed.err &&
				check_resumed g$n ref
			fi
		fi || { echo "killed at git call $n" >&2; cat resumed.err >&2; exit 1; }
		n=$((n + 1))
	done &&
	echo "$n git calls" &&
	test $n -gt 10
'

# A resume killed during each of its git calls, one resume after the
# other on the same run, right after the previous one died.
test_expect_success 'SIGKILL during each git call of a resume, one after the other' '
	killed chain make_repo kill:event.commit@1 &&
	LOOPGATE_FAULT=kill:event.resume@1 expect_code 137 lg_resume chain >/dev/null 2>&1 &&
	n=1 &&
	while [ $n -le 80 ]; do
		set +e &&
		LOOPGATE_FAULT=kill:git@$n lg_resume chain >resumed.json 2>resumed.err
		code=$? &&
		set -e &&
		if [ $code = 0 ]; then break; fi &&
		if [ $code = 2 ]; then ended_resume chain && break; fi &&
		test $code = 137 || { cat resumed.err >&2; exit 1; }
		n=$((n + 1))
	done &&
	test $n -gt 5 &&
	check_resumed chain ref &&
	test "$(summary_field resumed.json resumed)" -ge 3
'

test_done
