#!/bin/sh
# Central re-verification (docs/design/reverify.md): a worker's "converged"
# is checked in a clean checkout of its commit before it counts.  The trap
# of issue 11: the actor writes an ignored, never-committed file that the
# code imports when present; the gate passes in the actor's tree and fails
# on the branch.  Each case makes its own repository.
. "$(dirname "$0")/lib.sh"

# trap_repo DIR: add() subtracts unless an ignored _local_fix.py exists.
# (The actor's reply also touches calc.py: a turn that changes only ignored
# files leaves the committed tree as it was, and its cached verdict stands.)
trap_repo() {
	make_repo "$1" && (
		cd "$1" &&
		cat >calc.py <<-'PY' &&
		try:
		    from _local_fix import add
		except ImportError:
		    def add(a, b):
		        return a - b
		PY
		printf "_local_fix.py\n" >.gitignore &&
		git add calc.py .gitignore &&
		git commit -q -m "add() from _local_fix when present"
	)
}

REPLY_IGNORED='The fix goes in a local module.

calc.py
<<<<<<< SEARCH
try:
=======
# add() comes from _local_fix when it is there
try:
>>>>>>> REPLACE

_local_fix.py
<<<<<<< SEARCH
=======
def add(a, b):
    return a + b
>>>>>>> REPLACE
'

REPLY_REAL='The committed code must add.

calc.py
<<<<<<< SEARCH
        return a - b
=======
        return a + b
>>>>>>> REPLACE
'

test_expect_success 'an ignored file the code imports: rejected in the clean checkout, then a real fix converges' '
	trap_repo t1 &&
	replies_json "$REPLY_IGNORED" "$REPLY_REAL" >s1.json &&
	url=$(start_fake f1 s1.json) &&
	expect_code 0 $LOOPGATE run --dir t1 --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --json >sum.json 2>err &&
	test "$(summary_field sum.json status)" = converged &&
	test "$(summary_field sum.json iterations)" = 2 &&
	rd=$(ls -d t1/.loopgate/runs/*) &&
	event_bodies "$rd" reverify_end >rv.json &&
	json_get rv.json "len(d)" >n && test "$(cat n)" = 2 &&
	json_get rv.json "d[0][\"passed\"]" >p0 && test "$(cat p0)" = False &&
	json_get rv.json "d[0][\"iteration\"]" >i0 && test "$(cat i0)" = 1 &&
	json_get rv.json "d[0][\"untracked\"]" >u0 && grep -q "_local_fix.py" u0 &&
	json_get rv.json "d[0][\"reason\"]" >r0 &&
	grep -q "gate 1 .sh test.sh. fails in a clean checkout of the commit (exit 1)" r0 &&
	json_get rv.json "d[1][\"passed\"]" >p1 && test "$(cat p1)" = True &&
	grep -q "iteration 1: not converged: gate 1" err &&
	# the gate raw output of the clean checkout is on record, as a file
	grep "\"kind\":\"gate_end\"" "$rd/events.jsonl" | grep "\"phase\":\"reverify\"" |
		grep -q "\"output_file\":\"iter-001/reverify/gate-1.out\"" &&
	grep -q "add(2, 3) returned -1, expected 5" "$rd/iter-001/reverify/gate-1.out" &&
	# the next prompt says why, with the clean checkout'"'"'s output
	req_field "$TRASH/f1.log" 2 "json.dumps(b)" >req2 &&
	grep -q "Your last commit did not hold" req2 &&
	grep -q "_local_fix.py" req2 &&
	grep -q "returned -1, expected 5" req2 &&
	# the branch holds by itself: a clean checkout of it passes
	git -C t1 worktree add -q --detach "$TRASH/co1" "loopgate/$(summary_field sum.json run_id)" &&
	(cd "$TRASH/co1" && sh test.sh) &&
	# nothing of the verification tree is left
	test ! -e "$rd/verify" && $LOOPGATE audit verify "$(basename "$rd")" --dir t1 >/dev/null
'

test_expect_success 'an actor that only ever passes in its own tree never converges' '
	trap_repo t2 &&
	python3 -c "import json,sys; print(json.dumps({\"replies\":[{\"content\":sys.argv[1]}],\"repeat_last\":True}))" \
		"$REPLY_IGNORED" >s2.json &&
	url=$(start_fake f2 s2.json) &&
	expect_code 1 $LOOPGATE run --dir t2 --goal "make add() add" --gate "sh test.sh" \
		--model openai/m --base-url "$url" --max-iterations 3 --json >sum2.json 2>err2 &&
	test "$(summary_field sum2.json status)" != converged &&
	rd=$(ls -d t2/.loopgate/runs/*) &&
	event_bodies "$rd" reverify_end >rv2.json &&
	json_get rv2.json "len(d) >= 1 and not any(b[\"passed\"] for b in d)" >p &&
	test "$(cat p)" = True &&
	! grep -q "\"kind\":\"run_end\".*\"status\":\"converged\"" "$rd/events.jsonl"
'

test_expect_success 'a resume after a kill during re-verification finishes it' '
	trap_repo t3 &&
	replies_json "$REPLY_REAL" >s3.json &&
	url=$(start_fake f3 s3.json) &&
	LOOPGATE_FAULT=kill:event.reverify_start@1 expect_code 137 $LOOPGATE run --dir t3 \
		--goal "make add() add" --gate "sh test.sh" --model openai/m --base-url "$url" \
		--json >/dev/null 2>&1 &&
	rd=$(ls -d t3/.loopgate/runs/*) &&
	expect_code 0 $LOOPGATE resume "$(basename "$rd")" --dir t3 --json >sum3.json 2>err3 &&
	test "$(summary_field sum3.json status)" = converged &&
	event_bodies "$rd" reverify_end >rv3.json &&
	json_get rv3.json "[b[\"passed\"] for b in d]" >p3 && test "$(cat p3)" = "[True]" &&
	test ! -e "$rd/verify"
'

test_expect_success 'a worktree another process is adding right now survives a re-verification (no worktree prune)' '
	make_repo wt &&
	# the moment inside `git worktree add` before it writes gitdir: a record
	# with nothing in it (a fan-out worker making its tree looks so to the
	# others; `git worktree prune` deleted it, and that add failed)
	mkdir -p wt/.git/worktrees/inflight &&
	echo "sed -i \"s/a - b/a + b/\" calc.py" >fixit.sh &&
	expect_code 0 $LOOPGATE run --dir wt --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/fixit.sh" --json >s.json 2>err &&
	test "$(summary_field s.json status)" = converged &&
	grep -q "\"kind\":\"reverify_end\"" "$(summary_field s.json run_dir)/events.jsonl" &&
	test -d wt/.git/worktrees/inflight
'

# lock_entries INODE: the flock entries on that inode in /proc/locks
# ("->" marks a process waiting for it)
lock_entries() {
	grep " FLOCK .*:$1 " /proc/locks || true
}
holds_lock() { lock_entries "$1" | grep -qv -- "->"; }
waits_for_lock() { lock_entries "$1" | grep -q -- "->"; }
# await TRIES CMD...: CMD every 20 ms until it succeeds, at most TRIES times
await() {
	n=$1 && shift
	until "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "gave up waiting for: $*" >&2; return 1; }
		sleep 0.02
	done
}

test_expect_success 'worktrees are made under the repository'"'"'s worktrees lock: a run waits while another holds it' '
	make_repo lk &&
	echo "sed -i \"s/a - b/a + b/\" calc.py" >fixit.sh &&
	lock=lk/.git/loopgate-worktrees.lock && : >"$lock" &&
	ino=$(stat -c %i "$lock") && mkfifo release && holder= && run= &&
	{
		# another loopgate process in the middle of a worktree add
		{ (flock 7 && exec cat release) 7>"$lock" & } && holder=$! &&
		await 500 holds_lock "$ino" &&
		{ $LOOPGATE run --dir lk --goal "make add() add" --gate "sh test.sh" \
			--agent-cmd "sh $TRASH/fixit.sh" --json >s.json 2>err & } && run=$! &&
		await 1500 waits_for_lock "$ino" &&
		# waiting: no worktree of its own yet
		test -z "$(ls lk/.loopgate/runs/*/tree/calc.py 2>/dev/null)" &&
		echo >release && wait $holder &&
		wait $run && test "$(summary_field s.json status)" = converged
	} || { kill $holder $run 2>/dev/null; cat err; false; }
'

test_done
