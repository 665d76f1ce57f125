#!/usr/bin/env python3
"""rss.py: peak resident set size of ONE process, not of its descendants.

    python3 rss.py OUT.json -- COMMAND [ARG...]
    python3 rss.py --selftest

Runs COMMAND (stdin, stdout and stderr inherited), exits with its exit
status (128+N for signal N) and writes to OUT.json:

  {"exit": N, "hwm_kb": K, "method": "...", "wait4_maxrss_kb": M,
   "at_exit": {"status": {"RssAnon": KiB, "RssFile": .., "RssShmem": ..},
               "files": [[mapping, resident KiB], ...]}}

hwm_kb is VmHWM of COMMAND's own process (its memory's high-water mark,
in KiB) read from /proc/PID/status at the last moment it exists: the
process is started with PTRACE_TRACEME and PTRACE_O_TRACEEXIT, so the
kernel stops it in do_exit() before its memory is released, where VmHWM
is final.  Only that process is traced (no TRACEFORK): its children run
untraced, and signals it receives are passed on unchanged.  The ptrace
stops cost a few microseconds per signal, so run timing measurements
separately.  If ptrace is refused (some containers), method is "poll":
VmHWM is sampled every millisecond until the process exits, which may miss
growth in its last millisecond (RSS_NO_PTRACE=1 forces this method).

Why not simply getrusage/wait4: on Linux, ru_maxrss of the rusage that
wait4() returns for a child is max(the child's own peak, the peak of every
descendant the child itself waited for) (kernel getrusage(RUSAGE_BOTH)
folds in signal->cmaxrss), and RUSAGE_CHILDREN is the same maximum over
all waited-for children.  For loopgate that is max(loopgate, git, sh, the
gates...): a 2 MB loopgate running a 60 MB `git commit` reads as 60 MB.
`--selftest` shows this: a parent of ~20 MB waits for a child of ~150 MB;
wait4 reports ~150 MB, VmHWM at exit ~20 MB.  wait4_maxrss_kb is kept in
the output as the "loopgate plus everything it ran" figure; note that it
even counts the forked copy of this Python wrapper before execve (~10 MB):
a 1.7 MB `sh -c 'sleep 0.1'` reads as ~11 MB through wait4.  VmHWM belongs
to the memory map, which execve replaces, so it has no such artefact.
"""
import ctypes
import json
import os
import signal
import sys
import time

PTRACE_TRACEME = 0
PTRACE_CONT = 7
PTRACE_SETOPTIONS = 0x4200
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXIT = 6

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def vm_hwm(pid):
    """VmHWM of pid in KiB, or None once its memory is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def at_exit_detail(pid):
    """Current RssAnon/RssFile/RssShmem and Pss/Pss_Anon/Pss_File (KiB) and
    the mappings with the most resident KiB, read at the exit stop (ptrace
    method only)."""
    out = {"status": {}, "files": {}}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("RssAnon", "RssFile", "RssShmem"):
                    out["status"][k] = int(line.split()[1])
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("Pss", "Pss_Anon", "Pss_File"):
                    out["status"][k] = int(line.split()[1])
        name = None
        with open("/proc/%d/smaps" % pid) as f:
            for line in f:
                v = line.split()
                if not v[0].endswith(":") or "-" in v[0]:
                    name = v[5] if len(v) > 5 else "[anon]"
                elif v[0] == "Rss:":
                    out["files"][name] = out["files"].get(name, 0) + int(v[1])
    except OSError:
        pass
    top = sorted(out["files"].items(), key=lambda kv: -kv[1])[:12]
    out["files"] = [[os.path.basename(k), kb] for k, kb in top]
    return out


def run(argv, detail=None):
    """Returns (exit code, hwm KiB, method, wait4 ru_maxrss KiB)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: ask to be traced, tell the parent, exec
        os.close(rfd)
        ok = (os.environ.get("RSS_NO_PTRACE") != "1" and
              libc.ptrace(PTRACE_TRACEME, 0, None, None) == 0)
        os.write(wfd, b"1" if ok else b"0")
        try:  # wfd is close-on-exec: the parent sees EOF once exec is done
            os.execvp(argv[0], argv)
        except OSError as e:
            sys.stderr.write("rss.py: cannot run %s: %s\n" % (argv[0], e))
        os._exit(127)
    os.close(wfd)
    traced = os.read(rfd, 1) == b"1"
    while os.read(rfd, 64):  # wait for the execve (or the child's end)
        pass
    os.close(rfd)
    hwm = None
    if not traced:
        while True:
            wpid, status, ru = os.wait4(pid, os.WNOHANG)
            if wpid:
                break
            h = vm_hwm(pid)
            if h is not None:
                hwm = max(hwm or 0, h)
            time.sleep(0.001)
        return os.waitstatus_to_exitcode(status), hwm, "poll", ru.ru_maxrss
    first = True
    while True:
        _, status, ru = os.wait4(pid, 0)
        if not os.WIFSTOPPED(status):
            break
        sig = os.WSTOPSIG(status)
        event = status >> 16
        deliver = 0
        if first and sig == signal.SIGTRAP:
            # the stop after a successful execve: set the options
            first = False
            libc.ptrace(PTRACE_SETOPTIONS, pid, None,
                        ctypes.c_void_p(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL))
        elif sig == signal.SIGTRAP and event == PTRACE_EVENT_EXIT:
            h = vm_hwm(pid)
            if h is not None:
                hwm = max(hwm or 0, h)
            if detail is not None:
                detail.update(at_exit_detail(pid))
        elif event == 0:
            deliver = sig  # an ordinary signal: pass it on
        libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(deliver))
    return os.waitstatus_to_exitcode(status), hwm, "ptrace-exit", ru.ru_maxrss


def selftest():
    """A ~20 MB parent that waits for a ~150 MB child (see the docstring)."""
    code = ("import subprocess,sys; a=bytearray(20<<20); "
            "subprocess.run([sys.executable,'-c','b=bytearray(150<<20)'])")
    rc, hwm, method, w4 = run([sys.executable, "-c", code])
    print("selftest: exit %d, method %s: VmHWM at exit %.1f MB, "
          "wait4 ru_maxrss %.1f MB" % (rc, method, hwm / 1024, w4 / 1024))
    ok = rc == 0 and hwm is not None and hwm < 60 * 1024 < w4
    print("selftest: %s (the parent alone is ~20-30 MB; wait4 %s the child)"
          % ("ok" if ok else "FAILED", "includes" if w4 > 100 * 1024 else
             "does not include"))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.stderr.write("usage: rss.py OUT.json -- COMMAND [ARG...]\n")
        return 2
    detail = {}
    rc, hwm, method, w4 = run(sys.argv[3:], detail)
    with open(sys.argv[1], "w") as f:
        json.dump({"exit": rc, "hwm_kb": hwm, "method": method,
                   "wait4_maxrss_kb": w4, "at_exit": detail}, f)
    return rc if rc >= 0 else 128 - rc  # COMMAND's exit status, shell-style


if __name__ == "__main__":
    sys.exit(main())
