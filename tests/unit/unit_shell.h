/*
 * unit_shell.h: shell commands for unit tests that compare loopgate's answer
 * with a real tool's (git above all).  FMT may use %s up to four times, each
 * replaced by ARG:
 *
 *   CHECK_INT(unit_sh("git -C %s commit -qm x", repo), 0);
 *   char *head = unit_out("git -C %s rev-parse HEAD", repo);   ...free(head);
 */
#ifndef LOOPGATE_UNIT_SHELL_H
#define LOOPGATE_UNIT_SHELL_H

#include <stdio.h>
#include <stdlib.h>
#include "base/buf.h"

/* system()'s status of the command. */
static inline int unit_sh(const char *fmt, const char *arg)
{
	char *cmd = xasprintf(fmt, arg, arg, arg, arg);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

/* The command's standard output, right-trimmed; "" when it failed. */
static inline char *unit_out(const char *fmt, const char *arg)
{
	char *cmd = xasprintf(fmt, arg, arg, arg, arg);
	struct buf b = BUF_INIT;
	char chunk[4096];
	FILE *p = popen(cmd, "r");
	size_t n;

	while (p && (n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(&b, chunk, n);
	if (p && pclose(p) != 0)
		buf_reset(&b);
	buf_rtrim(&b);
	free(cmd);
	return buf_detach(&b, NULL);
}

#endif
