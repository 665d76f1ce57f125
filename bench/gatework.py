#!/usr/bin/env python3
"""gatework.py: the CPU-bound gate of the gate-cache bench (bench/run.sh).

    gatework.py ROUNDS          ROUNDS chained SHA-256 hashes; prints the
                                digest and exits 1 (a failing gate, so the
                                loop goes on)
    gatework.py calibrate MS    prints the ROUNDS for which one whole gate
                                process, `python3 -I -S gatework.py ROUNDS`
                                (interpreter start included), takes about
                                MS milliseconds on this machine

The work is deterministic: the same ROUNDS always compute the same digest, so
the gate's output, and with it loopgate's failure fingerprint, never changes.
Calibration fixes ROUNDS once per bench run; every gate of that run then does
exactly the same work.
"""
import hashlib
import subprocess
import sys
import time


def work(rounds):
    h = b"loopgate bench gate"
    sha = hashlib.sha256
    for _ in range(rounds):
        h = sha(h).digest()
    return h.hex()


def gate_ms(rounds):
    """Wall time of one whole gate process doing ROUNDS, in ms."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", __file__, str(rounds)],
                   stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000.0


def calibrate(target_ms):
    # the process before any work (interpreter start, imports): median of 3
    start = sorted(gate_ms(0) for _ in range(3))[1]
    # a first guess from the loop timed in this process ...
    n = 1000
    while True:
        t = time.perf_counter()
        work(n)
        ms = (time.perf_counter() - t) * 1000.0
        if ms >= 40.0:
            break
        n *= 2
    budget_ms = max(target_ms - start, 5.0)
    n = max(1000, int(n * budget_ms / ms))
    # ... corrected by whole gate processes (a fresh interpreter runs the
    # loop slower than this warm one): best of two at the guessed size
    per_round = max(min(gate_ms(n) for _ in range(2)) - start, 1.0) / n
    return max(1, int(budget_ms / per_round))


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "calibrate":
        print(calibrate(float(a[1])))
        return 0
    if len(a) == 1 and a[0].isdigit():
        print("gatework: %s rounds of SHA-256: %s" % (a[0], work(int(a[0]))))
        print("gatework: FAIL (this gate fails on purpose)")
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
