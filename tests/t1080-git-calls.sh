#!/bin/sh
# The git processes of a run that ends at its baseline (issue 16 item 4,
# docs/design/fast.md): one status (the dirty check), one checkout that
# makes the worktree whose record loopgate wrote (tree/git_worktree.c), one
# ls-files after the gates.  The work tree's top is read off .git, and a
# config with no driver to blank is not listed (git_files.c); one with a
# driver still is.  The worktree is an ordinary one, and a repository git
# must be asked about still gets `worktree add`.
. "$(dirname "$0")/lib.sh"

# $TRASH_ROOT/bin/git: logs each call's subcommand (the first argument
# after loopgate's -c pairs) to $TRASH_ROOT/git.log, then runs git.
# $TRASH_ROOT/how.log: the subcommand, whose child it is ("warden": its
# parent's parent runs the same program, loopgate; "direct": loopgate's),
# and "lock" when it holds the run lock open.
REAL_GIT=$(command -v git)
LOG=$TRASH_ROOT/git.log
HOW=$TRASH_ROOT/how.log
mkdir -p "$TRASH_ROOT/bin"
cat >"$TRASH_ROOT/bin/git" <<SH
#!/bin/sh
for a in "\$@"; do
	case \$skip in 1) skip= ; continue ;; esac
	case \$a in -c) skip=1 ;; -*) ;; *) echo "\$a" >>"$LOG"; sub=\$a; break ;; esac
done
gp=\$(cut -d" " -f4 /proc/\$PPID/stat)
if [ "\$(readlink /proc/\$gp/exe)" = "\$(readlink /proc/\$PPID/exe)" ]; then
	how=warden
else
	how=direct
fi
ls -l /proc/\$\$/fd | grep -q "/runs/[^/]*/lock\$" && how="\$how lock"
echo "\$sub \$how" >>"$HOW"
exec "$REAL_GIT" "\$@"
SH
chmod +x "$TRASH_ROOT/bin/git"

# run_logged REPO: a run that ends at its baseline, git calls logged.
run_logged() {
	rm -f "$LOG" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 0 $LOOPGATE run $TRASH_WRITABLE --dir "$1" \
		--goal g --gate true --agent-cmd true --json >"$1.json" 2>"$1.err" &&
	test "$(summary_field "$1.json" status)" = already_satisfied
}

test_expect_success 'a run that ends at its baseline: three git processes' '
	make_repo r &&
	run_logged r &&
	printf "status\ncheckout\nls-files\n" >want &&
	diff -u want "$LOG"
'

# handoff.md of a run whose branch never moved: its diff is known to be
# empty (HEAD read off the files is the base), no `git diff` is asked.
test_expect_success 'a run that halts with no commit: no git diff for handoff.md' '
	make_repo h &&
	rm -f "$LOG" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir h \
		--goal g --gate false --agent-cmd true --max-iterations 1 --json \
		>h.json 2>h.err &&
	test "$(grep -c "^diff$" "$LOG")" -le 1 &&
	grep -q "No change was committed on the run branch" \
		"$(summary_field h.json run_dir)/handoff.md"
'

# The checkout leaves the index equal to HEAD: the first staging trusts
# `add -v` for what changed, as a staging after a commit does, and asks no
# `git diff --cached`.
test_expect_success 'the first staging after the checkout: add, no diff --cached' '
	make_repo s &&
	rm -f "$LOG" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir s \
		--goal g --gate false --agent-cmd true --max-iterations 1 --json \
		>s.json 2>s.err &&
	printf "status\ncheckout\nls-files\nadd\nls-files\n" >want &&
	diff -u want "$LOG"
'

# ... and what `add -v` names is what is committed: a change the actor made
# in its first turn is the iteration's commit, whole.
test_expect_success 'the first staging after the checkout: what add names is committed' '
	make_repo c &&
	expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir c --goal g --gate false \
		--agent-cmd "echo \"# changed\" >>calc.py; echo new >new.txt" \
		--max-iterations 1 --json >c.json 2>c.err &&
	id=$(summary_field c.json run_id) &&
	git -C c show --name-only --format= "loopgate/$id" | sort >got &&
	printf "calc.py\nnew.txt\n" >want &&
	diff -u want got
'

# A model's turn with no edit block, no command run since the scan after
# the gates, every tracked file as the index has it: nothing to stage, and
# no `git add` is asked (engine/loop.c nothing_to_stage); the gate round
# after it is the cache's and nothing ran since the baseline's scan: no
# second ls-files (judge.c scan_unless_unchanged).
# model_logged REPO GATE: one iteration of a model that answers with text.
model_logged() {
	replies_json "Nothing to change." >"$1.script" &&
	url=$(start_fake "$1" "$1.script") &&
	rm -f "$LOG" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir "$1" \
		--goal g --gate "$2" --model openai/m --base-url "$url" \
		--max-iterations 1 --json >"$1.json" 2>"$1.err"
}

test_expect_success 'a model turn that changed nothing: no git add' '
	make_repo q &&
	model_logged q false &&
	printf "status\ncheckout\nls-files\n" >want &&
	diff -u want "$LOG" &&
	test "$(git -C q rev-parse "loopgate/$(summary_field q.json run_id)")" = \
		"$(git -C q rev-parse HEAD)"
'

# ... but a gate that changed a tracked file did change the tree: staged
# and committed with the turn, as before (by `commit -a`: a tracked path).
test_expect_success 'a gate changed a tracked file: the quiet turn still stages it' '
	make_repo g &&
	model_logged g "echo \"# gate\" >>calc.py; false" &&
	grep -q "^commit$" "$LOG" &&
	id=$(summary_field g.json run_id) &&
	git -C g show --name-only --format= "loopgate/$id" >got &&
	echo calc.py >want &&
	diff -u want got
'

# A model's turn whose edit blocks wrote tracked files only: one `git
# commit -a` (engine/loop.c tracked_only), no `git add`; what changed is
# read off the index and is what the commit holds; the tree is clean after.
# edit_logged REPO REPLY: one iteration of a model answering REPLY, gate false.
edit_logged() {
	replies_json "$2" >"$1.script" &&
	url=$(start_fake "$1" "$1.script") &&
	rm -f "$LOG" "$HOW" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir "$1" \
		--goal g --gate false --model openai/m --base-url "$url" \
		--max-iterations 1 --json >"$1.json" 2>"$1.err"
}
# committed REPO: the files of the run branch's commit, and of its record
committed() {
	id=$(summary_field "$1.json" run_id) &&
	git -C "$1" show --name-only --format= "loopgate/$id" | sort >"$1.got" &&
	event_bodies "$(summary_field "$1.json" run_dir)" commit >"$1.commit" &&
	json_get "$1.commit" "\"\\n\".join(sorted(d[0][\"files\"]))" >"$1.rec" &&
	test -z "$(git -C "$(summary_field "$1.json" run_dir)/tree" status --porcelain)"
}
test_expect_success 'a model edit of a tracked file: one commit -a, no add' '
	make_repo e &&
	edit_logged e "$REPLY_FIX" &&
	! grep -q "^add$" "$LOG" &&
	test "$(grep -c "^commit$" "$LOG")" = 1 &&
	grep -q "^commit direct lock$" "$HOW" &&
	committed e &&
	echo calc.py >want &&
	diff -u want e.got &&
	diff -u want e.rec &&
	git -C e show "loopgate/$(summary_field e.json run_id):calc.py" | grep -q "a + b"
'

test_expect_success 'a model edit that creates a file: add, then commit' '
	make_repo n &&
	edit_logged n "$REPLY_FIX
<<<<<<< FILE notes.txt
new
>>>>>>> END
" &&
	grep -q "^add$" "$LOG" &&
	committed n &&
	printf "calc.py\nnotes.txt\n" >want &&
	diff -u want n.got &&
	diff -u want n.rec
'

# A FILE block that rewrites a tracked file with what it holds: git finds
# nothing to commit; the usual staging then finds nothing either: no commit,
# a no-op iteration, the tree clean, no error.
test_expect_success 'a model rewrite with the same content: no commit, no error' '
	make_repo u &&
	edit_logged u "Same.

<<<<<<< FILE calc.py
$(cat u/calc.py)
>>>>>>> END
" &&
	grep -q "^commit$" "$LOG" &&
	grep -q "^add$" "$LOG" &&
	test "$(git -C u rev-parse "loopgate/$(summary_field u.json run_id)")" = \
		"$(git -C u rev-parse HEAD)" &&
	event_bodies "$(summary_field u.json run_dir)" commit >u.commit &&
	test "$(json_get u.commit "d[0][\"noop\"]")" = True &&
	test -z "$(git -C "$(summary_field u.json run_dir)/tree" status --porcelain)" &&
	test -z "$(git -C "$(summary_field u.json run_dir)/tree" diff-files --name-only)"
'

test_expect_success 'its worktree is an ordinary one: listed, clean, on the run branch, removable' '
	make_repo r &&
	run_logged r &&
	tree=$(ls -d r/.loopgate/runs/*/tree) &&
	branch=loopgate/$(ls r/.loopgate/runs) &&
	git -C r worktree list --porcelain >list &&
	grep -q "^branch refs/heads/$branch$" list &&
	! grep -q "^locked" list &&
	test -z "$(git -C "$tree" status --porcelain)" &&
	test "$(git -C "$tree" symbolic-ref HEAD)" = "refs/heads/$branch" &&
	test "$(git -C "$tree" rev-parse HEAD)" = "$(git -C r rev-parse main)" &&
	git -C r worktree remove "$tree" &&
	! git -C r worktree list --porcelain | grep -q "$branch"
'

test_expect_success 'a config with a filter driver is listed, once' '
	make_repo f &&
	git -C f config filter.x.clean cat &&
	run_logged f &&
	printf "config\nstatus\ncheckout\nls-files\n" >want &&
	diff -u want "$LOG"
'

test_expect_success 'a repository with an extension: git makes the worktree (worktree add)' '
	make_repo x &&
	git -C x config extensions.worktreeConfig true &&
	run_logged x &&
	grep -q "^worktree$" "$LOG" &&
	! grep -q "^checkout$" "$LOG" &&
	test -z "$(git -C x/.loopgate/runs/*/tree status --porcelain)"
'

test_expect_success 'from a subdirectory: the same top, still no rev-parse' '
	make_repo s && mkdir -p s/sub/dir &&
	rm -f "$LOG" &&
	(cd s/sub/dir && PATH=$TRASH_ROOT/bin:$PATH expect_code 0 $LOOPGATE run $TRASH_WRITABLE \
		--goal g --gate true --agent-cmd true --json >"$TRASH/s.json" 2>"$TRASH/s.err") &&
	test "$(summary_field s.json run_dir)" = "$(cd s && pwd -P)/.loopgate/runs/$(ls s/.loopgate/runs)" &&
	! grep -q "^rev-parse$" "$LOG"
'

# agent_logged REPO: one iteration of a command actor that changes calc.py,
# gate false, each git call's child logged to $HOW.
agent_logged() {
	rm -f "$HOW" &&
	PATH=$TRASH_ROOT/bin:$PATH expect_code 1 $LOOPGATE run $TRASH_WRITABLE --dir "$1" \
		--goal g --gate false --agent-cmd "echo x >>calc.py" --max-iterations 1 \
		--json >"$1.json" 2>"$1.err"
}
# add and commit start no process when the index lists no gitlink: they
# run without a warden (exec/warden.h warden_direct), holding the run lock
# so that a resume waits for them; with a submodule `add` may start a git
# for it, and keeps its warden.  Other calls keep theirs.
test_expect_success 'add and commit without a warden, holding the run lock' '
	make_repo d &&
	agent_logged d &&
	grep "^add " "$HOW" >got &&
	grep "^commit " "$HOW" >>got &&
	printf "add direct lock\ncommit direct lock\n" >want &&
	diff -u want got &&
	grep "^status " "$HOW" >got &&
	echo "status warden" >want &&
	diff -u want got
'

test_expect_success 'a gitlink in the index: add keeps its warden' '
	make_repo g &&
	git init -q g/sub &&
	git -C g/sub commit -q --allow-empty -m sub &&
	git -C g update-index --add --cacheinfo 160000,$(git -C g/sub rev-parse HEAD),sub &&
	git -C g commit -q -m "a submodule" &&
	agent_logged g &&
	grep "^add " "$HOW" >got &&
	echo "add warden" >want &&
	diff -u want got &&
	grep "^ls-files " "$HOW" | sort -u >got &&
	echo "ls-files warden" >want &&
	diff -u want got
'

# The scan after the gates (git_scan_start) runs in the background while the
# next turn starts; `ls-files --others` starts no process either: it runs
# without a warden too, loopgate's own child holding the run lock (the
# baseline's scan and the gate round's).
test_expect_success 'the scan after the gates without a warden, holding the run lock' '
	make_repo l &&
	agent_logged l &&
	grep "^ls-files " "$HOW" >got &&
	printf "ls-files direct lock\nls-files direct lock\n" >want &&
	diff -u want got
'

test_done
