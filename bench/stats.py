#!/usr/bin/env python3
"""stats.py: the numbers behind `make bench` (called by bench/run.sh).

    stats.py body FAKE_LOG K OUT     request K's raw body (1-based) -> OUT
    stats.py check SUMMARY N         the run ended by --max-iterations N?
    stats.py gatecheck KIND SUMMARY N  a gate run (noop, toggle, cascade)
                                     gave the events its design implies?
    stats.py report WORKDIR          prints the report and the verdicts

WORKDIR holds lg.1 .. lg.R (loopgate runs: fake.log, sum.json and the
repository holding the run directory), floor.1 .. floor.R (shell-loop runs:
fake.log, stamps), lat-lg.R and lat-floor.R (the same against a model
answering after latency_ms), and rss.json / rss-long.json from rss.py; then, for the
gate figures, cache-noop.R, cache-toggle.R and cascade.R (command-actor runs:
sum.json and the repository) and gates.json.

Per-iteration time, both sides: the interval between consecutive requests
arriving at the fake server (its log's "t", microsecond resolution).  One
interval is one full iteration of the loop: reply, edit, commit, gate,
bookkeeping, next prompt, next request.  The same clock and the same server
code measure loopgate and the floor, and neither loop carries any timing
instrumentation.  events.jsonl (millisecond timestamps) gives loopgate's
per-phase breakdown; the floor's breakdown comes from bash $EPOCHREALTIME
stamps when bash ran it.
"""
import glob
import json
import os
import sys
from datetime import datetime

TARGET_OVERHEAD_MS = 5.0
TARGET_RSS_MB = 10.0  # MB = 10^6 bytes: the stricter reading of "10 MB"


def requests(log):
    with open(log) as f:
        reqs = [json.loads(l) for l in f if l.strip()]
    return sorted(reqs, key=lambda r: r["n"])


def intervals_ms(log):
    t = [r["t"] for r in requests(log)]
    return [(b - a) * 1000.0 for a, b in zip(t, t[1:])]


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(xs)
    k = max(1, -(-len(s) * p // 100))  # ceil(n*p/100), at least 1
    return s[int(k) - 1]


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


# loopgate's phases: from the first event of one kind to the first of the
# next, within an iteration; the last one runs to the next iteration_start.
PHASES = [
    ("iteration_start", "model_request",
     "prompt: iter dir, build from cached file list, write prompt.md (fsync)"),
    ("model_request", "model_attempt", "HTTP call (streamed reply)"),
    ("model_attempt", "model_response", "write response.md (fsync)"),
    ("model_response", "edits", "parse + apply edit block (fsync)"),
    ("edits", "commit",
     "git add -A -v, commit, sha from the ref file (2 processes)"),
    ("commit", "gate_end", "gate `false` via /bin/sh -c, output file"),
    ("gate_end", "iteration_end", "git ls-files (gate artefacts + next file list)"),
    ("iteration_end", "next iteration_start",
     "budget event, fdatasync(events.jsonl)"),
]


def loopgate_phases(run_dirs):
    """{phase index: [ms, ...]} and [iteration_end duration_ms, ...]."""
    out = {i: [] for i in range(len(PHASES))}
    durations = []
    for d in run_dirs:
        with open(os.path.join(d, "events.jsonl")) as f:
            ev = [json.loads(l) for l in f if l.strip()]
        iters = {}
        order = []
        cur = None
        for e in ev:
            k = e["kind"]
            if k == "iteration_start":
                cur = e["body"]["iteration"]
                iters[cur] = {}
                order.append(cur)
            if cur is None:
                continue
            iters[cur].setdefault(k, ts(e["ts"]))
            if k == "iteration_end":
                durations.append(e["body"].get("duration_ms"))
        for j, n in enumerate(order):
            first = iters[n]
            if j + 1 < len(order):
                first = dict(first)
                first["next iteration_start"] = iters[order[j + 1]]["iteration_start"]
            for i, (a, b, _) in enumerate(PHASES):
                if a in first and b in first:
                    out[i].append((first[b] - first[a]) * 1000.0)
    return out, [d for d in durations if d is not None]


def fresh_waits(run_dir):
    """{iteration: waited_ms} from the run's fresh records: the wait for the
    wall clock to pass the second of the turn's last write (fresh judgment,
    docs/design/judge-fresh.md)."""
    out = {}
    with open(os.path.join(run_dir, "events.jsonl")) as f:
        for line in f:
            if '"kind":"fresh"' in line:
                b = json.loads(line)["body"]
                out[b["iteration"]] = out.get(b["iteration"], 0) + b.get("waited_ms", 0)
    return out


def intervals_without_wait(lg_runs):
    """Each loopgate interval minus its iteration's freshness wait: interval
    j lies between requests j+1 and j+2, and holds iteration j+1's wait."""
    out = []
    for d in lg_runs:
        waits = fresh_waits(json.load(open(os.path.join(d, "sum.json")))["run_dir"])
        for j, iv in enumerate(intervals_ms(os.path.join(d, "fake.log"))):
            out.append(iv - waits.get(j + 1, 0))
    return out


def floor_phases(stamp_files):
    """[(name, [ms...])] from 'i t0 t1 t2 t3' lines (seconds, bash)."""
    names = ["curl (HTTP call, process start)",
             "write file, git add -A, git commit",
             "gate: sh -c false"]
    cols = [[] for _ in names]
    for p in stamp_files:
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                v = line.split()
                if len(v) != 5:
                    continue
                t = [float(x) for x in v[1:]]
                for i in range(3):
                    cols[i].append((t[i + 1] - t[i]) * 1000.0)
    return list(zip(names, cols)) if cols[0] else []


def latency_report(wd, info):
    """The runs against a model that answers after latency_ms: the verdict
    line's text, or None when they were not run."""
    lg_runs = sorted(glob.glob(os.path.join(wd, "lat-lg.[0-9]*")))
    fl_runs = sorted(glob.glob(os.path.join(wd, "lat-floor.[0-9]*")))
    lg = [x for d in lg_runs for x in intervals_ms(os.path.join(d, "fake.log"))]
    fl = [x for d in fl_runs for x in intervals_ms(os.path.join(d, "fake.log"))]
    if not lg or not fl:
        return None
    lat = info.get("latency_ms", "?")
    print()
    print("a model answering after %s ms (as real models do), %s iterations x %d "
          "repeats per side:" % (lat, info.get("latency_iters", "?"), len(lg_runs)))
    print("  per iteration (ms)      median     p95    mean")
    for name, xs in (("loopgate", lg), ("floor (shell loop)", fl)):
        print("    %-20s %8.2f %7.2f %7.2f" % (name, median(xs), pct(xs, 95), mean(xs)))
    over = median(lg) - median(fl)
    per = [median(intervals_ms(os.path.join(a, "fake.log"))) -
           median(intervals_ms(os.path.join(b, "fake.log")))
           for a, b in zip(lg_runs, fl_runs)]
    print("    overhead (difference) %+.2f ms; of each repeat: %s"
          % (over, ", ".join("%+.2f" % x for x in per)))
    waits = [w for d in lg_runs for w in fresh_waits(
        json.load(open(os.path.join(d, "sum.json")))["run_dir"]).values()]
    print("    fresh-judgment wait: mean %.1f ms per iteration (a quiet turn that "
          "took a second or more is not waited for)" % mean(waits or [0]))
    phases, _ = loopgate_phases(
        [json.load(open(os.path.join(d, "sum.json")))["run_dir"] for d in lg_runs])
    fp = floor_phases([os.path.join(d, "stamps") for d in fl_runs])
    if not fp or not phases[1]:
        return "%s (%+.2f ms as measured)" % (
            "MET" if over < TARGET_OVERHEAD_MS else "NOT MET", over)
    curl_ms, http_ms = mean(fp[0][1]), mean(phases[1])
    strict = over + curl_ms - http_ms
    print("    HTTP call: the floor's curl %.2f ms, loopgate's %.2f ms; at "
          "loopgate's cost on both sides: %+.2f ms" % (curl_ms, http_ms, strict))
    return "%s (%+.2f ms with the HTTP call at equal cost; %+.2f ms as measured)" % (
        "MET" if strict < TARGET_OVERHEAD_MS else "NOT MET", strict, over)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPU(s), %s, %s" % (os.cpu_count() or 0, model,
                                 " ".join(os.uname()[2:3]))


def rss_detail(r):
    """Lines describing the exit-time breakdown rss.py recorded."""
    d = (r or {}).get("at_exit") or {}
    st = d.get("status") or {}
    if "RssAnon" not in st:
        return []
    mb = lambda kb: kb * 1024 / 1e6
    lines = ["  at exit: anonymous (heap, stacks) %.2f MB, file-backed %.2f MB; "
             "proportional share (PSS) %.2f MB"
             % (mb(st["RssAnon"]), mb(st.get("RssFile", 0)), mb(st.get("Pss", 0)))]
    files = [f for f in d.get("files") or [] if f[1] >= 100]
    if files:
        lines.append("  largest resident mappings: " + ", ".join(
            "%s %.2f" % (n, mb(kb)) for n, kb in files[:10]) + " (MB)")
    return lines


def fmt_rss(r):
    if not r or r.get("hwm_kb") is None:
        return "unavailable", None
    mb = r["hwm_kb"] * 1024 / 1e6
    return ("%.2f MB (VmHWM %d KiB, method %s; with descendants and the "
            "wrapper's pre-exec image, via wait4: %.1f MB)"
            % (mb, r["hwm_kb"], r["method"], r["wait4_maxrss_kb"] * 1024 / 1e6),
            mb)


def run_events(d):
    """The events of the run whose --json summary is d/sum.json."""
    with open(os.path.join(d, "sum.json")) as f:
        run_dir = json.load(f)["run_dir"]
    with open(os.path.join(run_dir, "events.jsonl")) as f:
        return [json.loads(l) for l in f if l.strip()]


def by_iteration(ev):
    """{iteration: [event, ...]}; events before the first iteration_start
    (the baseline) are iteration 0."""
    out, cur = {0: []}, 0
    for e in ev:
        if e["kind"] == "iteration_start":
            cur = e["body"]["iteration"]
            out[cur] = []
        out[cur].append(e)
    return out


def first_ts(evs, kind):
    for e in evs:
        if e["kind"] == kind:
            return ts(e["ts"])
    return None


def gatecheck(kind, summary, n):
    """What each gate run must show, or the figures would mean nothing."""
    with open(summary) as f:
        s = json.load(f)
    if s.get("status") != "budget_exhausted" or s.get("iterations") != n:
        return "status %s after %s iterations (%s), expected budget_exhausted " \
               "after %d" % (s.get("status"), s.get("iterations"), s.get("reason"), n)
    it = by_iteration(run_events(os.path.dirname(summary)))
    ran = {i: [e["body"]["gate"] for e in evs if e["kind"] == "gate_start"]
           for i, evs in it.items()}
    hit = {i: [e["body"]["gate"] for e in evs if e["kind"] == "gate_cached"]
           for i, evs in it.items()}
    if kind == "noop":
        want_ran = {i: [1] if i == 0 else [] for i in range(n + 1)}
        want_hit = {i: [] if i == 0 else [1] for i in range(n + 1)}
    elif kind == "toggle":
        want_ran = {i: [1] if i <= 1 else [] for i in range(n + 1)}
        want_hit = {i: [] if i <= 1 else [1] for i in range(n + 1)}
    elif kind == "cascade":
        want_ran = {i: [1, 2, 3] if i == 0 else [1] for i in range(n + 1)}
        want_hit = {i: [] for i in range(n + 1)}
    else:
        return "unknown kind %s" % kind
    if ran != want_ran or hit != want_hit:
        return "gates run per iteration %s, cached %s; expected %s and %s" % (
            ran, hit, want_ran, want_hit)
    return None


def gate_durations(evs):
    return [e["body"]["duration_ms"] for e in evs if e["kind"] == "gate_end"]


def iteration_ms(evs):
    for e in evs:
        if e["kind"] == "iteration_end":
            return e["body"]["duration_ms"]
    return None


def step_ms(evs, a, b):
    """ms from the first event a to the first event b (ms timestamps)."""
    ta, tb = first_ts(evs, a), first_ts(evs, b)
    return None if ta is None or tb is None else (tb - ta) * 1000.0


def row(name, xs, unit=""):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "  %-44s %8s" % (name, "-")
    return ("  %-44s %8.1f %7.1f %7.1f %7.1f %5d%s"
            % (name, median(xs), mean(xs), min(xs), max(xs), len(xs), unit))


def gate_report(wd):
    p = os.path.join(wd, "gates.json")
    if not os.path.exists(p):
        return
    with open(p) as f:
        g = json.load(f)
    n = g["iters"]
    runs = lambda name: [by_iteration(run_events(d)) for d in
                         sorted(glob.glob(os.path.join(wd, name + ".[0-9]*")))]
    noop, toggle, casc = runs("cache-noop"), runs("cache-toggle"), runs("cascade")

    miss = [x for r in noop + toggle for i in (0, 1) if i in r
            for x in gate_durations(r[i])]
    noop_iter = [iteration_ms(r[i]) for r in noop for i in range(1, n + 1)]
    noop_step = [step_ms(r[i], "commit", "gate_cached") for r in noop
                 for i in range(1, n + 1)]
    tg_miss_iter = [iteration_ms(r[1]) for r in toggle]
    tg_hit_iter = [iteration_ms(r[i]) for r in toggle for i in range(2, n + 1)]
    tg_hit_step = [step_ms(r[i], "commit", "gate_cached") for r in toggle
                   for i in range(2, n + 1)]
    print()
    print("gate cache: one failing CPU-bound gate (%d chained SHA-256 in a fresh "
          "python3, calibrated to ~%d ms here);\n  command actor, %d iterations "
          "x %d runs per actor" % (g["rounds"], g["target_ms"], n, len(noop)))
    print("  (ms)                                           median    mean     "
          "min     max     n")
    print(row("miss: the gate runs (gate_end.duration_ms)", miss))
    print(row("hit, no-op actor `true`: whole iteration", noop_iter))
    print(row("  of which commit -> gate_cached (ms stamps)", noop_step))
    print(row("toggle A,B,A,..: iteration 1, new tree: miss", tg_miss_iter))
    print(row("toggle: iterations 2-%d, revisited tree: hit" % n, tg_hit_iter))
    print(row("  of which commit -> gate_cached (ms stamps)", tg_hit_step))
    if miss and noop_iter and tg_hit_iter and tg_miss_iter:
        print("  ratio: miss gate / no-op hit iteration %.0fx; toggle miss "
              "iteration / hit iteration %.0fx"
              % (median(miss) / max(median(noop_iter), 0.5),
                 median(tg_miss_iter) / max(median(tg_hit_iter), 0.5)))
    print("  a hit replaces the gate run with a lookup keyed by tree id + "
          "command + environment; what is left\n  of a hit iteration is the "
          "actor, git staging (and, for a changed tree, the commit) and "
          "bookkeeping")

    full = [sum(gate_durations(r[0])) for r in casc]
    per_gate = {}
    for r in casc:
        for e in r[0]:
            if e["kind"] == "gate_end":
                per_gate.setdefault(e["body"]["gate"], []).append(e["body"]["duration_ms"])
    full_wall = [step_ms(r[0], "gate_start", "baseline") for r in casc]
    cascade = [sum(gate_durations(r[i])) for r in casc for i in range(1, n + 1)]
    ttff = [step_ms(r[i], "commit", "gate_end") for r in casc for i in range(1, n + 1)]
    casc_iter = [iteration_ms(r[i]) for r in casc for i in range(1, n + 1)]
    print()
    print("cascade: gates build (sleep 20 ms, fails), lint (sleep 100 ms, "
          "passes), test (sleep 500 ms, fails);\n  command actor writing a new "
          "tree each iteration, %d iterations x %d runs" % (n, len(casc)))
    print("  (ms)                                           median    mean     "
          "min     max     n")
    print(row("full round, every gate (baseline): gate time", full))
    print(row("  first gate_start -> baseline (ms stamps)", full_wall))
    names = {1: "build", 2: "lint", 3: "test"}
    print("  %-44s %s" % ("  per gate at baseline (median)", ", ".join(
        "%s %.0f" % (names.get(k, k), median(v)) for k, v in sorted(per_gate.items()))))
    print(row("cascade round (iterations): gate time", cascade))
    print(row("  commit -> failing gate_end (ms stamps)", ttff))
    print(row("whole cascade iteration (iteration_end)", casc_iter))
    if full and cascade:
        print("  ratio: full round / cascade round %.0fx (gate time, medians)"
              % (median(full) / max(median(cascade), 0.5)))
    print("  a round stops at the first failing gate (the baseline alone runs "
          "all of them, for the test counts);\n  a harness that always runs "
          "every gate pays the full round on every iteration")


def report(wd):
    lg_runs = sorted(glob.glob(os.path.join(wd, "lg.[0-9]*")))
    fl_runs = sorted(glob.glob(os.path.join(wd, "floor.[0-9]*")))
    lg = [x for d in lg_runs for x in intervals_ms(os.path.join(d, "fake.log"))]
    fl = [x for d in fl_runs for x in intervals_ms(os.path.join(d, "fake.log"))]
    info = {}
    p = os.path.join(wd, "info.json")
    if os.path.exists(p):
        with open(p) as f:
            info = json.load(f)
    print("machine: %s" % machine())
    print("setup:   %s iterations x %d repeats per side (after one warm-up "
          "run each), gate `false`, zero-latency fake model (streamed reply "
          "with one FILE edit block), request body %s bytes"
          % (info.get("iters", "?"), len(lg_runs), info.get("body_bytes", "?")))
    print("samples: %d loopgate, %d floor (intervals between consecutive "
          "requests at the fake server)" % (len(lg), len(fl)))
    if not lg or not fl:
        print("bench: no samples", file=sys.stderr)
        return 1
    print()
    print("per iteration (ms)        median     p95    mean     min     max")
    for name, xs in (("loopgate", lg), ("floor (shell loop)", fl)):
        print("  %-20s %8.2f %7.2f %7.2f %7.2f %7.2f"
              % (name, median(xs), pct(xs, 95), mean(xs), min(xs), max(xs)))
    over_med = median(lg) - median(fl)
    over_p95 = pct(lg, 95) - pct(fl, 95)
    print("  %-20s %8.2f %7.2f %7.2f" % ("overhead (difference)", over_med,
                                         over_p95, mean(lg) - mean(fl)))
    per = [median(intervals_ms(os.path.join(a, "fake.log"))) -
           median(intervals_ms(os.path.join(b, "fake.log")))
           for a, b in zip(lg_runs, fl_runs)]
    print("  overhead of each repeat (median vs median, ms): %s"
          % ", ".join("%+.2f" % x for x in per))
    # every iteration edits the file within the second the gate last saw it:
    # fresh judgment waits for the next whole second (by design; a real
    # agent's turn seldom ends in the second of its last write)
    lg_nowait = intervals_without_wait(lg_runs)
    nowait_med = median(lg_nowait) - median(fl)
    print("  %-20s %8.2f          (each interval minus its iteration's wait "
          "for the next whole second: fresh judgment)"
          % ("overhead, wait apart", nowait_med))
    print("  the wait itself: mean %.1f ms per iteration"
          % (mean([a - b for a, b in zip(lg, lg_nowait)]) if lg_nowait else 0))

    phases, durations = loopgate_phases(
        [json.load(open(os.path.join(d, "sum.json")))["run_dir"] for d in lg_runs])
    print()
    print("where loopgate's iteration goes (events.jsonl, ms timestamps; "
          "mean over %d iterations)" % len(durations))
    total = 0.0
    for i, (a, b, what) in enumerate(PHASES):
        if phases[i]:
            m = mean(phases[i])
            total += m
            print("  %6.2f ms  %s" % (m, what))
    print("  %6.2f ms  total (iteration_end duration_ms: median %.1f)"
          % (total, median(durations) if durations else float("nan")))
    fp = floor_phases([os.path.join(d, "stamps") for d in fl_runs])
    strict = None
    if fp:
        print()
        print("where the floor's iteration goes (bash $EPOCHREALTIME; mean)")
        for name, xs in fp:
            print("  %6.2f ms  %s" % (mean(xs), name))
        # The floor pays a curl process start per call; loopgate calls
        # libcurl in-process.  Charging both sides loopgate's HTTP time
        # gives the overhead of everything except the HTTP call.
        curl_ms, http_ms = mean(fp[0][1]), mean(phases[1])
        strict = over_med + curl_ms - http_ms
        print("  the floor's HTTP call costs %.2f ms (mostly curl starting up), "
              "loopgate's %.2f ms in-process;\n  with the HTTP call at "
              "loopgate's cost on both sides the overhead is %+.2f ms "
              "(median-based)" % (curl_ms, http_ms, strict))

    rss, rss_mb = None, None
    p = os.path.join(wd, "rss.json")
    if os.path.exists(p):
        with open(p) as f:
            rss = json.load(f)
    text, rss_mb = fmt_rss(rss)
    print()
    print("loopgate peak RSS, %s iterations: %s" % (info.get("iters", "?"), text))
    for line in rss_detail(rss):
        print(line)
    p = os.path.join(wd, "rss-long.json")
    if os.path.exists(p):
        with open(p) as f:
            long_text, long_mb = fmt_rss(json.load(f))
        print("loopgate peak RSS, %s iterations: %s"
              % (info.get("long_iters", "?"), long_text))
        with open(p) as f:
            for line in rss_detail(json.load(f))[:1]:
                print(line)
        if long_mb is not None and (rss_mb is None or long_mb > rss_mb):
            rss_mb = long_mb
    print("for scale (from the issue, not measured here): agent CLIs take "
          "280-3500 ms and 130-600 MB for one prompt against a local fake "
          "server")
    gate_report(wd)
    lat_verdict = latency_report(wd, info)
    print()
    ok1 = over_med < TARGET_OVERHEAD_MS
    print("verdict: overhead above the floor < %.0f ms/iteration: %s "
          "(median %+.2f ms, p95 %+.2f ms)"
          % (TARGET_OVERHEAD_MS, "MET" if ok1 else "NOT MET", over_med, over_p95))
    if strict is not None:
        print("verdict: same, HTTP call at equal cost on both sides: %s "
              "(%+.2f ms)" % ("MET" if strict < TARGET_OVERHEAD_MS else "NOT MET",
                             strict))
    print("verdict: same, the fresh-judgment wait apart: %s (median %+.2f ms)"
          % ("MET" if nowait_med < TARGET_OVERHEAD_MS else "NOT MET", nowait_med))
    if lat_verdict:
        print("verdict: same, a model answering after %s ms (no fresh-judgment "
              "wait): %s" % (info.get("latency_ms", "?"), lat_verdict))
    if rss_mb is None:
        print("verdict: peak RSS < %.0f MB: NOT MEASURED" % TARGET_RSS_MB)
    else:
        print("verdict: peak RSS < %.0f MB: %s (%.2f MB)"
              % (TARGET_RSS_MB, "MET" if rss_mb < TARGET_RSS_MB else "NOT MET",
                 rss_mb))
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "body":
        reqs = requests(a[1])
        k = min(max(1, int(a[2])), len(reqs))
        with open(a[3], "w") as f:
            f.write(reqs[k - 1]["raw"])
        return 0
    if len(a) == 3 and a[0] == "check":
        with open(a[1]) as f:
            s = json.load(f)
        if s.get("status") == "budget_exhausted" and s.get("iterations") == int(a[2]):
            return 0
        print("bench: the loopgate run did not run %s iterations: status %s, "
              "iterations %s, reason: %s" % (a[2], s.get("status"),
                                             s.get("iterations"), s.get("reason")),
              file=sys.stderr)
        return 1
    if len(a) == 4 and a[0] == "gatecheck":
        why = gatecheck(a[1], a[2], int(a[3]))
        if why:
            print("bench: the %s gate run is not what the figures assume: %s"
                  % (a[1], why), file=sys.stderr)
            return 1
        return 0
    if len(a) == 2 and a[0] == "report":
        return report(a[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
