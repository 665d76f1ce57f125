/*
 * gatecheck: can each gate catch a defect? (`loopgate gate check`)
 *
 * A gate that passes whatever the code does would let any change
 * "converge".  The check runs every gate on a detached worktree of HEAD,
 * then plants a small defect in a source file (deterministically: same
 * repository, same sites) and runs the gates that passed on HEAD again.  A
 * gate that fails on the mutant catches defects; one that misses every
 * planted defect (up to CHECK_MAX_SITES) is suspect.  The recorded runs
 * under .loopgate/runs are scanned too: a gate command that never failed
 * in any of them is flagged.  See docs/design/gates.md, "Verifier health".
 *
 *   struct check ck;  memset(&ck, 0, sizeof(ck));  config_init(&ck.cfg);
 *   ... ck.cfg loaded and config_finalize_gates'd, ck.repo the top level ...
 *   ck.progress = fn;                  optional: told of each gate run
 *   gatecheck_run(&ck, &err);          0 or -errno (err set)
 *   gatecheck_verdict(&ck, &ck.g[i])   per gate; ck.g[i] holds the facts
 *   gatecheck_remove_tree(&ck, &err);  the worktree goes (outputs stay)
 *   gatecheck_release(&ck);
 *
 * The user's tree is never touched: everything happens in
 * .loopgate/check/<id>/tree (record/rundir.h), removed at the end (the
 * gates' outputs stay in .loopgate/check/<id>/).  Nothing here prints:
 * cli/cmd_gate.c parses the flags and prints the report.
 */
#ifndef LOOPGATE_GATECHECK_H
#define LOOPGATE_GATECHECK_H

#include <stddef.h>
#include "base/buf.h"
#include "base/strlist.h"
#include "config/config.h"
#include "exec/proc.h"
#include "exec/sandbox.h"
#include "judge/plant.h"

#define CHECK_MAX_SITES	 5
#define HISTORY_MAX_RUNS 10000
/* A planted defect may make a gate hang (a loop that never ends): that is a
 * catch, and waiting the full gate timeout for it would be pointless. */
#define MUTANT_TIMEOUT_MIN_MS 10000
#define MUTANT_TIMEOUT_FACTOR 5

/* One gate's result on one planted site. */
struct plant_run {
	size_t site;
	int caught;
	int exit_code;
	char *describe;
	char *output_file;
};

struct gcheck {
	const char *cmd;
	int head_passed, head_exit;
	char *head_desc, *head_output;
	double head_ms;
	struct plant_run runs[CHECK_MAX_SITES];
	size_t nruns;
	int caught;
	long hist_runs, hist_failures; /* failures: runs where it failed */
};

struct check {
	struct config cfg;
	char id[64];
	char *repo, *head, *dir, *tree;
	int tree_made;
	struct proc_env env;
	struct sandbox sb; /* every gate runs in it (sandbox.h) */
	int sb_made;
	struct gcheck *g;
	size_t ng;
	struct strlist locs; /* files named in the HEAD outputs */
	struct plant_site sites[CHECK_MAX_SITES];
	size_t nsites;
	/* told of each gate run (gate index, "head" or "planted-N"); NULL: none */
	void (*progress)(void *ctx, size_t gate, const char *sub);
	void *progress_ctx;
};

enum verdict { V_CATCHES, V_SUSPECT, V_FAILS_ON_HEAD, V_NOTHING_PLANTED };

/* The whole check: worktree and sandbox, the gates on HEAD, the planted
 * defects, the history of recorded runs.  0 or -errno with err set
 * (-EINTR when interrupted). */
int gatecheck_run(struct check *ck, struct buf *err);
/* Gate g's verdict, its JSON key ("catches", "suspect", "not_checkable")
 * and its sentence (the caller frees it). */
enum verdict gatecheck_verdict(const struct check *ck, const struct gcheck *g);
const char *gatecheck_verdict_key(enum verdict v);
char *gatecheck_verdict_text(const struct check *ck, const struct gcheck *g);
/* 1 when recorded runs ran g's command and it never failed in any. */
int gatecheck_history_suspect(const struct gcheck *g);
/* Removes the check's worktree; -EIO with err set when it is still there. */
int gatecheck_remove_tree(struct check *ck, struct buf *err);
void gatecheck_release(struct check *ck);

#endif
