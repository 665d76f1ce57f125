#!/bin/sh
# SIGINT and SIGTERM end a run from every phase: setup (the worktree),
# the baseline gate, a model call, the command actor's turn, an iteration's
# gate, the commit.  Each phase is held by something slow (a git wrapper, a
# blocking gate or actor, the fake server's delay) and detected from
# events.jsonl or a marker, never by sleeping; the run must end within a
# few seconds, exit 1, status interrupted, handoff written, the log sealed
# (run_end last), and no child left behind.
. "$(dirname "$0")/lib.sh"

# slow_git: $TRASH/bin/git, a git that is slow where the test wants it:
# setup (the worktree) or commit, as the case's file slowgit says (loopgate
# gives git a fixed environment); it marks the phase in $TRASH/m.
REAL_GIT=$(command -v git)
slow_git() {
	mkdir -p "$TRASH/bin" "$TRASH/m" &&
	cat >"$TRASH/bin/git" <<SH &&
#!/bin/sh
mode=\$(cat "$TRASH/slowgit" 2>/dev/null)
case " \$* " in
*" worktree add "* | *" checkout -q -f -b "*) [ "\$mode" = setup ] && { touch "$TRASH/m/setup"; sleep 1; } ;;
*" commit "*) [ "\$mode" = commit ] && { touch "$TRASH/m/commit"; sleep 1; } ;;
esac
exec "$REAL_GIT" "\$@"
SH
	chmod +x "$TRASH/bin/git"
}

# wait_for WHAT REPO: until the phase shows (at most 30 s).
wait_for() {
	i=0
	while [ $i -lt 3000 ]; do
		ev=$(ls "$2"/.loopgate/runs/*/events.jsonl 2>/dev/null | head -n 1)
		case $1 in
		setup | commit) [ -f "$TRASH/m/$1" ] && return 0 ;;
		baseline) [ -n "$ev" ] && grep -q '"kind":"gate_start"' "$ev" && return 0 ;;
		model) [ -n "$ev" ] && grep -q '"kind":"model_request"' "$ev" && return 0 ;;
		actor) [ -n "$ev" ] && grep -q '"kind":"actor_start"' "$ev" && return 0 ;;
		gate) [ -n "$ev" ] && [ "$(grep -c '"kind":"gate_start"' "$ev")" -ge 2 ] && return 0 ;;
		esac
		i=$((i + 1))
		sleep 0.01
	done
	echo "phase $1 never came" >&2
	return 1
}

# interrupt SIG PHASE ARGS...: runs loopgate, signals it in PHASE, checks.
interrupt() {
	sig=$1 phase=$2
	shift 2
	repo=r-$sig-$phase
	make_repo $repo
	slow_git
	rm -f "$TRASH/m/"*
	[ $phase = setup ] || [ $phase = commit ] || rm -f "$TRASH/slowgit"
	set +e
	PATH=$TRASH/bin:$PATH $LOOPGATE run $TRASH_WRITABLE --dir $repo --goal g --json "$@" \
		>$repo.json 2>$repo.err &
	lg=$!
	wait_for $phase $repo || { kill -KILL $lg; return 1; }
	t0=$(date +%s%N)
	kill -$sig $lg
	wait $lg
	rc=$?
	t1=$(date +%s%N)
	set -e
	ms=$(((t1 - t0) / 1000000))
	echo "$sig in $phase: exit $rc after $ms ms"
	test $rc = 1 &&
	test $ms -lt 4000 &&
	test "$(summary_field $repo.json status)" = interrupted &&
	run_dir=$(summary_field $repo.json run_dir) &&
	test -f "$run_dir/handoff.md" &&
	grep -q interrupted "$run_dir/handoff.md" &&
	tail -n 1 "$run_dir/events.jsonl" | grep -q '"kind":"run_end"' &&
	$LOOPGATE audit verify "$run_dir" >/dev/null
}

mark=300.$$
BLOCK="sh test.sh; exec sleep $mark"
for sig in INT TERM; do
	test_expect_success "SIG$sig during setup (the worktree's checkout)" '
		echo setup >slowgit && interrupt '$sig' setup --gate "sh test.sh" --agent-cmd true
	'
	test_expect_success "SIG$sig during the baseline gate" '
		interrupt '$sig' baseline --gate "$BLOCK" --agent-cmd true
	'
	test_expect_success "SIG$sig during a model call" '
		echo "{\"replies\": [{\"content\": \"x\", \"delay_ms\": 60000}]}" >slow-'$sig'.json &&
		url=$(start_fake slow'$sig' slow-'$sig'.json) &&
		interrupt '$sig' model --gate "sh test.sh" --model openai/m --base-url "$url"
	'
	test_expect_success "SIG$sig during the actor turn" '
		interrupt '$sig' actor --gate "sh test.sh" --agent-cmd "sleep $mark"
	'
	test_expect_success "SIG$sig during an iteration gate" '
		interrupt '$sig' gate --gate "test -f block && exec sleep $mark; sh test.sh" \
			--agent-cmd "touch block"
	'
	test_expect_success "SIG$sig during the commit" '
		echo commit >slowgit && interrupt '$sig' commit --gate "sh test.sh" --agent-cmd "touch new.txt"
	'
done

test_expect_success 'no child outlived its run' '
	! pgrep -f "sleep $mark"
'

test_done
