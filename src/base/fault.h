/*
 * fault: named fault-injection points, for the crash and fault tests.
 *
 * The environment variable LOOPGATE_FAULT lists faults, comma-separated,
 * each NAME or NAME@N (the Nth time the point is reached; default 1):
 *
 *   LOOPGATE_FAULT=kill:after_event.commit@2,fail:fdatasync@3
 *
 *   fault_kill("after_event.commit");   SIGKILLs the process itself when
 *                                       "kill:after_event.commit" is due
 *   if (fault_fail("fdatasync")) ...    1 when "fail:fdatasync" is due:
 *                                       the caller fails as if the system
 *                                       call had returned EIO
 *
 * Points count their own hits (per process).  With LOOPGATE_FAULT unset
 * every call is a cheap no-op (the variable is read once).  This is a
 * testing hook: it can only make loopgate die or fail, never succeed.
 */
#ifndef LOOPGATE_FAULT_H
#define LOOPGATE_FAULT_H

/* Raises SIGKILL when "kill:<point>" is due. */
void fault_kill(const char *point);
/* 1 when "kill:<point>" is due, without killing: the caller does the
 * partial work it wants to crash in the middle of, then fault_die(). */
int fault_kill_due(const char *point);
void fault_die(void) __attribute__((noreturn));
/* 1 when "fail:<point>" is due, else 0. */
int fault_fail(const char *point);
/* LOOPGATE_FAULT_DELAY_MS (default 0): how long a child spawned under a
 * due "kill:git..." point runs before loopgate dies (exec/proc.c). */
long fault_delay_ms(void);
/* Is any fault configured at all?  (Lets callers skip building names.) */
int fault_active(void);
/* 1 when a configured fault's name starts with prefix ("kill:git"). */
int fault_named(const char *prefix);

#endif
