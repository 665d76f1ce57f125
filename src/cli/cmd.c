/*
 * cmd.c: what subcommand files share.  See cmd.h.
 */
#include "cli/cmd.h"
#include "store/store.h"
#include "record/checkpoint.h"
#include "config/config.h"
#include "tree/git.h"

#include <errno.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

int cmd_group(int argc, char **argv, const char *sub, int (*fn)(int argc, char **argv),
	      const char *usage)
{
	if (argc >= 2 && !strcmp(argv[1], sub))
		return fn(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "help"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc >= 2)
		fprintf(stderr, "loopgate: unknown %s command '%s'\n\n", argv[0],
			argv[1]);
	fputs(usage, stderr);
	return 2;
}

int cmd_store_open(const char *dir, struct store **st, char **repo)
{
	struct buf err = BUF_INIT;
	int ret = store_open_repo(st, dir, repo, NULL, &err);

	if (ret < 0)
		fprintf(stderr, "loopgate: %s\n", err.s);
	buf_release(&err);
	/* not a git repository: the user named the wrong --dir */
	return ret == -ENOENT ? CMD_USAGE : ret < 0 ? CMD_CANNOT : CMD_OK;
}

int cmd_store_find(struct store *st, const char *run, char id[65])
{
	struct buf err = BUF_INIT;
	int ret = store_find_run(st, run, id, &err);

	if (ret < 0)
		fprintf(stderr, "loopgate: %s\n", err.s);
	buf_release(&err);
	return ret == -ENOENT || ret == -EEXIST || ret == -EINVAL ? CMD_USAGE
	       : ret < 0					  ? CMD_CANNOT
								  : CMD_OK;
}

void cmd_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	if (s)
		puts(s);
	free(s);
	json_decref(v);
}

int cmd_usage_error(const char *cmd, const char *arg)
{
	fprintf(stderr,
		"loopgate: unknown or incomplete option '%s' (see "
		"loopgate %s --help)\n",
		arg, cmd);
	return CMD_USAGE;
}
