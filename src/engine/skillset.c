/*
 * skillset.c: a run's Agent Skills directories and index.  See skillset.h.
 */
#include "engine/skillset.h"
#include "base/fileio.h"
#include "record/rundir.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void skillset_dirs(const char *repo, const struct config *c, struct strlist *dirs)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p;

	p = xasprintf("%s/.agents/skills", repo);
	strlist_push(dirs, p);
	free(p);
	p = xasprintf("%s/.claude/skills", repo);
	strlist_push(dirs, p);
	free(p);
	if (xdg && *xdg)
		p = xasprintf("%s/loopgate/skills", xdg);
	else
		p = xasprintf("%s/.config/loopgate/skills", home ? home : "/");
	strlist_push(dirs, p);
	free(p);
	for (size_t i = 0; c && i < c->skills.n; i++)
		strlist_push(dirs, c->skills.v[i]);
}

int skillset_wanted(const char *repo, const struct config *c)
{
	struct strlist dirs = STRLIST_INIT;
	char *db = rundir_state(repo, "skills.db");
	int any = access(db, F_OK) == 0;

	skillset_dirs(repo, c, &dirs);
	for (size_t i = 0; !any && i < dirs.n; i++)
		any = access(dirs.v[i], F_OK) == 0;
	strlist_clear(&dirs);
	free(db);
	return any;
}

int skillset_open(const char *repo, const struct config *c, struct skills **out,
		  struct skills_report *rep, struct buf *err)
{
	struct strlist dirs = STRLIST_INIT;
	char *dir = rundir_state(repo, "");
	char *db = rundir_state(repo, "skills.db");
	int ret = fileio_mkdirs(dir, err);

	skillset_dirs(repo, c, &dirs);
	if (ret == 0)
		ret = skills_open(out, db, err);
	if (ret == 0 && (ret = skills_index(*out, (const char *const *)dirs.v, dirs.n,
					    rep, err)) < 0) {
		skills_close(*out);
		*out = NULL;
	}
	strlist_clear(&dirs);
	free(dir);
	free(db);
	return ret;
}

void skillset_prompt(struct skills *s, const char *text, int k, struct buf *out)
{
	json_t *hits = s ? skills_search(s, text, k, NULL) : NULL, *h;
	size_t i;

	if (json_array_size(hits)) {
		buf_adds(out,
			 "\n## Skills\n\nThese skills of the repository may help here; "
			 "load one's instructions with the load_skill tool:\n\n");
		json_array_foreach(hits, i, h) buf_addf(
			out, "- %s: %s\n", json_string_value(json_object_get(h, "name")),
			json_string_value(json_object_get(h, "description")));
	}
	json_decref(hits);
}
