#!/usr/bin/env python3
"""soak.py: kill loopgate at random moments and resume, many times.

    python3 tools/soak.py [--runs 20] [--files 3000] [--seed N] [--bin PATH]

Each run works on a copy of one repository of FILES files (a small Python
project whose add() subtracts, plus FILES filler files, so that `git
worktree add` takes a while) against the project's fake model server
(tests/fake/fake_model.py, one reply that fixes add(), 150 ms late, so
that a model call is in flight often).  The run is killed with SIGKILL 1 to
4 times, each at a random moment of the run or of the resume that follows,
either loopgate alone or its whole process group, then resumed until it
ends.  A run killed before its log began is started again (what a user
would do: there is nothing to resume).

Every run must end converged, with the uninterrupted run's tree, a log that
`loopgate audit verify` accepts, one run_end, its spend counted once (the
summary's tokens and calls equal the sum of the log's model_attempt records
plus what resumes charged for calls killed in flight), and no process left
working in its repository once the run lock is free.  Prints one line per
run and a last line "soak: N runs, N kills, N failed"; exits 1 on a failure,
keeping that run's directory for a look.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import fcntl

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE = os.path.join(ROOT, "tests", "fake", "fake_model.py")

REPLY = """add() subtracts; it must add.

calc.py
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
"""

TEST_SH = """#!/bin/sh
out=$(python3 -B -c 'import calc; print(calc.add(2, 3))')
if [ "$out" != 5 ]; then
\techo "test.sh:3: FAIL add(2, 3) returned $out, expected 5"
\texit 1
fi
echo "1 passed, 0 failed"
"""

CONFIG = """models:
  m:
    provider: openai
    price_in: 1000
    price_out: 2000
"""


def sh(*argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def make_template(path, files):
    os.makedirs(path)
    sh("git", "init", "-q", "-b", "main", path)
    with open(os.path.join(path, "calc.py"), "w") as f:
        f.write("def add(a, b):\n    return a - b\n")
    with open(os.path.join(path, "test.sh"), "w") as f:
        f.write(TEST_SH)
    for i in range(files):
        d = os.path.join(path, "src", "d%02d" % (i % 60))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%05d.txt" % i), "w") as f:
            f.write(("line %d of a file that makes the checkout slow\n" % i) * 40)
    sh("git", "-C", path, "add", "-A")
    sh("git", "-C", path, "-c", "user.name=soak", "-c", "user.email=soak@localhost",
       "commit", "-q", "-m", "initial")


def start_fake(work):
    script = os.path.join(work, "script.json")
    with open(script, "w") as f:
        json.dump({"replies": [{"content": REPLY, "delay_ms": 150}],
                   "repeat_last": True}, f)
    port_file = os.path.join(work, "fake.port")
    p = subprocess.Popen([sys.executable, FAKE, "--script", script,
                          "--log", os.path.join(work, "fake.log"),
                          "--port-file", port_file],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists(port_file):
        if time.monotonic() > deadline or p.poll() is not None:
            raise SystemExit("soak: the fake model server did not start")
        time.sleep(0.01)
    with open(port_file) as f:
        return p, "http://127.0.0.1:%s/v1" % f.read().strip()


class Soak:
    def __init__(self, args, work, url):
        self.bin, self.work, self.url, self.args = args.bin, work, url, args
        self.config = os.path.join(work, "lg.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG)

    def run_argv(self, repo):
        return [self.bin, "run", "--dir", repo, "--goal", "make add() add",
                "--gate", "sh test.sh", "--model", "openai/m", "--base-url",
                self.url, "--config", self.config, "--json", "--no-progress"]

    def resume_argv(self, repo):
        return [self.bin, "resume", self.run_id(repo), "--dir", repo, "--json",
                "--no-progress"]

    @staticmethod
    def run_id(repo):
        """The run whose log began; else the newest run directory (a run
        killed before its log began leaves one with nothing in it, and
        the run started again makes another)."""
        runs = os.path.join(repo, ".loopgate", "runs")
        ids = os.listdir(runs) if os.path.isdir(runs) else []
        for rid in ids:
            try:
                with open(os.path.join(runs, rid, "events.jsonl"), "rb") as f:
                    if b'"kind":"run_start"' in f.read(1 << 20):
                        return rid
            except OSError:
                pass
        ids.sort(key=lambda rid: os.stat(os.path.join(runs, rid)).st_mtime)
        return ids[-1] if ids else None

    def started(self, repo):
        rid = self.run_id(repo)
        if not rid:
            return False
        log = os.path.join(repo, ".loopgate", "runs", rid, "events.jsonl")
        try:
            with open(log, "rb") as f:
                return b'"kind":"run_start"' in f.read(1 << 20)
        except OSError:
            return False

    def spawn(self, argv, out):
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def attempt(self, repo, out_path):
        argv = self.resume_argv(repo) if self.started(repo) else self.run_argv(repo)
        out = open(out_path, "w")
        return self.spawn(argv, out), out

    def once(self, i, ref_ms, rng):
        repo = os.path.join(self.work, "r%03d" % i)
        shutil.copytree(os.path.join(self.work, "template"), repo, symlinks=True)
        out_path = os.path.join(self.work, "r%03d.out" % i)
        moments, code = [], None
        for _ in range(rng.randint(1, 4)):
            p, out = self.attempt(repo, out_path)
            at = rng.uniform(0, ref_ms * 1.2) / 1000.0
            group = rng.random() < 0.5
            try:
                code = p.wait(timeout=at)
            except subprocess.TimeoutExpired:
                if group:
                    os.killpg(p.pid, signal.SIGKILL)
                else:
                    p.kill()
                p.wait()
                moments.append("%s@%dms" % ("group" if group else "pid", at * 1000))
            out.close()
            if code is not None:
                break  # it ended before the kill came
            self.wait_lock(repo)
        # Resumed to the end (a resume racing a dying warden may find the
        # lock held: exit 2 naming the pid; then once more).
        for _ in range(3):
            if code == 0:
                break
            self.wait_lock(repo)
            p, out = self.attempt(repo, out_path)
            code = p.wait(timeout=self.args.timeout)
            out.close()
            with open(out_path) as f:
                if "already ended" in f.read():
                    code = 0
        return repo, out_path, code, moments

    def wait_lock(self, repo):
        rid = self.run_id(repo)
        if not rid:
            return
        lock = os.path.join(repo, ".loopgate", "runs", rid, "lock")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                fd = os.open(lock, os.O_RDWR)
            except OSError:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError:
                time.sleep(0.02)
            finally:
                os.close(fd)
        raise AssertionError("the run lock stays held 30 s after the kill")

    def check(self, repo, out_path, code, ref):
        with open(out_path) as f:
            text = f.read()
        assert code == 0, "exit %s: %s" % (code, text[-400:])
        rid = self.run_id(repo)
        with open(os.path.join(repo, ".loopgate", "runs", rid, "summary.json")) as f:
            s = json.load(f)
        assert s["status"] == "converged", s
        tree = sh("git", "-C", repo, "rev-parse", "loopgate/%s^{tree}" % rid).stdout.strip()
        assert tree == ref["tree"], "tree %s, uninterrupted %s" % (tree, ref["tree"])
        log = os.path.join(repo, ".loopgate", "runs", rid, "events.jsonl")
        recs = [json.loads(l) for l in open(log)]
        att = [r["body"] for r in recs if r["kind"] == "model_attempt"]
        chg = [r["body"]["charged"] for r in recs
               if r["kind"] == "resume" and r["body"].get("charged")]
        tin = sum(a.get("tokens_in", 0) for a in att) + sum(c.get("tokens_in", 0) for c in chg)
        tout = sum(a.get("tokens_out", 0) for a in att) + sum(c.get("tokens_out", 0) for c in chg)
        assert (s["tokens_in"], s["tokens_out"]) == (tin, tout), \
            "summary spend %s/%s, log %s/%s" % (s["tokens_in"], s["tokens_out"], tin, tout)
        assert s["calls"] == len(att) + len(chg), (s["calls"], len(att), len(chg))
        kinds = [r["kind"] for r in recs]
        assert kinds.count("run_end") == 1 and kinds[-1] == "run_end", kinds[-3:]
        sh(self.bin, "audit", "verify", rid, "--dir", repo)
        self.wait_lock(repo)
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cwd = os.readlink("/proc/%s/cwd" % pid)
            except OSError:
                continue
            if cwd.startswith(repo + "/"):
                raise AssertionError("survivor pid %s in %s" % (pid, cwd))
        return len(chg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--bin", default=os.environ.get("LOOPGATE_BIN",
                                                    os.path.join(ROOT, "loopgate")))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="loopgate-soak-")
    print("soak: seed %d, %d runs, %d files, in %s" % (args.seed, args.runs,
                                                       args.files, work))
    make_template(os.path.join(work, "template"), args.files)
    fake, url = start_fake(work)
    failed = total_kills = 0
    try:
        soak = Soak(args, work, url)
        ref_repo = os.path.join(work, "ref")
        shutil.copytree(os.path.join(work, "template"), ref_repo, symlinks=True)
        t0 = time.monotonic()
        r = subprocess.run(soak.run_argv(ref_repo), capture_output=True, text=True)
        ref_ms = (time.monotonic() - t0) * 1000
        s = json.loads(r.stdout)
        assert s["status"] == "converged", r.stdout + r.stderr
        ref = {"tree": sh("git", "-C", ref_repo, "rev-parse",
                          "loopgate/%s^{tree}" % s["run_id"]).stdout.strip()}
        print("soak: the uninterrupted run took %d ms" % ref_ms)
        for i in range(args.runs):
            repo, out, code, moments = soak.once(i, ref_ms, rng)
            total_kills += len(moments)
            try:
                charged = soak.check(repo, out, code, ref)
                print("run %3d: killed %d times (%s), converged%s" %
                      (i, len(moments), " ".join(moments) or "after it ended",
                       ", %d in-flight calls charged" % charged if charged else ""))
                shutil.rmtree(repo)
            except AssertionError as e:
                failed += 1
                print("run %3d: FAILED after kills %s: %s (kept: %s)" %
                      (i, " ".join(moments), e, repo))
    finally:
        fake.kill()
        fake.wait()
    print("soak: %d runs, %d kills, %d failed" % (args.runs, total_kills, failed))
    if not failed:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
