#!/usr/bin/env python3
"""many_mem.py: the memory of a tree of processes, sampled until told to stop.

    python3 many_mem.py ROOT_PID OUT.json      (SIGTERM ends it)

Every 0.5 s: every descendant of ROOT_PID (from /proc/*/stat parent links),
the sum of their Pss and Pss_Anon (/proc/PID/smaps_rollup), and how many
of them are loopgate runs (the root's children named "loopgate": a
fork of a run, before it execs or names itself, is not one).  Writes the peak sum of Pss,
the anonymous part and the process and run counts at that moment, and the
peak number of runs alive at once.
"""
import json
import os
import signal
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def tree(root):
    kids = {}
    comm = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                s = f.read()
        except OSError:
            continue
        r = s.rindex(")")
        comm[int(p)] = s[s.index("(") + 1:r]
        kids.setdefault(int(s[r + 2:].split()[1]), []).append(int(p))
    runs = sum(1 for p in kids.get(root, []) if comm.get(p) == "loopgate")
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out, runs


def pss(pid):
    tot = anon = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    tot = int(line.split()[1])
                elif line.startswith("Pss_Anon:"):
                    anon = int(line.split()[1])
    except OSError:
        pass
    return tot, anon


def main():
    root, out = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGTERM, on_term)
    best = {"peak_pss_kb": 0, "anon_at_peak_kb": 0, "procs_at_peak": 0,
            "runs_at_pss_peak": 0, "peak_runs": 0, "samples": 0}
    while not stop:
        pids, runs = tree(root)
        tot = anon = 0
        for p in pids:
            t, a = pss(p)
            tot += t
            anon += a
        best["samples"] += 1
        best["peak_runs"] = max(best["peak_runs"], runs)
        if tot > best["peak_pss_kb"]:
            best.update(peak_pss_kb=tot, anon_at_peak_kb=anon,
                        procs_at_peak=len(pids), runs_at_pss_peak=runs)
        time.sleep(0.5)
    with open(out, "w") as f:
        json.dump(best, f)


if __name__ == "__main__":
    main()
