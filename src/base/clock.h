/*
 * clock: monotonic and wall time in milliseconds, the process-wide
 * interrupt flag set by SIGINT/SIGTERM (see interrupt_install()), and the
 * tick hook that keeps a waiting process's display alive.
 */
#ifndef LOOPGATE_CLOCK_H
#define LOOPGATE_CLOCK_H

long long clock_ms(void); /* CLOCK_MONOTONIC */
double clock_wall(void);  /* seconds since the epoch, sub-second */
/* ISO 8601 UTC with milliseconds, into out (at least 32 bytes). */
void clock_iso8601(char *out, unsigned long size);

/* Installs SIGINT/SIGTERM handlers that only set the flag. */
void interrupt_install(void);
/* 0, or the signal number that was received. */
int interrupt_pending(void);

/*
 * The tick hook: called often (every 100 ms at most) while loopgate waits
 * on a child process, the network or a retry backoff, so the terminal's
 * status line can stay live.  Modules call tick(); only the ui sets it.
 */
void tick_set(void (*fn)(void *ctx), void *ctx);
void tick(void);

#endif
