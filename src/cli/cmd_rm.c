/*
 * cmd_rm.c: `loopgate rm RUN...` — deletes runs and everything they made:
 * their workers' runs and cluster jobs, worktrees, branches, directories
 * and rows in the run store.  The work is engine/run_remove.h's.
 */
#include "cli/cmd.h"
#include "engine/run_remove.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rm_usage[] =
	"usage: loopgate rm [--dir PATH] [--keep-branch] [--force] RUN...\n"
	"\n"
	"Deletes each run and what it made: the runs of its workers, their\n"
	"Kubernetes Jobs or Slurm jobs (deleted on the cluster, with the refs the\n"
	"workers pushed to the git remote), worktrees, branches loopgate/<id>...,\n"
	"run directories and rows in the run store.  A run that a loopgate process\n"
	"still drives is refused; so is one whose jobs cannot be deleted (the\n"
	"cluster does not answer): nothing of it is removed then.\n"
	"\n"
	"  RUN            a run id, or a unique prefix of one\n"
	"  --keep-branch  keep the run's branch loopgate/<id> (its result)\n"
	"  --force        remove the run even when its jobs cannot be deleted or\n"
	"                 its log cannot be read (the jobs are left running)\n"
	"  --dir PATH     the git repository (default .)\n"
	"  -h, --help\n"
	"\n"
	"Exit status: 0 every run removed, 1 a run was refused (still running, or\n"
	"its jobs could not be deleted), 2 usage error or unknown run, 3 the store\n"
	"could not be written.\n";

enum { O_DIR = 256, O_KEEP, O_FORCE };

static const struct option options[] = {
	{"dir", required_argument, NULL, O_DIR},
	{"keep-branch", no_argument, NULL, O_KEEP},
	{"force", no_argument, NULL, O_FORCE},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int rm_one(struct store *st, const char *repo, const char *run,
		  const struct run_remove_opts *o)
{
	struct buf said = BUF_INIT, err = BUF_INIT;
	char id[65];
	int code = cmd_store_find(st, run, id), ret;

	if (code != 0)
		return code;
	ret = run_remove(st, repo, id, o, &said, &err);
	fputs(said.s ? said.s : "", stdout);
	if (ret < 0)
		fprintf(stderr, "loopgate: %s\n", err.s);
	code = ret == -EBUSY || ret == -EIO || ret == -EBADMSG ? 1
	       : ret < 0				       ? CMD_CANNOT
							       : 0;
	buf_release(&said);
	buf_release(&err);
	return code;
}

static int cmd_rm(int argc, char **argv)
{
	struct run_remove_opts o = {0, 0};
	struct store *st;
	const char *dir = NULL;
	char *repo = NULL;
	int opt, code, worst = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(rm_usage, stdout);
			return CMD_OK;
		case O_DIR:
			dir = optarg;
			break;
		case O_KEEP:
			o.keep_branch = 1;
			break;
		case O_FORCE:
			o.force = 1;
			break;
		default:
			return cmd_usage_error("rm", argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "loopgate: which run? (loopgate rm RUN...; see "
				"loopgate runs)\n");
		return CMD_USAGE;
	}
	if ((code = cmd_store_open(dir, &st, &repo)) != 0)
		return code;
	for (int i = optind; i < argc; i++) {
		code = rm_one(st, repo, argv[i], &o);
		if (code > worst)
			worst = code;
	}
	store_close(st);
	free(repo);
	return worst;
}

const struct cmd_entry cmd_rm_entry = {"rm",
				       "delete runs: their workers, cluster jobs, "
				       "worktrees, branches and records",
				       cmd_rm};
