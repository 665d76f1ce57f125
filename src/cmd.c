/*
 * cmd.c: what subcommand files share.  See cmd.h.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

int cmd_group(int argc, char **argv, const char *sub,
	      int (*fn)(int argc, char **argv), const char *usage)
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
