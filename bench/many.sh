#!/bin/sh
# bench/many.sh: many loops at once (issue 16: "1,000 concurrent loops on
# this 2-core machine with no failure and under 3 GB in all").
#
#   BENCH_MANY=1000 BENCH_MANY_LATENCY_MS=20000 sh bench/many.sh
#
# N loopgate runs start together, each in a repository of its own, each a
# model actor (the default sandbox on) against ONE fake model server that
# answers every request after LATENCY ms (a model thinking): every run is
# alive at once while it waits, as loops driving a real model are.  Every
# reply rewrites counter.txt; the gate passes once HEAD has 3 commits, so a
# run converges at its second iteration (baseline, 2 model calls, 2 gates).
#
# Memory "in all" is the sum over every process of the loops (loopgate, its
# wardens, bubblewrap, git, the gates; not the fake server) of its
# proportional set size, sampled every 0.5 s (bench/many_mem.py), whose peak
# is reported with the peak number of loopgate runs alive at that moment.
# PSS splits each shared page between the processes mapping it, so the sum
# is what the loops take from the machine's memory, page cache aside.
# With a writable v1 memory cgroup the loops also run in one, and its peak
# usage (page cache of the repositories included) is printed for scale.
set -u
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LOOPGATE=${LOOPGATE_BIN:-$ROOT/loopgate}
FAKE=$ROOT/tests/fake/fake_model.py
N=${BENCH_MANY:-1000}
LATENCY_MS=${BENCH_MANY_LATENCY_MS:-20000}
TARGET_MB=3072
die() { echo "bench: $*" >&2; exit 1; }
for v in "$N" "$LATENCY_MS"; do
	case $v in '' | *[!0-9]*) die "BENCH_MANY and BENCH_MANY_LATENCY_MS must be numbers" ;; esac
done
[ "$N" -ge 1 ] && [ "$N" -le 5000 ] || die "BENCH_MANY must be 1..5000"
[ -x "$LOOPGATE" ] || die "no loopgate binary at $LOOPGATE (run make first)"

W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/loopgate-many.XXXXXX") || die "mktemp failed"
FAKE_PID= SAMPLER_PID= CG=
cleanup() {
	[ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	wait 2>/dev/null
	[ -n "$CG" ] && rmdir "$CG" 2>/dev/null
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$BENCH_DIR/env.sh"
ulimit -n 65536 2>/dev/null || true

python3 - "$W/script.json" "$LATENCY_MS" <<'PY' || die "cannot write the fake server script"
import json, sys
r = {"content": "Rewriting the counter.\n\n<<<<<<< FILE counter.txt\n{n}\n>>>>>>> END\n",
     "number": True, "delay_ms": int(sys.argv[2])}
json.dump({"replies": [r], "repeat_last": True}, open(sys.argv[1], "w"))
PY

echo "bench: $N repositories..."
i=1
while [ $i -le "$N" ]; do
	d=$W/r$i
	mkdir -p "$d" && git init -q -b main "$d" && echo 0 >"$d/counter.txt" &&
		git -C "$d" add counter.txt && git -C "$d" commit -q -m initial ||
		die "cannot create the repository $d"
	i=$((i + 1))
done

python3 "$FAKE" --script "$W/script.json" --log "$W/fake.log" \
	--port-file "$W/port" >"$W/fake.out" 2>&1 &
FAKE_PID=$!
i=0
while [ ! -s "$W/port" ]; do
	i=$((i + 1))
	[ $i -le 1000 ] || { cat "$W/fake.out" >&2; die "the fake server did not start"; }
	sleep 0.01
done
URL=http://127.0.0.1:$(cat "$W/port")/v1

# One v1 memory cgroup for the loops, when this machine lets us make one.
if [ -w /sys/fs/cgroup/memory ] && mkdir "/sys/fs/cgroup/memory/loopgate-many.$$" 2>/dev/null; then
	CG=/sys/fs/cgroup/memory/loopgate-many.$$
fi

# The launcher: it joins the cgroup, then starts every run and waits.
cat >"$W/launch.sh" <<'SH'
#!/bin/sh
[ -n "$CG" ] && echo $$ >"$CG/cgroup.procs"
echo $$ >"$W/launcher.pid"
i=1
while [ $i -le "$N" ]; do
	"$LOOPGATE" run --dir "$W/r$i" --goal "bench: rewrite counter.txt" \
		--gate 'test "$(git rev-list --count HEAD)" -ge 3' \
		--model openai/bench --base-url "$URL" --max-iterations 5 --json \
		>"$W/r$i.sum" 2>"$W/r$i.err" &
	i=$((i + 1))
done
wait
SH
echo "bench: starting $N loops (model latency $LATENCY_MS ms)..."
start=$(date +%s)
W=$W N=$N CG=$CG LOOPGATE=$LOOPGATE URL=$URL sh "$W/launch.sh" &
LAUNCH_PID=$!
python3 "$BENCH_DIR/many_mem.py" "$LAUNCH_PID" "$W/mem.json" &
SAMPLER_PID=$!
wait "$LAUNCH_PID"
end=$(date +%s)
kill -TERM "$SAMPLER_PID" 2>/dev/null
wait "$SAMPLER_PID" 2>/dev/null
SAMPLER_PID=

ok=0 bad=0
i=1
while [ $i -le "$N" ]; do
	if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["status"] != "converged")' \
		"$W/r$i.sum" 2>/dev/null; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		[ $bad -le 3 ] && { echo "bench: run $i did not converge:"; tail -n 5 "$W/r$i.err"; } >&2
	fi
	i=$((i + 1))
done
cg_peak=
[ -n "$CG" ] && cg_peak=$(cat "$CG/memory.max_usage_in_bytes" 2>/dev/null)
python3 - "$W/mem.json" "$N" "$ok" "$bad" "$((end - start))" "$TARGET_MB" "${cg_peak:-}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n, ok, bad, secs, target = (int(x) for x in sys.argv[2:7])
cg = sys.argv[7]
print("%d concurrent loops (model latency as set), %d s wall:" % (n, secs))
print("  converged %d, failed %d" % (ok, bad))
print("  peak loopgate runs alive at once: %d; processes then: %d" % (m["peak_runs"], m["procs_at_peak"]))
print("  memory in all (sum of PSS), peak: %.0f MB (%.2f MB a loop); anonymous part %.0f MB"
      % (m["peak_pss_kb"] / 1024, m["peak_pss_kb"] / 1024 / max(m["runs_at_pss_peak"], 1),
         m["anon_at_peak_kb"] / 1024))
if cg:
    print("  the loops' memory cgroup peak (page cache of %d repositories included): %.0f MB"
          % (n, int(cg) / 1048576))
met = bad == 0 and m["peak_runs"] == n and m["peak_pss_kb"] / 1024 < target
print("verdict: %d concurrent loops, no failure, under %d MB in all: %s" %
      (n, target, "MET" if met else "NOT MET"))
PY
