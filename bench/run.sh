#!/bin/sh
# bench/run.sh: loopgate's own overhead per iteration and its peak RSS,
# beside a plain shell loop doing the same HTTP call, commit and gate (the
# floor).  `make bench` runs it with LOOPGATE_BIN set; see bench/README.md.
#
#   BENCH_ITERS=30 BENCH_REPEATS=5 BENCH_LONG_ITERS=200 sh bench/run.sh
#
# The loopgate runs above use the sandbox (the default); the same runs with
# --no-sandbox give the sandbox's cost per gate run and per iteration
# (BENCH_SANDBOX_REPEATS, default REPEATS; 0 skips them).
#
# Then two figures about the gates, with a command actor (no model): the
# result cache (a hit against a miss) and the cascade (a round stopped at the
# first failing gate against the full round).  BENCH_GATE_REPEATS=5
# BENCH_GATE_ITERS=10 BENCH_GATE_MS=200; BENCH_GATE_REPEATS=0 skips them.
#
# Everything happens in a mktemp directory (removed at the end unless
# BENCH_KEEP=1); the only network traffic is to the fake model server on
# 127.0.0.1, which is killed on exit.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LOOPGATE=${LOOPGATE_BIN:-$ROOT/loopgate}
FAKE=$ROOT/tests/fake/fake_model.py
ITERS=${BENCH_ITERS:-30}
REPEATS=${BENCH_REPEATS:-5}
LONG_ITERS=${BENCH_LONG_ITERS:-200}
GATE_REPEATS=${BENCH_GATE_REPEATS:-5}
GATE_ITERS=${BENCH_GATE_ITERS:-10}
GATE_MS=${BENCH_GATE_MS:-200}
SB_REPEATS=${BENCH_SANDBOX_REPEATS:-$REPEATS}
LAT_MS=${BENCH_LATENCY_MS:-1000}
LAT_ITERS=${BENCH_LATENCY_ITERS:-10}
LAT_REPEATS=${BENCH_LATENCY_REPEATS:-5}

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$LOOPGATE" ] || die "no loopgate binary at $LOOPGATE (run make first)"
command -v python3 >/dev/null || die "python3 is needed (fake model server, statistics)"
command -v git >/dev/null || die "git is needed"
command -v curl >/dev/null || die "the floor needs the curl command-line tool \
(Debian package curl; the build only needs libcurl): apt-get install curl"
for v in "$ITERS" "$REPEATS" "$LONG_ITERS" "$GATE_REPEATS" "$GATE_ITERS" "$GATE_MS" "$SB_REPEATS" \
	"$LAT_MS" "$LAT_ITERS" "$LAT_REPEATS"; do
	case $v in '' | *[!0-9]*) die "BENCH_ITERS, BENCH_REPEATS, BENCH_LONG_ITERS, \
BENCH_GATE_REPEATS, BENCH_GATE_ITERS, BENCH_GATE_MS, BENCH_LATENCY_MS, BENCH_LATENCY_ITERS, \
BENCH_LATENCY_REPEATS must be numbers" ;; esac
done
[ "$ITERS" -ge 3 ] && [ "$ITERS" -le 10000 ] || die "BENCH_ITERS must be 3..10000"
[ "$REPEATS" -ge 1 ] && [ "$REPEATS" -le 100 ] || die "BENCH_REPEATS must be 1..100"
[ "$LONG_ITERS" -le 10000 ] || die "BENCH_LONG_ITERS must be at most 10000"
[ "$GATE_REPEATS" -le 100 ] || die "BENCH_GATE_REPEATS must be 0..100"
[ "$GATE_ITERS" -ge 3 ] && [ "$GATE_ITERS" -le 1000 ] || die "BENCH_GATE_ITERS must be 3..1000"
[ "$GATE_MS" -ge 10 ] && [ "$GATE_MS" -le 10000 ] || die "BENCH_GATE_MS must be 10..10000"
[ "$LAT_MS" -ge 1000 ] && [ "$LAT_MS" -le 60000 ] || die "BENCH_LATENCY_MS must be 1000..60000"
[ "$LAT_ITERS" -ge 3 ] && [ "$LAT_ITERS" -le 1000 ] || die "BENCH_LATENCY_ITERS must be 3..1000"
[ "$LAT_REPEATS" -le 100 ] || die "BENCH_LATENCY_REPEATS must be 0..100"
# A hung run must not hang `make bench`: every run is capped by timeout(1).
TIMEOUT=
command -v timeout >/dev/null && TIMEOUT="timeout 600"
SHELL_FOR_FLOOR="sh"
command -v bash >/dev/null && SHELL_FOR_FLOOR=bash

W=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-bench.XXXXXX") || die "mktemp failed"
FAKE_PID=
cleanup() {
	if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; fi
	FAKE_PID=
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$BENCH_DIR/env.sh"

# The fake model: every request gets a streamed reply with one FILE edit
# block whose content is the request number ("number": every reply differs),
# so every iteration makes a new tree and a real commit: loopgate's gate
# cache, which skips trees it has judged, never gets a hit the floor lacks.
#
# The same script answering after LAT_MS (script-lat.json) is the model of
# a real run: a turn that takes a second or more is never waited for by
# fresh judgment (a quiet turn, docs/design/judge-fresh.md), so those runs
# measure loopgate's overhead as a real model run pays it.
python3 - "$W/script.json" "$W/script-lat.json" "$LAT_MS" <<'PY' || die "cannot write the fake server script"
import json, sys
def reply(v, delay=0):
    r = {"content": "Rewriting the counter.\n\n<<<<<<< FILE counter.txt\n%s\n>>>>>>> END\n" % v, "number": True}
    if delay:
        r["delay_ms"] = delay
    return r
json.dump({"replies": [reply("{n}")], "repeat_last": True}, open(sys.argv[1], "w"))
json.dump({"replies": [reply("{n}", int(sys.argv[3]))], "repeat_last": True}, open(sys.argv[2], "w"))
PY
SCRIPT=$W/script.json

make_repo() {
	mkdir -p "$1" && (
		cd "$1" && git init -q -b main . && echo 0 >counter.txt &&
		git add counter.txt && git commit -q -m initial
	) || die "cannot create the repository $1"
}

# start_fake DIR: a fresh fake server logging to DIR/fake.log; sets URL.
start_fake() {
	rm -f "$1/port"
	python3 "$FAKE" --script "$SCRIPT" --log "$1/fake.log" \
		--port-file "$1/port" >"$1/fake.out" 2>&1 &
	FAKE_PID=$!
	i=0
	while [ ! -s "$1/port" ]; do
		i=$((i + 1))
		[ $i -le 1000 ] || { cat "$1/fake.out" >&2; die "the fake server did not start"; }
		sleep 0.01
	done
	URL=http://127.0.0.1:$(cat "$1/port")/v1
}

stop_fake() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}

# loopgate_run DIR N [WRAPPER...]: one loopgate run of N iterations.
loopgate_run() {
	d=$1 n=$2
	shift 2
	mkdir -p "$d" && make_repo "$d/repo" && start_fake "$d"
	$TIMEOUT "$@" "$LOOPGATE" run --dir "$d/repo" --goal "bench: rewrite counter.txt" \
		--gate false --model openai/bench --base-url "$URL" ${LG_EXTRA:-} \
		--max-iterations "$n" --stall-after 100000 --json >"$d/sum.json" 2>"$d/err"
	rc=$?
	stop_fake
	if [ $rc -ne 1 ] || ! python3 "$BENCH_DIR/stats.py" check "$d/sum.json" "$n"; then
		tail -n 20 "$d/err" >&2
		die "loopgate run in $d exited $rc, expected 1 (budget exhausted after $n iterations)"
	fi
}

# floor_run DIR N: the shell loop, N iterations, same body and server.
floor_run() {
	d=$1 n=$2
	mkdir -p "$d" && make_repo "$d/repo" && start_fake "$d"
	$TIMEOUT $SHELL_FOR_FLOOR "$BENCH_DIR/floor.sh" "$URL" "$W/body.json" "$d/repo" "$n" \
		"$d/stamps" >"$d/err" 2>&1
	rc=$?
	stop_fake
	[ $rc -eq 0 ] || { tail -n 20 "$d/err" >&2; die "the floor loop in $d failed"; }
}

# actor_run DIR KIND ACTOR GATE...: one loopgate run of GATE_ITERS
# iterations with the command actor ACTOR and the gates in order; stats.py
# checks that the events are those KIND (noop, toggle, cascade) must give.
actor_run() {
	d=$1 kind=$2 actor=$3
	shift 3
	ng=$#
	while [ "$ng" -gt 0 ]; do
		set -- "$@" --gate "$1"
		shift
		ng=$((ng - 1))
	done
	mkdir -p "$d" && make_repo "$d/repo"
	$TIMEOUT "$LOOPGATE" run --dir "$d/repo" --goal "bench: gates" "$@" \
		--agent-cmd "$actor" --max-iterations "$GATE_ITERS" --stall-after 100000 \
		--json >"$d/sum.json" 2>"$d/err"
	rc=$?
	if [ $rc -ne 1 ] || ! python3 "$BENCH_DIR/stats.py" gatecheck "$kind" "$d/sum.json" "$GATE_ITERS"; then
		tail -n 20 "$d/err" >&2
		die "loopgate run in $d exited $rc, expected 1 (budget exhausted after $GATE_ITERS iterations)"
	fi
}

# interleaved LABEL N CMD...: each CMD (eval'd; $R is the round, 1..N) in
# turn, N rounds, so that machine noise falls on every side alike.
interleaved() {
	il_label=$1 il_n=$2
	shift 2
	R=0
	while [ $R -lt "$il_n" ]; do
		R=$((R + 1))
		printf '  %s %d/%d\r' "$il_label" "$R" "$il_n" >&2
		for il_cmd in "$@"; do
			eval "$il_cmd"
		done
	done
	printf '                  \r' >&2
}

echo "loopgate bench: $LOOPGATE"
echo "  $ITERS iterations x $REPEATS repeats per side, floor run by $SHELL_FOR_FLOOR; work dir $W"
[ "$GATE_REPEATS" -gt 0 ] && echo "  then the gates: cache and cascade, $GATE_ITERS iterations x \
$GATE_REPEATS runs each, command actor"

# Warm-up (discarded): page cache, the fake server's imports; its middle
# request is the body the floor sends.
loopgate_run "$W/warm-lg" "$ITERS"
python3 "$BENCH_DIR/stats.py" body "$W/warm-lg/fake.log" $(((ITERS + 1) / 2)) "$W/body.json" ||
	die "cannot extract the request body"
floor_run "$W/warm-floor" "$ITERS"

# Measured runs, interleaved so machine noise falls on both sides alike.
interleaved repeat "$REPEATS" 'loopgate_run "$W/lg.$R" "$ITERS"' \
	'floor_run "$W/floor.$R" "$ITERS"'

# The sandbox's cost: the same runs without it, interleaved with more
# sandboxed ones.
interleaved sandbox "$SB_REPEATS" \
	'LG_EXTRA=--no-sandbox loopgate_run "$W/nosb.$R" "$ITERS"' \
	'loopgate_run "$W/sb.$R" "$ITERS"'

# A model that answers after LAT_MS: no fresh-judgment wait, the overhead a
# real model run pays (floor and loopgate wait for the same server alike).
SCRIPT=$W/script-lat.json
interleaved latency "$LAT_REPEATS" 'loopgate_run "$W/lat-lg.$R" "$LAT_ITERS"' \
	'floor_run "$W/lat-floor.$R" "$LAT_ITERS"'
SCRIPT=$W/script.json

# Peak RSS, in separate runs (ptrace stops would disturb the timing).
loopgate_run "$W/rss" "$ITERS" python3 "$BENCH_DIR/rss.py" "$W/rss.json" --
if [ "$LONG_ITERS" -gt "$ITERS" ]; then
	loopgate_run "$W/rss-long" "$LONG_ITERS" python3 "$BENCH_DIR/rss.py" "$W/rss-long.json" --
fi

# The gates: a command actor instead of the model, no server.
if [ "$GATE_REPEATS" -gt 0 ]; then
	# The interpreter itself, not a launcher in front of it (a pyenv shim is
	# a bash script that costs more than the interpreter's own start).
	PY=$(python3 -c 'import sys; print(sys.executable)') || die "cannot locate python3"
	ROUNDS=$("$PY" "$BENCH_DIR/gatework.py" calibrate "$GATE_MS") ||
		die "cannot calibrate the gate workload"
	WORK_GATE="'$PY' -I -S '$BENCH_DIR/gatework.py' $ROUNDS"
	# the cascade, cheap to expensive: build fails, lint passes, test fails
	G_BUILD='sleep 0.02; echo "main.c:1: error: bench build failure"; exit 1'
	G_LINT='sleep 0.1; echo "lint: 0 problems"'
	G_TEST='sleep 0.5; echo "FAIL test_bench"; exit 1'
	# actors: change nothing; toggle counter.txt between the base tree (0)
	# and one other (1); a new tree every iteration
	A_NOOP=true
	A_TOGGLE='if [ $((LOOPGATE_ITERATION % 2)) = 1 ]; then echo 1; else echo 0; fi >counter.txt'
	A_NEW='echo "$LOOPGATE_ITERATION" >counter.txt'
	interleaved gates "$GATE_REPEATS" \
		'actor_run "$W/cache-noop.$R" noop "$A_NOOP" "$WORK_GATE"' \
		'actor_run "$W/cache-toggle.$R" toggle "$A_TOGGLE" "$WORK_GATE"' \
		'actor_run "$W/cascade.$R" cascade "$A_NEW" "$G_BUILD" "$G_LINT" "$G_TEST"'
	printf '{"rounds": %d, "target_ms": %d, "iters": %d}\n' "$ROUNDS" "$GATE_MS" \
		"$GATE_ITERS" >"$W/gates.json"
fi

printf '{"iters": %d, "long_iters": %d, "body_bytes": %d, "latency_ms": %d, "latency_iters": %d}\n' \
	"$ITERS" "$LONG_ITERS" "$(wc -c <"$W/body.json")" "$LAT_MS" "$LAT_ITERS" >"$W/info.json"
echo
if [ "$SB_REPEATS" -gt 0 ]; then
	python3 - "$W" "$SB_REPEATS" <<'PY' || die "cannot compute the sandbox figures"
import json, statistics, sys
w, n = sys.argv[1], int(sys.argv[2])
def side(prefix):
    gates, iters = [], []
    for r in range(1, n + 1):
        d = "%s/%s.%d" % (w, prefix, r)
        s = json.load(open(d + "/sum.json"))
        ev = [json.loads(l) for l in open(s["run_dir"] + "/events.jsonl")]
        gates += [e["body"]["duration_ms"] for e in ev if e["kind"] == "gate_end"]
        iters.append(s["elapsed_s"] * 1000.0 / max(s["iterations"], 1))
    return statistics.median(gates), statistics.median(iters)
g0, i0 = side("nosb")
g1, i1 = side("sb")
print("sandbox cost (bwrap + seccomp + cgroup, gate `false`, %d runs a side):" % n)
print("  per gate run: %.1f ms with the sandbox, %.1f ms without: +%.1f ms" % (g1, g0, g1 - g0))
print("  per iteration (whole loop): %.1f ms with, %.1f ms without: +%.1f ms" % (i1, i0, i1 - i0))
print()
PY
fi
python3 "$BENCH_DIR/stats.py" report "$W"
rc=$?

# A run's fixed cost and the processes of one iteration (bench/fixed.sh;
# BENCH_FIXED=0 skips it).
if [ "${BENCH_FIXED:-1}" != 0 ]; then
	echo
	LOOPGATE_BIN=$LOOPGATE sh "$BENCH_DIR/fixed.sh" || die "the fixed-cost bench failed"
fi

# One model round trip against `codex exec` on the same fake server
# (bench/roundtrip.sh; BENCH_ROUNDTRIP=0 skips it).
if [ "${BENCH_ROUNDTRIP:-1}" != 0 ]; then
	echo
	LOOPGATE_BIN=$LOOPGATE sh "$BENCH_DIR/roundtrip.sh" || die "the round-trip bench failed"
fi

# Many loops at once: 1,000 by default, each waiting 20 s on the model
# (bench/many.sh; BENCH_MANY=0 skips it, BENCH_MANY=N runs N).
if [ "${BENCH_MANY:-1000}" != 0 ]; then
	echo
	LOOPGATE_BIN=$LOOPGATE sh "$BENCH_DIR/many.sh" || die "the many-loops bench failed"
fi

# The audit log: append rate with and without fdatasync, and audit verify
# on a 1,000,000-record log (bench/audit.sh; BENCH_AUDIT=0 skips it).
if [ "${BENCH_AUDIT:-1}" != 0 ]; then
	echo
	sh "$BENCH_DIR/audit.sh" || die "the audit log bench failed"
fi
exit $rc
