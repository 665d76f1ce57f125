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
extern const struct cmd_entry cmd_gate_entry;
extern const struct cmd_entry cmd_audit_entry;

#endif
