# tests/adversarial/lib.sh: helpers for the adversarial cases, sourced after
# tests/lib.sh inside each case's scratch directory ($CASE_DIR).
#
#   adv_repo                      repo/ from make_repo (calc.py, test.sh)
#   adv_gate 'CMD' [FLAGS...]     a run whose only gate is CMD (then test.sh):
#                                 the attack runs in the baseline round
#   adv_agent FILE [FLAGS...]     a run whose command actor is FILE (a
#                                 script), one iteration, gate `sh test.sh`
#   After either: $RUN is the run directory, $EV its events.jsonl, $CODE
#   loopgate's exit status, run.err its stderr.
#   adv_audited                   `loopgate audit verify` passes on $RUN
#   adv_event KIND ['PYEXPR']     a KIND record (body b) satisfying PYEXPR
#   adv_gate_output               the baseline gate's output file (path)
#   adv_actor_output              iteration 1's actor output file (path)
#   adv_outside                   a directory outside every run tree (path)
#   adv_attack NAME <SCRIPT       commits SCRIPT as attack/NAME in repo/
#   adv_no_sandbox                the flag that turns the sandbox off, when
#                                 this loopgate has one (git-guard cases use it:
#                                 they test what holds without the sandbox)
ADV_KEY=sk-adversarial-secret-0123456789
export OPENAI_API_KEY=$ADV_KEY ANTHROPIC_API_KEY=$ADV_KEY

adv_repo() {
	make_repo repo
}

adv_no_sandbox() {
	if "$LOOPGATE" run --help 2>&1 | grep -q -- --no-sandbox; then
		echo --no-sandbox
	fi
}

# Outside every run tree and not under /tmp (which the sandbox replaces
# with its own): the sandbox sees it read-only.  The runner removes it.
adv_outside() {
	if [ ! -s "$CASE_DIR/outside.path" ]; then
		d=$(mktemp -d /var/tmp/loopgate-adv.XXXXXX)
		echo "$d" >"$CASE_DIR/outside.path"
	fi
	cat "$CASE_DIR/outside.path"
}

# adv_attack NAME: stdin becomes repo/attack/NAME, committed, so that it
# is inside the run's tree (the sandbox sees nothing else of /tmp).
adv_attack() {
	mkdir -p repo/attack
	cat >"repo/attack/$1"
	chmod +x "repo/attack/$1"
	git -C repo add "attack/$1"
	git -C repo commit -qm "attack $1"
}

# _adv_run ARGS...: runs loopgate, keeps its exit status, finds the run.
_adv_run() {
	set +e
	"$LOOPGATE" run --dir repo --goal "make test.sh pass" --json "$@" \
		>summary.json 2>run.err
	CODE=$?
	set -e
	RUN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' \
		summary.json 2>/dev/null || true)
	if [ -z "$RUN" ]; then	# no summary: the newest run
		RUN=$(ls -dt "$CASE_DIR"/repo/.loopgate/runs/*/ 2>/dev/null | head -n 1)
		RUN=${RUN%/}
	fi
	EV=$RUN/events.jsonl
	if [ -z "$RUN" ] || [ ! -f "$EV" ]; then
		echo "no run directory (exit $CODE):" >&2
		cat run.err >&2
		return 1
	fi
	echo "loopgate exited $CODE; run $RUN"
}

adv_gate() {
	cmd=$1
	shift
	_adv_run --gate "$cmd; sh test.sh" --agent-cmd true --max-iterations 1 \
		--gate-timeout 20s "$@"
}

adv_agent() {
	adv_attack agent.sh <"$1"
	shift
	_adv_run --gate "sh test.sh" --agent-cmd "sh attack/agent.sh" \
		--max-iterations 1 "$@"
}

adv_audited() {
	"$LOOPGATE" audit verify "$RUN" >verify.out 2>&1 || {
		cat verify.out >&2
		return 1
	}
}

adv_event() {
	python3 - "$EV" "$1" "${2:-True}" <<'PY' || { echo "no $1 record where $2" >&2; return 1; }
import json, sys
path, kind, expr = sys.argv[1:4]
for line in open(path):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("kind") == kind:
        b = d.get("body", {})
        if eval(expr):
            sys.exit(0)
sys.exit(1)
PY
}

adv_gate_output() {
	echo "$RUN/baseline/gate-1.out"
}

adv_actor_output() {
	echo "$RUN/iter-001/actor.out"
}

# adv_listener [UNIX...]: starts listener.py (UNIX: a socket path, or
# @NAME for an abstract socket, to listen on too); sets TCP_PORT,
# UDP_PORT; connections and datagrams it receives are logged to
# $CASE_DIR/listener.log.
adv_listener() {
	python3 "$TEST_DIR/adversarial/listener.py" "$CASE_DIR/listener.port" \
		"$CASE_DIR/listener.log" "$@" 2>"$CASE_DIR/listener.err" &
	echo $! >"$TRASH/$(basename "$CASE_DIR")-listener.fakepid"
	i=0
	while [ ! -s "$CASE_DIR/listener.port" ]; do
		i=$((i + 1))
		[ $i -gt 500 ] && { cat "$CASE_DIR/listener.err" >&2; return 1; }
		sleep 0.01
	done
	read -r TCP_PORT UDP_PORT <"$CASE_DIR/listener.port"
	# the listener works: a connection from outside the sandbox is logged
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' "$TCP_PORT"
	i=0
	until grep -q "tcp connection" "$CASE_DIR/listener.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 500 ] && { echo "listener logged nothing" >&2; return 1; }
		sleep 0.01
	done
	: >"$CASE_DIR/listener.log"
}

# adv_nothing_reached: the listener logged nothing since adv_listener.
adv_nothing_reached() {
	if [ -s "$CASE_DIR/listener.log" ]; then
		echo "the listener was reached:" >&2
		cat "$CASE_DIR/listener.log" >&2
		return 1
	fi
}

# adv_sandboxed: loopgate has a sandbox (a --no-sandbox flag to turn it off).
adv_sandboxed() {
	"$LOOPGATE" run --help 2>&1 | grep -q -- --no-sandbox
}

# adv_assert_absent PATH: PATH does not exist (the attack's marker).
adv_assert_absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		echo "the attack succeeded: $1 exists" >&2
		return 1
	fi
}

# adv_out_lacks FILE TEXT: FILE exists and does not contain TEXT.
adv_out_lacks() {
	test -f "$1" || { echo "no file $1" >&2; return 1; }
	if grep -q -- "$2" "$1"; then
		echo "$1 contains $2:" >&2
		head -c 2000 "$1" >&2
		return 1
	fi
}
