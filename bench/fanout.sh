#!/bin/sh
# bench/fanout.sh: the wall time of a fan-out run of N = 1, 2, 4, 8 workers
# against a fake model that takes 1 s per reply, and the memory of the
# coordinator and of one worker.  Every worker fixes add() in one iteration
# and `--select best` waits for all of them, so N workers should take about
# the time of one: the figure is the ratio to N = 1 (median of
# BENCH_FANOUT_REPEATS runs, default 3; BENCH_FANOUT_NS="1 2 4 8";
# BENCH_FANOUT_DELAY_MS=1000).  `make bench` runs it after bench/run.sh.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LOOPGATE=${LOOPGATE_BIN:-$ROOT/loopgate}
FAKE=$ROOT/tests/fake/fake_model.py
REPEATS=${BENCH_FANOUT_REPEATS:-3}
NS=${BENCH_FANOUT_NS:-1 2 4 8}
DELAY=${BENCH_FANOUT_DELAY_MS:-1000}

die() { echo "bench fanout: $*" >&2; exit 1; }
[ -x "$LOOPGATE" ] || die "no loopgate binary at $LOOPGATE (run make first)"
case $REPEATS$DELAY in *[!0-9]*) die "BENCH_FANOUT_REPEATS and _DELAY_MS are numbers" ;; esac
for n in $NS; do case $n in '' | *[!0-9]*) die "BENCH_FANOUT_NS: numbers" ;; esac; done

W=$(mktemp -d "${TMPDIR:-/tmp}/loopgate-bench-fanout.XXXXXX") || die "mktemp failed"
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench fanout: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
unset OPENAI_API_KEY ANTHROPIC_API_KEY LOOPGATE_CONFIG http_proxy HTTP_PROXY \
	https_proxy HTTPS_PROXY all_proxy ALL_PROXY 2>/dev/null || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost
mkdir -p "$HOME"

python3 - "$W/script.json" "$DELAY" <<'PY' || die "cannot write the fake server script"
import json, sys
fix = "Fix.\n\ncalc.py\n<<<<<<< SEARCH\n    return a - b\n=======\n    return a + b\n>>>>>>> REPLACE\n"
json.dump({"replies": [{"content": fix, "delay_ms": int(sys.argv[2])}], "repeat_last": True},
          open(sys.argv[1], "w"))
PY
python3 "$FAKE" --script "$W/script.json" --log "$W/fake.log" --port-file "$W/port" \
	>"$W/fake.out" 2>&1 &
FAKE_PID=$!
i=0
while [ ! -s "$W/port" ]; do
	i=$((i + 1))
	[ $i -le 1000 ] || die "the fake server did not start"
	sleep 0.01
done
URL=http://127.0.0.1:$(cat "$W/port")/v1

make_repo() {
	mkdir -p "$1" && (
		cd "$1" && git init -q -b main . &&
		printf 'def add(a, b):\n    return a - b\n' >calc.py &&
		printf 'test "$(python3 -B -c "import calc; print(calc.add(2, 3))")" = 5\n' >test.sh &&
		git add . && git commit -q -m initial
	) || die "cannot create $1"
}

# one N R: run R of N workers; its wall time in ms on stdout.
one() {
	d=$W/n$1.$2
	make_repo "$d"
	t0=$(date +%s%N)
	if [ "$1" = 1 ]; then set -- "$1" "$2"; else set -- "$1" "$2" --workers "$1" \
		--max-parallel "$1" --select best; fi
	n=$1
	shift 2
	timeout 300 python3 "$BENCH_DIR/rss.py" "$d/rss.json" -- "$LOOPGATE" run --dir "$d" \
		--goal "make add() add" --gate "sh test.sh" --model openai/bench --base-url "$URL" \
		--max-iterations "$((2 * n))" "$@" --json >"$d/sum.json" 2>"$d/err" ||
		{ cat "$d/err" >&2; die "the run of $n worker(s) did not converge"; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

for n in $NS; do
	r=1
	while [ $r -le "$REPEATS" ]; do
		one "$n" "$r" >>"$W/times.$n" || exit 1
		r=$((r + 1))
	done
done

python3 - "$W" "$NS" "$DELAY" <<'PY' || die "cannot compute the figures"
import json, statistics, sys, glob
w, ns, delay = sys.argv[1], [int(x) for x in sys.argv[2].split()], int(sys.argv[3])
med = {n: statistics.median(int(l) for l in open("%s/times.%d" % (w, n))) for n in ns}
def hwm(n):
    return statistics.median(json.load(open(f))["hwm_kb"] for f in glob.glob("%s/n%d.*/rss.json" % (w, n)))
print("fan-out (a fake model answering in %d ms, every worker converging in one iteration,"
      " --select best, medians):" % delay)
base = med[ns[0]]
for n in ns:
    print("  N = %d: %6.0f ms wall (%.2fx of N = %d); loopgate's peak RSS %.1f MB%s"
          % (n, med[n], med[n] / base, ns[0], hwm(n) / 1024.0,
             " (one loop)" if n == 1 else " (the coordinator)"))
worst = max(med[n] / base for n in ns)
print("verdict: N workers take about the time of one (within 2x up to N = %d): %s (worst %.2fx)"
      % (max(ns), "PASS" if worst < 2.0 else "FAIL", worst))
PY
