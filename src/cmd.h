/*
 * cmd: the subcommand table.  Each subcommand lives in its own cmd_*.c and
 * exports one entry (name, one-line summary, exec).  exec gets argv with
 * argv[0] = the subcommand name and returns the process exit status.
 */
#ifndef LOOPGATE_CMD_H
#define LOOPGATE_CMD_H

struct cmd_entry {
	const char *name;
	const char *summary;
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_resume_entry;

/*
 * The end of `loopgate run` and `loopgate resume` (cmd_run.c): the status
 * line on stderr, the --json summary (json) on stdout.  Returns code.
 */
struct run;
struct buf;
int cmd_run_report(struct run *r, int code, int json, const struct buf *err);

/*
 * A command group with one subcommand (`loopgate gate check`, `loopgate
 * audit verify`): runs fn with argv starting at the subcommand, prints usage
 * for help (exit 0) or for anything else (exit 2, naming an unknown one).
 */
int cmd_group(int argc, char **argv, const char *sub,
	      int (*fn)(int argc, char **argv), const char *usage);
extern const struct cmd_entry cmd_gate_entry;
extern const struct cmd_entry cmd_audit_entry;

#endif
