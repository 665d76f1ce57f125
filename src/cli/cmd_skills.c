/*
 * cmd_skills.c: `loopgate skills list|search QUERY|index`: the repository's
 * Agent Skills as the model actor sees them (engine/skillset.h).
 */
#include "cli/cmd.h"
#include "config/config.h"
#include "engine/skillset.h"
#include "tree/git.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char skills_usage[] =
	"usage: loopgate skills list|index|search QUERY [--skills DIR ...] [--dir PATH]\n"
	"                       [--top K] [--json]\n"
	"\n"
	"The Agent Skills (DIR/NAME/SKILL.md with name: and description: in its\n"
	"YAML front matter) of .agents/skills and .claude/skills in the\n"
	"repository, ~/.config/loopgate/skills, and each --skills DIR, indexed\n"
	"in .loopgate/skills.db (SQLite FTS5, brought up to date by content\n"
	"hash).  A model with tools sees the skills that fit its goal and\n"
	"latest failure best, ranked by BM25, and loads one with load_skill.\n"
	"\n"
	"  list           every skill: name and description\n"
	"  index          bring the index up to date; say what changed and which\n"
	"                 SKILL.md files were skipped, with path and line\n"
	"  search QUERY   the best K skills for QUERY, with their BM25 scores\n"
	"                 (lower is better)\n"
	"  --top K        default 5\n"
	"  --json         JSON on stdout\n"
	"\n"
	"Exit status: 0 ok, 2 usage error, 3 the index could not be read.\n";

struct skills_args {
	struct config cfg; /* skills: the --skills directories */
	const char *dir, *what, *query;
	int json, k;
};

/* 0 to go on, or an exit code (help printed: 0; usage: 2). */
static int parse(int argc, char **argv, struct skills_args *a)
{
	static const struct option opts[] = {
		{"skills", required_argument, NULL, 's'},
		{"dir", required_argument, NULL, 'd'},
		{"top", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(skills_usage, stdout);
			return -1;
		} else if (opt == 's') {
			strlist_push(&a->cfg.skills, optarg);
		} else if (opt == 'd') {
			a->dir = optarg;
		} else if (opt == 't') {
			long k = strtol(optarg, NULL, 10);
			a->k = k > 0 && k <= 1000 ? (int)k : 5;
		} else if (opt == 'j') {
			a->json = 1;
		} else {
			return cmd_usage_error("skills", argv[optind - 1]);
		}
	}
	a->what = optind < argc ? argv[optind] : NULL;
	a->query = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (!a->what ||
	    (strcmp(a->what, "list") && strcmp(a->what, "index") &&
	     strcmp(a->what, "search")) ||
	    (!strcmp(a->what, "search") && optind + 2 != argc)) {
		fputs(skills_usage, stderr);
		return CMD_USAGE;
	}
	return 0;
}

static void print_hits(const json_t *out)
{
	size_t i;
	const json_t *h;
	json_array_foreach(out, i, h)
	{
		const json_t *sc = json_object_get(h, "score");
		if (sc)
			printf("%8.3f  ", json_number_value(sc));
		printf("%-24s %s\n", json_string_value(json_object_get(h, "name")),
		       json_string_value(json_object_get(h, "description")));
	}
}

static json_t *index_json(const struct skills_report *rep, int json)
{
	if (!json)
		printf("%ld SKILL.md files: %ld added, %ld updated, %ld removed, %ld "
		       "unchanged\n",
		       rep->scanned, rep->added, rep->updated, rep->removed,
		       rep->unchanged);
	return json_pack("{s:I,s:I,s:I,s:I,s:I}", "scanned", (json_int_t)rep->scanned,
			 "added", (json_int_t)rep->added, "updated",
			 (json_int_t)rep->updated, "removed", (json_int_t)rep->removed,
			 "unchanged", (json_int_t)rep->unchanged);
}

static int cmd_skills(int argc, char **argv)
{
	struct skills_args a = {.dir = ".", .k = 5};
	struct buf err = BUF_INIT, top = BUF_INIT;
	struct skills_report rep = SKILLS_REPORT_INIT;
	struct skills *s = NULL;
	json_t *out = NULL;
	int code;

	config_init(&a.cfg);
	if ((code = parse(argc, argv, &a)) != 0) {
		code = code < 0 ? CMD_OK : code;
		goto done;
	}
	if (git_toplevel(a.dir, &top, NULL) < 0)
		buf_sets(&top, a.dir);
	if (skillset_open(top.s, &a.cfg, &s, &rep, &err) < 0) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		code = CMD_CANNOT;
		goto done;
	}
	if (rep.problems.len)
		fprintf(stderr, "loopgate: skipped:\n%s", rep.problems.s);
	if (!strcmp(a.what, "index"))
		out = index_json(&rep, a.json);
	else if (!(out = !strcmp(a.what, "list")
				 ? skills_list(s, &err)
				 : skills_search(s, a.query, a.k, &err))) {
		fprintf(stderr, "loopgate: %s\n", err.s);
		code = CMD_CANNOT;
		goto done;
	} else if (!a.json) {
		print_hits(out);
	}
	if (a.json) {
		cmd_print_json(out);
		out = NULL;
	}
done:
	json_decref(out);
	skills_close(s);
	skills_report_release(&rep);
	config_release(&a.cfg);
	buf_release(&err);
	buf_release(&top);
	return code;
}

const struct cmd_entry cmd_skills_entry = {
	"skills", "the Agent Skills a model can load, ranked by BM25", cmd_skills};
