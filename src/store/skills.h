/*
 * skills: Agent Skills directories (a folder per skill holding SKILL.md with
 * YAML front matter name, description, optional allowed-tools and
 * metadata; scripts/ and references/ beside it), indexed in SQLite FTS5 and
 * ranked by BM25 (docs/design/skills.md).
 *
 *   struct skills *s;
 *   skills_open(&s, ".loopgate/skills.db", &err);
 *   struct skills_report rep = SKILLS_REPORT_INIT;
 *   skills_index(s, dirs, ndirs, &rep, &err);   incremental, by content hash
 *   ... rep.added, rep.updated, rep.removed, rep.problems ("PATH:LINE: why")
 *   json_t *hits = skills_search(s, "pytest fixture missing", 5, &err);
 *       [{name, description, path, dir, score}], best first (score: BM25,
 *       lower is better, as SQLite's bm25() gives it)
 *   skills_body(s, "name", &body, &err);          SKILL.md without front matter
 *   skills_close(s);
 *
 * A malformed SKILL.md (no front matter, no name or description, bad YAML)
 * is reported with its path and line and skipped: never fatal.  The query
 * is made from free text (a goal, failing test ids, error lines): its
 * words become an OR of quoted FTS5 terms, so no input is a syntax error.
 * Name, description and body are weighted 10, 5 and 1.
 */
#ifndef LOOPGATE_SKILLS_H
#define LOOPGATE_SKILLS_H

#include <jansson.h>
#include <stddef.h>
#include "base/buf.h"

struct skills;

struct skills_report {
	long scanned, added, updated, removed, unchanged;
	struct buf problems; /* one "PATH:LINE: why" per line */
};
#define SKILLS_REPORT_INIT                                                               \
	{                                                                                \
		.problems = BUF_INIT                                                     \
	}
void skills_report_release(struct skills_report *rep);

int skills_open(struct skills **out, const char *db_path, struct buf *err);
void skills_close(struct skills *s);
/* Indexes every DIR/NAME/SKILL.md of dirs (missing dirs are skipped); a
 * skill no longer found is dropped.  0 or -errno (the database failed). */
int skills_index(struct skills *s, const char *const *dirs, size_t ndirs,
		 struct skills_report *rep, struct buf *err);
/* The k best skills for text; NULL with err set when the database failed. */
json_t *skills_search(struct skills *s, const char *text, int k, struct buf *err);
/* Every skill, by name: [{name, description, path}]. */
json_t *skills_list(struct skills *s, struct buf *err);
/* The body of the skill named name: 0, -ENOENT, or -errno. */
int skills_body(struct skills *s, const char *name, struct buf *out, struct buf *err);
/* Parses SKILL.md text (for the index and the fuzz harness): 0 with name,
 * description (malloc'd) and the body's offset, or -EINVAL with why
 * ("LINE: ..."). */
int skills_parse(const char *text, size_t len, char **name, char **description,
		 size_t *body_off, struct buf *why);

#endif
