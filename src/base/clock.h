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
/*
 * Work that can wait for loopgate's next wait: fn(ctx) runs once, from the
 * next tick() (while a model's reply, a gate or a retry is awaited), off
 * the path to whatever loopgate does next.  One pending call per ctx (a
 * second tick_defer for it is the same call); when the table is full, fn
 * runs at once.  tick_defer_cancel(ctx) drops ctx's call (before ctx is
 * freed).  A forked child starts with none (its parent's ctx are not its
 * to use: an SQLite connection, say).  Main thread only.
 */
void tick_defer(void (*fn)(void *ctx), void *ctx);
void tick_defer_cancel(void *ctx);

#endif
