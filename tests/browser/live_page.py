#!/usr/bin/env python3
"""live_page.py URL EVENTS PROFILE: opens URL (a `loopgate serve` run page)
in headless Chromium driven over the DevTools pipe, appends one record to
EVENTS (that run's events.jsonl) once the page has loaded, and checks that
the page shows one more iteration within a second, through its own script
(live.js: server-sent events, then a reload of the page's content), with no
console error.  Prints the figures; exits non-zero on failure.  Offline:
only 127.0.0.1 is contacted."""
import fcntl, json, os, subprocess, sys, time

url, events, prof = sys.argv[1], sys.argv[2], sys.argv[3]


def high(fd):
    h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
    os.close(fd)
    return h


r3, w3 = map(high, os.pipe())  # Chromium reads commands on its fd 3
r4, w4 = map(high, os.pipe())  # and writes replies on its fd 4


def child():
    os.dup2(r3, 3)
    os.dup2(w4, 4)


proc = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
     "--user-data-dir=" + prof, "about:blank"],
    preexec_fn=child, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(r3)
os.close(w4)
pending, errors, last_id = b"", [], [0]


def call(method, params=None, session=None, timeout=20):
    global pending
    last_id[0] += 1
    msg = {"id": last_id[0], "method": method, "params": params or {}}
    if session:
        msg["sessionId"] = session
    os.write(w3, json.dumps(msg).encode() + b"\0")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        while b"\0" in pending:
            raw, pending = pending.split(b"\0", 1)
            d = json.loads(raw)
            if d.get("method") == "Log.entryAdded" and d["params"]["entry"]["level"] == "error":
                errors.append(d["params"]["entry"])
            if d.get("method") == "Runtime.exceptionThrown":
                errors.append(d["params"])
            if d.get("id") == last_id[0]:
                return d
        pending += os.read(r4, 1 << 16)
    sys.exit("no reply to %s" % method)


def iterations(s):
    d = call("Runtime.evaluate", {"expression": "document.readyState + ' ' + "
                                  "document.querySelectorAll('details.iter').length"}, s)
    state, n = d["result"]["result"]["value"].split()
    return state, int(n)


try:
    targets = call("Target.getTargets")["result"]["targetInfos"]
    tid = [t["targetId"] for t in targets if t["type"] == "page"][0]
    s = call("Target.attachToTarget", {"targetId": tid, "flatten": True})["result"]["sessionId"]
    call("Log.enable", session=s)
    call("Runtime.enable", session=s)
    call("Page.navigate", {"url": url}, s)
    end = time.monotonic() + 10
    state, before = iterations(s)
    while state != "complete" and time.monotonic() < end:
        time.sleep(0.02)
        state, before = iterations(s)
    # the script marks the page once its event stream is open (from then
    # on every record is sent: the page on screen holds the ones before)
    while time.monotonic() < end:
        d = call("Runtime.evaluate", {"expression": "document.documentElement.dataset.live"}, s)
        if d["result"]["result"].get("value") == "open":
            break
        time.sleep(0.02)
    else:
        sys.exit("the page's event stream never opened")
    rec = {"body": {"iteration": 99}, "h": "x", "kind": "iteration_start", "prev": "y",
           "seq": 9999, "ts": "2026-12-05T00:00:00.000Z"}
    t0 = time.monotonic()
    with open(events, "a") as f:
        f.write(json.dumps(rec, sort_keys=True) + "\n")
    after = before
    while after == before and time.monotonic() - t0 < 5:
        time.sleep(0.02)
        _, after = iterations(s)
    dt = time.monotonic() - t0
    print("iterations %d -> %d in %.3f s; console errors: %d" % (before, after, dt, len(errors)))
    assert after == before + 1, (before, after)
    assert dt < 1.0, dt
    assert not errors, errors
finally:
    proc.kill()
    proc.wait()
