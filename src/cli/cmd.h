/*
 * cmd: the subcommand table.  Each subcommand lives in its own cmd_*.c and
 * exports one entry (name, one-line summary, exec).  exec gets argv with
 * argv[0] = the subcommand name and returns the process exit status.
 */
#ifndef LOOPGATE_CMD_H
#define LOOPGATE_CMD_H

#include <jansson.h>
#include "base/buf.h"
#include <stddef.h>

struct cmd_entry {
	const char *name;
	const char *summary;
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_run_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_worker_entry;
extern const struct cmd_entry cmd_skills_entry;

/*
 * The end of `loopgate run` and `loopgate resume` (cmd_run.c): the status
 * line on stderr, the --json summary (json) on stdout.  Returns code.
 */
struct run;
struct buf;
int cmd_run_report(struct run *r, int code, int json, struct buf *err);
/*
 * `loopgate run`'s flags and config file (cmd_run.c), for run and once:
 * flags gets what argv says, cfg the config file with flags over it (not
 * finalized), *ui_flags the terminal's flags (UI_NO_PROGRESS).  Returns
 * -1 to go on, or the exit status after printing usage (0) or the error (2).  cmd_run_fail prints err (and the --json
 * error object) and returns code.
 */
struct config;
int cmd_run_load(int argc, char **argv, const char *name, const char *usage,
		 struct config *flags, struct config *cfg, int *ui_flags,
		 struct buf *err);
int cmd_run_fail(const struct config *c, int code, const struct buf *err);
struct run;
/* Run and once, after the config is final: the terminal set up and
 * watching r, signals caught, r initialised from cfg. */
void cmd_run_begin(struct run *r, const struct config *cfg, int ui_flags);
extern const struct cmd_entry cmd_once_entry;

/*
 * A command group with one subcommand (`loopgate gate check`, `loopgate
 * audit verify`): runs fn with argv starting at the subcommand, prints usage
 * for help (exit 0) or for anything else (exit 2, naming an unknown one).
 */
int cmd_group(int argc, char **argv, const char *sub, int (*fn)(int argc, char **argv),
	      const char *usage);
extern const struct cmd_entry cmd_gate_entry;
extern const struct cmd_entry cmd_audit_entry;
extern const struct cmd_entry cmd_runs_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_reindex_entry;
extern const struct cmd_entry cmd_rm_entry;
extern const struct cmd_entry cmd_review_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_verify_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_agent_entry;
extern const struct cmd_entry cmd_dispatch_entry;
extern const struct cmd_entry cmd_kueue_entry;

/* `loopgate __netprobe HOST[:PORT]` (cmd_netprobe.c). */
int netprobe_main(int argc, char **argv);

/* Exit statuses of the store commands (runs, show, reindex, review). */
enum { CMD_OK = 0, CMD_USAGE = 2, CMD_CANNOT = 3 };

struct store;
/*
 * Opens the run store of the repository holding dir (NULL: "."), building
 * it from the logs when missing; *repo gets the top level (NULL: not
 * wanted).  Prints the failure and returns its exit status, or 0.
 */
int cmd_store_open(const char *dir, struct store **st, char **repo);
/*
 * Resolves RUN (a unique prefix of a run id) into id; prints the failure
 * and returns its exit status (2 unknown or ambiguous), or 0.
 */
int cmd_store_find(struct store *st, const char *run, char id[65]);
/* "12.3s", "4m05s", "1h02m"; "-" for a negative (unknown) time. */
void cmd_runs_duration(double s, char *out, size_t n);
/* Prints v as one line of JSON with sorted keys; consumes v. */
void cmd_print_json(json_t *v);
/* Prints "loopgate: <msg>" and the usage hint for a bad option. */
int cmd_usage_error(const char *cmd, const char *arg);

#endif
