#!/usr/bin/env python3
"""roundtrip.py: one model round trip, loopgate against `codex exec`, on the
same fake server (issue 16: "One model round trip (setup, one call, one
gate, end) at least 10x faster than `codex exec` on the same fake server").

    roundtrip.py LOOPGATE CODEX FAKE_AGENT_API WORKDIR REPEATS

The server is tests/fake/fake_agent_api.py with a "direct" scenario: every
request, whatever its wire format, gets the final text at once, so each side
makes exactly one model call (checked in the server's log).

- codex: `codex exec` with the flags loopgate's codex preset passes
  (src/actor/agent.c), a provider of its own pointing at the server
  (Responses API), an empty HOME of its own; no sandbox (danger-full-access).
- loopgate: `loopgate run --model openai/... --base-url` (Chat Completions)
  on a fresh one-commit repository, gate `false`, --max-iterations 1: setup
  (worktree, store, signed log, the jail), the baseline gate, one call, one
  gate, the end (summary, report.html, handoff.md), sandbox on.

Each figure is the wall time from spawn to exit (and the peak RSS wait4
reports for the process and its waited-for descendants), REPEATS runs a side
after one warm-up each, interleaved; the medians and their ratio are printed,
with the verdict against 10x.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_RATIO = 10.0


def timed(argv, cwd, env, out_path):
    """(wall ms, maxrss KB, exit code) of one process tree."""
    with open(out_path, "wb") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        ms = (time.monotonic() - t0) * 1000.0
    p.returncode = os.waitstatus_to_exitcode(status)
    return ms, ru.ru_maxrss, p.returncode


def make_repo(d):
    os.makedirs(d)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@x",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@x")
    for argv in (["git", "init", "-q", "-b", "main", "."],
                 ["sh", "-c", "echo 0 >counter.txt"],
                 ["git", "add", "counter.txt"],
                 ["git", "commit", "-q", "-m", "initial"]):
        subprocess.run(argv, cwd=d, env=env, check=True)


def requests_of(log):
    try:
        with open(log) as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def start_server(fake, wd):
    scen = os.path.join(wd, "scenario.json")
    with open(scen, "w") as f:
        json.dump({"file": "counter.txt", "old": "0", "new": "1",
                   "direct": True, "answer": "Nothing to change.",
                   "usage": {"in": 1000, "out": 50, "cached": 0}}, f)
    port_file = os.path.join(wd, "port")
    log = os.path.join(wd, "fake.log")
    srv = subprocess.Popen([sys.executable, fake, "--scenario", scen, "--log", log,
                            "--port-file", port_file],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists(port_file) and os.path.getsize(port_file):
            break
        if srv.poll() is not None:
            sys.exit("roundtrip: the fake server exited")
        time.sleep(0.01)
    else:
        srv.kill()
        sys.exit("roundtrip: the fake server did not start")
    with open(port_file) as f:
        return srv, "http://127.0.0.1:%s/v1" % f.read().strip(), log


def codex_argv(codex, url):
    return [codex, "exec", "--json", "--skip-git-repo-check", "--ephemeral",
            "--color", "never", "--sandbox", "danger-full-access",
            "-c", 'approval_policy="never"', "-m", "gpt-bench",
            "-c", 'model_provider="bench"',
            "-c", 'model_providers.bench.name="bench"',
            "-c", 'model_providers.bench.base_url="%s"' % url,
            "-c", 'model_providers.bench.env_key="OPENAI_API_KEY"',
            "-c", 'model_providers.bench.wire_api="responses"',
            "Say whether counter.txt needs a change."]


def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    loopgate, codex, fake, wd, repeats = sys.argv[1:6]
    repeats = int(repeats)
    srv, url, log = start_server(fake, wd)
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("OPENAI", "CODEX", "ANTHROPIC", "GEMINI"))}
    sides = {"codex": [], "loopgate": []}
    try:
        for r in range(repeats + 1):  # run 0 is the warm-up
            for side in ("codex", "loopgate"):
                d = os.path.join(wd, "%s.%d" % (side, r))
                make_repo(d)
                before = requests_of(log)
                if side == "codex":
                    home = os.path.join(wd, "home.%d" % r)
                    os.makedirs(home)
                    env = dict(base_env, HOME=home, OPENAI_API_KEY="sk-bench-0123456789")
                    argv = codex_argv(codex, url)
                else:
                    env = dict(base_env, OPENAI_API_KEY="sk-bench-0123456789")
                    argv = [loopgate, "run", "--dir", d, "--goal",
                            "Say whether counter.txt needs a change.",
                            "--gate", "false", "--model", "openai/gpt-bench",
                            "--base-url", url, "--max-iterations", "1", "--json"]
                ms, rss, rc = timed(argv, d, env, d + ".out")
                calls = requests_of(log) - before
                want_rc = 1 if side == "loopgate" else 0
                if rc != want_rc or calls != 1:
                    with open(d + ".out", "rb") as f:
                        sys.stderr.write(f.read()[-2000:].decode("utf-8", "replace"))
                    sys.exit("roundtrip: %s exited %d (expected %d) after %d model "
                             "calls (expected 1)" % (side, rc, want_rc, calls))
                if r:
                    sides[side].append((ms, rss))
                if side == "codex":
                    shutil.rmtree(home, ignore_errors=True)
    finally:
        srv.kill()
        srv.wait()
    med = {k: statistics.median(m for m, _ in v) for k, v in sides.items()}
    rss = {k: statistics.median(x for _, x in v) for k, v in sides.items()}
    print("one model round trip, the same fake server, %d runs a side (medians):" % repeats)
    print("  codex exec          %7.1f ms  peak RSS %6.1f MB  (one call, no sandbox)"
          % (med["codex"], rss["codex"] * 1024 / 1e6))
    print("  loopgate run        %7.1f ms  peak RSS %6.1f MB  (setup, baseline gate, one "
          "call, one gate, end; sandbox on)" % (med["loopgate"], rss["loopgate"] * 1024 / 1e6))
    ratio = med["codex"] / med["loopgate"]
    print("verdict: one round trip at least %.0fx faster than codex exec: %s (%.1fx)"
          % (TARGET_RATIO, "MET" if ratio >= TARGET_RATIO else "NOT MET", ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
