/*
 * skillset: where a run's Agent Skills come from, and the index opened
 * over them (store/skills.h; docs/design/skills.md).
 *
 * The directories, in order: <repo>/.agents/skills, <repo>/.claude/skills,
 * the user's $XDG_CONFIG_HOME/loopgate/skills (default
 * ~/.config/loopgate/skills), then every --skills DIR (skills: in
 * loopgate.yaml).  The index lives in <repo>/.loopgate/skills.db and is
 * brought up to date (by content hash) each time it is opened.
 *
 *   struct skills *s;  struct skills_report rep = SKILLS_REPORT_INIT;
 *   skillset_open(repo, cfg, &s, &rep, &err);
 *   ... skillset_prompt(s, query, 5, &prompt) ...
 */
#ifndef LOOPGATE_SKILLSET_H
#define LOOPGATE_SKILLSET_H

#include "base/buf.h"
#include "base/strlist.h"
#include "config/config.h"
#include "store/skills.h"

/* The directories above, into dirs. */
void skillset_dirs(const char *repo, const struct config *c, struct strlist *dirs);
/* 1 when one of the directories or the index exists: a run opens the
 * index only then (with neither there is nothing to index). */
int skillset_wanted(const char *repo, const struct config *c);
/* Opens and refreshes the index: 0, or -errno with err set. */
int skillset_open(const char *repo, const struct config *c, struct skills **out,
		  struct skills_report *rep, struct buf *err);
/* The prompt's section naming the k skills that fit text best (nothing
 * when none does): each name and description, and how to load one. */
void skillset_prompt(struct skills *s, const char *text, int k, struct buf *out);

#endif
