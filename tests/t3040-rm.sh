#!/bin/sh
# `loopgate rm RUN...` (engine/run_remove.h): a run and everything it made
# goes (its workers' runs, worktrees, branches, directories, rows in the
# run store); other runs stay; a run still driven by a loopgate process is
# refused and untouched.  t8011 covers the cluster side (Kueue Jobs and the
# refs the pods pushed).
. "$(dirname "$0")/lib.sh"

SQ="'"
fix() { echo "sed -i \"s/a - b/a + b/\" calc.py"; }
# run_id FILE: the run of a --json summary
run_id() { summary_field "$1" run_id; }

test_expect_success 'a fan-out removed whole: workers, worktrees, branches, directories, store rows; another run untouched' '
	make_repo r &&
	expect_code 0 $LOOPGATE run --dir r --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "$(fix)" --json >one.json 2>err &&
	expect_code 0 $LOOPGATE run --dir r --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "$(fix)" --workers 2 --json >fan.json 2>err &&
	one=$(run_id one.json) && fan=$(run_id fan.json) &&
	test "$(git -C r worktree list | wc -l)" = 5 &&
	expect_code 0 $LOOPGATE rm --dir r "$fan" >rm.out &&
	grep -q "removed run $fan-w1" rm.out && grep -q "removed run $fan-w2" rm.out &&
	grep -q "deleted branch loopgate/$fan (was " rm.out &&
	test "$(git -C r worktree list | wc -l)" = 2 &&
	test "$(git -C r for-each-ref --format="%(refname)" refs/heads/loopgate/)" = "refs/heads/loopgate/$one" &&
	test "$(ls r/.loopgate/runs)" = "$one" &&
	$LOOPGATE runs --dir r --json >runs.json &&
	test "$(json_get runs.json "[x[\"id\"] for x in d]")" = "[${SQ}$one${SQ}]" &&
	# the logs are gone too: a reindex does not bring it back
	expect_code 0 $LOOPGATE reindex --dir r &&
	$LOOPGATE runs --dir r --json >runs2.json && cmp runs.json runs2.json &&
	expect_code 2 $LOOPGATE rm --dir r "$fan" 2>e && grep -q "no run .$fan." e
'

test_expect_success '--keep-branch keeps the result; a prefix names the run' '
	make_repo r &&
	expect_code 0 $LOOPGATE run --dir r --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "$(fix)" --json >k.json 2>err &&
	k=$(run_id k.json) && sha=$(git -C r rev-parse "loopgate/$k") &&
	expect_code 0 $LOOPGATE rm --dir r --keep-branch "${k%??}" >rm.out &&
	test "$(git -C r rev-parse "loopgate/$k")" = "$sha" &&
	! grep -q "deleted branch" rm.out && test ! -e "r/.loopgate/runs/$k"
'

test_expect_success 'a run still running is refused and left whole; once it ends it goes' '
	make_repo b &&
	# the agent says it started (the run is locked, its tree made), then
	# waits for go
	{ $LOOPGATE run --dir b --goal "make add() add" --gate "sh test.sh" \
		--agent-cmd "touch $TRASH/started; i=0; while [ ! -e $TRASH/go ] && [ \$i -lt 3000 ]; do i=\$((i+1)); sleep 0.02; done; $(fix)" \
		$TRASH_WRITABLE --json >b.json 2>b.err & } && pid=$! &&
	i=0 && until [ -e started ]; do
		i=$((i + 1)) && [ $i -lt 3000 ] || { echo "the agent never started"; break; }; sleep 0.02; done &&
	id=$(ls b/.loopgate/runs) &&
	{
		expect_code 1 $LOOPGATE rm --dir b "$id" 2>e &&
		grep -q "run $id is still running (loopgate pid $pid holds " e &&
		test -d "b/.loopgate/runs/$id/tree" &&
		touch go && wait $pid &&
		test "$(summary_field b.json status)" = converged &&
		expect_code 0 $LOOPGATE rm --dir b "$id" >rm.out &&
		test -z "$(ls b/.loopgate/runs)"
	} || {
		touch go; echo "--- rm said"; cat e rm.out 2>/dev/null
		echo "--- the run"; tail -n 5 b.err; ls -la "b/.loopgate/runs/$id"; false
	}
'

test_expect_success 'usage: no run, an unknown option' '
	make_repo r &&
	expect_code 2 $LOOPGATE rm --dir r 2>e && grep -q "which run" e &&
	expect_code 2 $LOOPGATE rm --dir r --frobnicate x 2>e2
'

test_done
