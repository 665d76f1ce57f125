/*
 * cmdscan: the files a gate command runs as programs, read from its shell
 * text, so that protection guards the goal without blocking it.
 *
 *   struct strlist run = {NULL, 0};
 *   cmdscan_executed("cc -o t main.c && ./t; sh test.sh", &run);
 *   ... run holds "t" and "test.sh"; main.c is a compiler's input ...
 *   strlist_clear(&run);
 *
 * A path is executed when it is the command word of a simple command and
 * holds a slash (`./run-tests`, `ci/check`), the file of `.` / `source`,
 * the script argument of an interpreter (`sh test.sh`, `bash -e ci.sh`,
 * `python3 -W error check.py`, `node run.js`, `ruby`, `perl`, `php`,
 * `Rscript`, `bats`, `awk -f prog.awk`), a makefile given to make with
 * -f/--file, or the file an interpreter without a script reads on its
 * standard input (`sh <test.sh`).  Wrappers are looked through (`env
 * A=1`, `timeout 60`, `nice`, `time`, `exec`, `command`, `nohup`), as
 * are `sh -c '...'` and `$(...)` / backquotes; `cd DIR` moves later
 * relative paths.  The arguments of other programs (`cc main.c`, `grep -q
 * x calc.py`, `wc -l <f`) are not executed, and neither are inline code
 * (`python3 -c`, `node -e`) or modules (`python3 -m pytest`).
 *
 * This reads the shell language closely enough for gate commands (quotes,
 * escapes, operators, redirections, substitutions); words whose value is
 * only known at run time (`$VAR/x.sh`) are skipped, never guessed.  Paths
 * come out relative to the gate's directory, without "./", never with ".."
 * or a leading "/"; existence is the caller's to check.
 */
#ifndef LOOPGATE_CMDSCAN_H
#define LOOPGATE_CMDSCAN_H

#include "base/strlist.h"

void cmdscan_executed(const char *cmd, struct strlist *out);

#endif
