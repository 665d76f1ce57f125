#!/bin/sh
# One sandbox per run (issue 16, item 1; docs/design/onejail.md): with
# sandbox_mode: per-run bubblewrap starts once, and each spawn inside it
# still starts clean: nothing one leaves behind is visible to the next.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TRASH/oj" && REPORT=$TRASH/oj/report.txt

# leave.sh: a gate that leaves a daemon (double-forked, holding a unix
# socket in /tmp and an abstract one), files in /tmp and /dev/shm and a
# SysV shared memory segment, and says so once all of them exist.
cat >"$TRASH/oj/leave.sh" <<EOF
#!/bin/sh
echo left >/tmp/left-file && echo left >/dev/shm/left-shm &&
ipcmk -M 4099 >/dev/null || exit 1
(setsid python3 -c '
import socket, time
s = socket.socket(socket.AF_UNIX); s.bind("/tmp/left.sock"); s.listen(1)
a = socket.socket(socket.AF_UNIX); a.bind("\0loopgate-left"); a.listen(1)
open("/tmp/daemon-up", "w").close()
time.sleep(4242.5)
' </dev/null >/dev/null 2>&1 &)
i=0
while [ ! -e /tmp/daemon-up ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i + 1)); done
test -S /tmp/left.sock && test -e /dev/shm/left-shm && ipcs -m | grep -q 4099 &&
	ps -eo args | grep -q "[4]242.5" && echo "leave: all made" >>$REPORT
exit 0
EOF
# check.sh WHO: what this spawn sees of them, one line in the report.
cat >"$TRASH/oj/check.sh" <<EOF
#!/bin/sh
seen=
[ -e /tmp/left-file ] && seen="\$seen tmp-file"
[ -e /dev/shm/left-shm ] && seen="\$seen shm-file"
[ -e /tmp/left.sock ] && seen="\$seen tmp-socket"
ipcs -m | grep -q 4099 && seen="\$seen sysv-shm"
ps -eo args | grep -q "[4]242.5" && seen="\$seen daemon"
python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("\0loopgate-left")' 2>/dev/null &&
	seen="\$seen abstract-socket"
echo "\$1:\${seen:- none}" >>$REPORT
EOF

# per_run DIR [MORE CONFIG]: a repository whose loopgate.yaml asks for it.
per_run() {
	make_repo "$1" &&
	printf "sandbox_mode: per-run\n%s" "${2:-}" >"$1/loopgate.yaml" &&
	git -C "$1" add loopgate.yaml && git -C "$1" commit -qm cfg
}

test_expect_success 'the next gate and the actor see nothing a gate left behind' '
	per_run iso &&
	rm -f "$REPORT" &&
	expect_code 1 $LOOPGATE run --dir iso --goal g --gate "sh $TRASH/oj/leave.sh" \
		--gate "sh $TRASH/oj/check.sh gate" --gate "sh test.sh" \
		--agent-cmd "sh $TRASH/oj/check.sh actor" --max-iterations 1 --json \
		$TRASH_WRITABLE >iso.sum 2>iso.err &&
	run_dir=$(summary_field iso.sum run_dir) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"mode\"]")" = per-run &&
	grep -q "^leave: all made$" "$REPORT" &&
	grep -q "^gate: none$" "$REPORT" &&
	grep -q "^actor: none$" "$REPORT" &&
	! grep -v -e "^leave: all made$" -e ": none$" "$REPORT" &&
	! pgrep -f "time.sleep.4242" >/dev/null
'

# A spawn's namespaces are made ahead (spawner.c, the standby): when a
# gate's request comes, its PID namespace and its init exist already, made
# when the previous spawn was handed on.  init_age.sh: how many clock
# ticks the spawn's init (pid 1) is older than the gate's own shell.
cat >"$TRASH/oj/init_age.sh" <<'EOF'
#!/bin/sh
echo $(( $(awk '{print $22}' /proc/self/stat) - $(awk '{print $22}' /proc/1/stat) )) >init-age.txt
test "$(cat /proc/1/comm)" = init
EOF

test_expect_success 'the next spawn'"'"'s namespaces are ready before its request' '
	per_run ahead &&
	expect_code 1 $LOOPGATE run --dir ahead --goal g --gate "sleep 0.6" \
		--gate "sh $TRASH/oj/init_age.sh" --gate "sh test.sh" --agent-cmd true \
		--max-iterations 1 --json $TRASH_WRITABLE >ahead.sum 2>ahead.err &&
	run_dir=$(summary_field ahead.sum run_dir) &&
	age=$(cat "$run_dir/tree/init-age.txt") &&
	ticks=$(getconf CLK_TCK) &&
	test "$age" -ge $((ticks / 2))
'

# What a spawn made ahead copied is the jail's mount table of that moment:
# a mount the host adds meanwhile (propagated into the jail) must be there
# for the next spawn as for one made at its request.  mounted.sh LOOPGATE:
# in a mount namespace of its own whose mounts propagate, a run whose first
# gate asks for a tmpfs on the tree's mnt/ (made from outside while it
# waits) and whose second gate lists it.
cat >"$TRASH/oj/mounted.sh" <<'EOF'
lg=$1
(i=0
while [ ! -e mnt-repo/.loopgate/runs/*/tree/ask ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
t=$(echo mnt-repo/.loopgate/runs/*/tree) &&
	mount -t tmpfs none "$t/mnt" && echo seen >"$t/mnt/marker" && touch "$t/done") &
$lg run --dir mnt-repo --goal g --agent-cmd true --max-iterations 1 --json \
	--gate "touch ask; i=0; while [ ! -e done ] && [ \$i -lt 1000 ]; do sleep 0.01; i=\$((i + 1)); done" \
	--gate "cat mnt/marker >seen.txt" --gate "sh test.sh" >mounted.sum 2>mounted.err
echo $? >mounted.rc
wait
umount mnt-repo/.loopgate/runs/*/tree/mnt
EOF

test_expect_success 'a mount the host adds between two spawns is seen by the second' '
	per_run mnt-repo &&
	mkdir mnt-repo/mnt && touch mnt-repo/mnt/.keep &&
	git -C mnt-repo add mnt && git -C mnt-repo commit -qm mnt &&
	unshare -m --propagation shared sh "$TRASH/oj/mounted.sh" "$LOOPGATE" &&
	test "$(cat mounted.rc)" = 1 &&
	test "$(cat mnt-repo/.loopgate/runs/*/tree/seen.txt)" = seen
'

# A bwrap that counts its sandboxes (not `--version`).
cat >"$TRASH/oj/bwrap" <<EOF
#!/bin/sh
case " \$* " in *" --version "*) ;; *) echo x >>"$TRASH/oj/bwrap.count" ;; esac
exec bwrap "\$@"
EOF
chmod +x "$TRASH/oj/bwrap"

test_expect_success 'bubblewrap starts once per run: probe, gates and actor turns included' '
	per_run once "bwrap: $TRASH/oj/bwrap
" &&
	rm -f "$TRASH/oj/bwrap.count" &&
	expect_code 1 $LOOPGATE run --dir once --goal g --gate "true" --gate "sh test.sh" \
		--agent-cmd "echo 1 >>turns.txt" --max-iterations 3 --json >once.sum 2>once.err &&
	test "$(wc -l <"$TRASH/oj/bwrap.count")" -eq 1
'

test_expect_success 'per-spawn starts one per spawn: the counter counts' '
	make_repo each &&
	printf "bwrap: %s\nsandbox_mode: per-spawn\n" "$TRASH/oj/bwrap" >each/loopgate.yaml &&
	git -C each add loopgate.yaml && git -C each commit -qm cfg &&
	rm -f "$TRASH/oj/bwrap.count" &&
	expect_code 1 $LOOPGATE run --dir each --goal g --gate "true" --gate "sh test.sh" \
		--agent-cmd "echo 1 >>turns.txt" --max-iterations 3 --json >each.sum 2>each.err &&
	test "$(wc -l <"$TRASH/oj/bwrap.count")" -ge 5 &&
	run_dir=$(summary_field each.sum run_dir) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"mode\"]")" = per-spawn
'

test_expect_success 'exit codes and signals come through as they are; a timeout kills the tree' '
	per_run codes &&
	expect_code 1 $LOOPGATE run --dir codes --goal g --gate "exit 130" --agent-cmd true \
		--max-iterations 1 --json >c1.sum 2>c1.err &&
	event_bodies "$(summary_field c1.sum run_dir)" gate_end >c1.json &&
	test "$(json_get c1.json "d[0][\"describe\"]")" = "exit 130" &&
	expect_code 1 $LOOPGATE run --dir codes --goal g --gate "kill -TERM \$\$" \
		--agent-cmd true --max-iterations 1 --json >c2.sum 2>c2.err &&
	event_bodies "$(summary_field c2.sum run_dir)" gate_end >c2.json &&
	json_get c2.json "d[0][\"describe\"]" | grep -q "^killed by signal 15" &&
	per_run slow "gate_timeout: 1
" &&
	expect_code 1 $LOOPGATE run --dir slow --goal g --agent-cmd true \
		--gate "(setsid sleep 4243.5 &); sleep 4243.5" --max-iterations 1 \
		--json >slow.sum 2>slow.err &&
	event_bodies "$(summary_field slow.sum run_dir)" gate_end >slow.json &&
	json_get slow.json "d[0][\"describe\"]" | grep -q "timed out" &&
	! pgrep -f "^sleep 4243.5" >/dev/null
'

# A bwrap that refuses what the jail needs: the run falls back to one
# sandbox per spawn, and says so.
cat >"$TRASH/oj/nocap" <<EOF
#!/bin/sh
case " \$* " in *" --cap-add "*) echo "bwrap: no --cap-add here" >&2; exit 1 ;; esac
exec bwrap "\$@"
EOF
chmod +x "$TRASH/oj/nocap"

test_expect_success 'a jail that cannot start: per-spawn, recorded in the sandbox event' '
	per_run fb "bwrap: $TRASH/oj/nocap
" &&
	expect_code 1 $LOOPGATE run --dir fb --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 --json >fb.sum 2>fb.err &&
	run_dir=$(summary_field fb.sum run_dir) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"mode\"]")" = per-spawn &&
	json_get sb.json "d[0][\"mode_note\"]" >note &&
	grep -q "did not start" note &&
	grep -q "no --cap-add here" note
'

# gone PATTERN: no process matches PATTERN, polled for at most 10 s.
gone() {
	i=0
	while pgrep -f "$1" >/dev/null; do
		i=$((i + 1))
		[ $i -lt 1000 ] || { pgrep -af "$1" >&2; return 1; }
		sleep 0.01
	done
}

# A bwrap that starts the jail without CAP_SYS_ADMIN: the spawner is up,
# but no spawn can make its namespaces: the probe says so, per-spawn.
cat >"$TRASH/oj/noadmin" <<EOF
#!/bin/sh
for a in "\$@"; do
	shift
	[ "\$a" = CAP_SYS_ADMIN ] && a=CAP_CHOWN
	set -- "\$@" "\$a"
done
exec bwrap "\$@"
EOF
chmod +x "$TRASH/oj/noadmin"

test_expect_success 'a jail whose spawns fail at the probe: per-spawn, recorded' '
	per_run na "bwrap: $TRASH/oj/noadmin
" &&
	expect_code 1 $LOOPGATE run --dir na --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 --json >na.sum 2>na.err &&
	run_dir=$(summary_field na.sum run_dir) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"mode\"]")" = per-spawn &&
	json_get sb.json "d[0][\"mode_note\"]" | grep -q "spawns in the per-run sandbox fail"
'

# held_gate DIR S: a run in DIR whose gate leaves a setsid `sleep S` and
# then becomes `sleep S` itself; returns once the gate runs, loopgate's pid
# in $lg.
held_gate() {
	per_run "$1" &&
	rm -f "$TRASH/oj/gate-up" &&
	{ $LOOPGATE run --dir "$1" --goal g --agent-cmd true --max-iterations 1 \
		--gate "(setsid sleep $2 &); touch $TRASH/oj/gate-up; exec sleep $2" \
		$TRASH_WRITABLE >"$1.sum" 2>"$1.err" & } &&
	lg=$! &&
	i=0 &&
	while [ ! -e "$TRASH/oj/gate-up" ] && [ $i -lt 3000 ]; do i=$((i + 1)); sleep 0.01; done
}

test_expect_success 'loopgate SIGKILLed mid-gate: the jail and everything in it die' '
	held_gate dead 4244.5 &&
	test "$(pgrep -fc "^sleep 4244.5")" -eq 2 &&
	kill -KILL $lg &&
	{ wait $lg || :; } &&
	gone "^sleep 4244.5" && gone "$TRASH/dead"
'

# warden.h: a warden that lives as long as the run re-execs loopgate, so
# it holds none of the pages loopgate dirties later, and keeps only the
# run lock of loopgate's descriptors; neither it nor the spawner loads
# libcrypto, which only loopgate itself needs (base/crypto_api.h).
# lean_seen LOOPGATE_PID: what the case below checks while its gate runs.
lean_seen() {
	w=$(pgrep -f "^loopgate __warden $1 [0-9]+\$") &&
	test "$(cat /proc/$w/comm)" = loopgate-warden &&
	ls -l /proc/$w/fd >wfd.txt &&
	grep -q "lean/.loopgate/runs/.*/lock\$" wfd.txt &&
	ls -l /proc/$1/fd | grep -q "events.jsonl\$" &&
	! grep -q "events.jsonl" wfd.txt &&
	test "$(pgrep -fc "^sleep 4245.5")" -eq 2 &&
	sp=$(ps -eo pid=,ppid=,args= | awk -v top=$w "
		{ up[\$1] = \$2; if (\$3 ~ /loopgate\$/ && \$4 == \"__spawner\") s[\$1] = 1 }
		END { for (p in s) for (q = p; q > 1; q = up[q]) if (up[q] == top) print p }") &&
	test -n "$sp" &&
	grep -q "libcrypto" /proc/$1/maps &&
	! grep -q "libcrypto" /proc/$w/maps &&
	! grep -q "libcrypto" /proc/$sp/maps
}

test_expect_success 'the jail'"'"'s warden is re-exec'"'"'d: the run lock only, and it still kills the jail' '
	held_gate lean 4245.5 &&
	{ lean_seen $lg; seen=$?; } &&
	kill -KILL $lg &&
	{ wait $lg || :; } &&
	gone "^sleep 4245.5" && gone "^loopgate __warden $lg " &&
	test $seen -eq 0
'

# The jail starts while git checks the run's tree out (docs/design/fast.md,
# session 11): for the tree as it is before the checkout, kept when the
# files checked out give it nothing new.  Killed in the checkout, the jail
# started meanwhile dies with loopgate, and the run resumes.
test_expect_success 'SIGKILLed in the checkout: the jail started meanwhile dies too; resumed' '
	per_run ck "bwrap: $TRASH/oj/bwrap
" &&
	rm -f "$TRASH/oj/bwrap.count" &&
	LOOPGATE_FAULT=kill:git.checkout LOOPGATE_FAULT_DELAY_MS=0 expect_code 137 \
		$LOOPGATE run --dir ck --goal g --gate "sh test.sh" --agent-cmd true \
		--max-iterations 1 --json >ck.sum 2>ck.err &&
	test "$(wc -l <"$TRASH/oj/bwrap.count")" -eq 1 &&
	gone "$TRASH/ck/" &&
	expect_code 1 $LOOPGATE resume "$(ls ck/.loopgate/runs)" --dir ck --json \
		>ck.res 2>ck.rerr &&
	test "$(summary_field ck.res status)" = budget_exhausted &&
	test -f "$(summary_field ck.res run_dir)/tree/test.sh"
'

# A .env file checked out into the tree: a jail made before git wrote it
# lacks its mask, so it is made again (once: two bwraps at most), and the
# file stays hidden.
test_expect_success 'a .env file in the checked-out tree: masked in the jail' '
	per_run env "bwrap: $TRASH/oj/bwrap
" &&
	echo "TOKEN=tree-secret-4246" >env/.env &&
	git -C env add .env && git -C env commit -qm env &&
	rm -f "$TRASH/oj/bwrap.count" &&
	expect_code 1 $LOOPGATE run --dir env --goal g --gate "cat .env; sh test.sh" \
		--agent-cmd true --max-iterations 1 --json >env.sum 2>env.err &&
	test "$(wc -l <"$TRASH/oj/bwrap.count")" -le 2 &&
	run_dir=$(summary_field env.sum run_dir) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	test "$(json_get sb.json "d[0][\"mode\"]")" = per-run &&
	json_get sb.json "d[0][\"masked_files\"]" | grep -q "tree/.env" &&
	! grep -rq tree-secret-4246 "$run_dir"/baseline "$run_dir"/iter-*
'

# No bubblewrap at all: the clear error, with the tree checked out whole
# beside the jail that never started, its worktree record unlocked.
test_expect_success 'no bubblewrap: the clear error, and the tree made whole beside it' '
	per_run nob "bwrap: $TRASH/oj/no-such-bwrap
" &&
	expect_code 3 $LOOPGATE run --dir nob --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 >nob.out 2>nob.err &&
	grep -q "is bubblewrap installed" nob.err &&
	run_dir=$(ls -d nob/.loopgate/runs/*) &&
	event_bodies "$run_dir" sandbox >sb.json &&
	json_get sb.json "d[0][\"error\"]" | grep -q "is bubblewrap installed" &&
	test -f "$run_dir/tree/test.sh" &&
	git -C "$run_dir/tree" diff --quiet HEAD &&
	! ls nob/.git/worktrees/*/locked 2>/dev/null
'

# The jail's bwrap starts while git answers the dirty check (fast.md,
# session 15), for a tree made ahead: a dirty tree refused after that
# leaves nothing, neither the run directory, the branch, the worktree
# record, nor a process of the jail.
test_expect_success 'a dirty tree refused after the jail began: nothing left behind' '
	per_run dt "bwrap: $TRASH/oj/bwrap
" &&
	echo "# local edit" >>dt/calc.py &&
	rm -f "$TRASH/oj/bwrap.count" &&
	expect_code 2 $LOOPGATE run --dir dt --goal g --gate "sh test.sh" \
		--agent-cmd true --max-iterations 1 2>dt.err &&
	grep -q -- "--allow-dirty" dt.err &&
	test "$(wc -l <"$TRASH/oj/bwrap.count")" -eq 1 &&
	test ! -e dt/.loopgate &&
	test "$(git -C dt branch --list "loopgate/*")" = "" &&
	test "$(git -C dt worktree list | wc -l)" -eq 1 &&
	gone "$TRASH/dt/.loopgate" &&
	grep -q "local edit" dt/calc.py
'

test_done
