/*
 * warden: the process between loopgate and each child it starts, so that
 * no descendant of a child outlives loopgate (docs/design/resume-setup.md).
 *
 * PR_SET_PDEATHSIG reaches only the direct child: `git worktree add` dies
 * with loopgate, but the `git reset --hard` it started goes on writing the
 * worktree's index while a resume starts.  proc.c's forked child therefore
 * becomes a warden before it does anything else:
 *
 *   setsid();                       the group loopgate signals
 *   warden_start(loopgate_pid, fds, nfds, exec_cmd, arg, lean);
 *   ... returns only on failure; exec_cmd(arg) runs in the command's
 *   process (a vfork child: it must exec or _exit, never return) ...
 *
 * The warden leads the group, is a child subreaper, ignores the group's
 * SIGTERM/SIGINT (the command gets them), and exits as the command does
 * (the same exit code, or the same signal).  When loopgate dies (its
 * PR_SET_PDEATHSIG is SIGHUP) it SIGKILLs every descendant, reaping each,
 * until none is left, and only then exits.  It holds loopgate's
 * descriptors, the run lock among them: a resume cannot take the lock
 * while any process the dead run started is still alive.
 *
 * A warden is a fork of loopgate, so every page loopgate dirties after the
 * fork leaves the old copy private to the warden: about 1.2 MB for a
 * warden that lives as long as the run (the per-run jail's, a tool
 * server's, a fan-out worker's).  Such a warden (lean = 1) re-execs
 * loopgate as `loopgate __warden LOOPGATE_PID CMD_PID` once the command
 * has exec'd (warden_main; the signal mask, the ignored signals, the death
 * signal and the subreaper flag survive the exec, and so does a signal
 * already pending), keeping only the descriptors named by warden_keep_fd.
 * Only a program whose main dispatches `__warden` enables it
 * (warden_enable_reexec: loopgate's, not a unit test's); when the exec
 * fails the warden goes on as it is.  A warden of a short-lived child
 * (a git call, a gate) does not: the exec would cost more than it saves.
 *
 * Everything here runs between fork and exec: system calls only.
 */
#ifndef LOOPGATE_WARDEN_H
#define LOOPGATE_WARDEN_H

#include <sys/types.h>

/*
 * vforks the command's process and calls exec_cmd(arg) in it (its
 * PR_SET_PDEATHSIG set to SIGKILL, the signal mask left blocking SIGCHLD
 * and SIGHUP: exec_cmd resets it); exec_cmd must exec or _exit, with system
 * calls only, on the stack.  In the warden never returns.  close_fds:
 * descriptors the warden closes once the command has exec'd (the command's
 * pipe ends and the exec-report pipe, whose EOF must come from the command
 * alone).  Returns -errno when vfork fails.
 */
int warden_start(pid_t loopgate, const int *close_fds, int nclose,
		 void (*exec_cmd)(void *), void *arg, int lean);

/*
 * No warden: for a short command that starts no process of its own (a
 * hardened git call, git_proc.c).  vforks the command's process, which
 * leads a session of its own, dies by SIGKILL with loopgate
 * (PR_SET_PDEATHSIG) and inherits the descriptors warden_keep_fd named:
 * a resume cannot take the run lock while it lives.  exec_cmd(arg) as for
 * warden_start.  Returns its pid, or -errno when vfork fails.
 */
pid_t warden_direct(pid_t loopgate, void (*exec_cmd)(void *), void *arg);

/* Descriptors a re-exec'd warden keeps (the run lock): at most 16; a
 * descriptor is dropped from the list before it is closed. */
void warden_keep_fd(int fd);
void warden_drop_fd(int fd);
/* Closes every descriptor above 2 but those warden_keep_fd named and the
 * n in also (a warden that waits long: it holds no pipe or socket of
 * loopgate's that another process waits to see closed). */
void warden_close_except(const int *also, int n);
/* Called by loopgate's main, whose dispatch runs warden_main. */
void warden_enable_reexec(void);
/* `loopgate __warden LOOPGATE_PID CMD_PID`: only as the re-exec above;
 * 2 with a message when the process is not such a warden. */
int warden_main(int argc, char **argv);

#endif
