/*
 * prompt.c: building the prompt.  See prompt.h.
 */
#include "engine/prompt.h"
#include "base/saferead.h"
#include "base/utf8.h"
#include "judge/feedback.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define FILE_LIST_MAX	  12000 /* bytes of repository file list */
#define CONTEXT_FILE_MAX  32768 /* bytes per --context file */
#define CONTEXT_TOTAL_MAX 98304
#define EXCERPTS_MAX	  12000
#define MAX_LOCATIONS	  40

static const char system_model[] =
	"You are the actor in loopgate, a loop that drives a coding model until a set "
	"of\n"
	"gate commands (build, tests, linters) all exit 0. You propose changes; "
	"loopgate\n"
	"applies them, commits them and runs the gates. Only the gates' exit codes "
	"decide\n"
	"when the work is done: saying it is done changes nothing. Each turn you see "
	"the\n"
	"goal, the gates, the failing gate's raw output and where it points.\n";

/* loopgate once: one turn, no gate; a person reviews the diff. */
static const char system_once_model[] =
	"You are the actor in loopgate once: you get one turn to make the change the\n"
	"goal asks for. loopgate applies your edits and commits them on a branch for a\n"
	"person to review; no gate judges them, so make the change complete and "
	"correct.\n";

static const char system_edits[] =
	"\n"
	"Reply with a short explanation, then edit blocks. Two kinds exist.\n"
	"\n"
	"A search/replace block changes part of a file. The path goes on its own line\n"
	"just before the block. The SEARCH text must match the file exactly once,\n"
	"character for character, including indentation; include enough lines to be\n"
	"unique. An empty SEARCH creates a new file.\n"
	"\n"
	"path/to/file.py\n"
	"<<<<<<< SEARCH\n"
	"    return a - b\n"
	"=======\n"
	"    return a + b\n"
	">>>>>>> REPLACE\n"
	"\n"
	"A file block writes a whole file (new, or rewritten completely):\n"
	"\n"
	"<<<<<<< FILE path/to/new_file.py\n"
	"def main():\n"
	"    pass\n"
	">>>>>>> END\n"
	"\n"
	"Rules: paths are relative to the repository root. Do not weaken, skip or "
	"delete\n"
	"tests, and do not edit the gate scripts: fix the code under test. If an edit "
	"was\n"
	"refused, the reason is shown next turn: correct the SEARCH text and try "
	"again.\n";

static const char system_once_command[] =
	"You are the actor in loopgate once: you get one turn to make the change the\n"
	"goal asks for. Edit the files in the current directory (the repository "
	"root)\n"
	"directly; loopgate commits your changes on a branch for a person to review.\n"
	"Do not commit; do not ask for confirmation.\n";

static const char system_command[] =
	"You are the actor in loopgate, a loop that drives a coding agent until a set "
	"of\n"
	"gate commands (build, tests, linters) all exit 0. Edit the files in the "
	"current\n"
	"directory (the repository root) directly to reach the goal; loopgate commits\n"
	"your changes and runs the gates itself. Only the gates' exit codes decide when\n"
	"the work is done. Do not weaken, skip or delete tests and do not edit the gate\n"
	"scripts: fix the code under test. Do not commit; do not ask for confirmation.\n";

void prompt_system(int command_actor, int once, struct buf *out)
{
	if (command_actor) {
		buf_adds(out, once ? system_once_command : system_command);
		return;
	}
	buf_adds(out, once ? system_once_model : system_model);
	buf_adds(out, system_edits);
}

void prompt_fence(struct buf *out, const char *info, const char *text, size_t len)
{
	size_t longest = 0, cur = 0, i, n;
	for (i = 0; i < len; i++) {
		cur = text[i] == '`' ? cur + 1 : 0;
		if (cur > longest)
			longest = cur;
	}
	n = longest < 3 ? 3 : longest + 1;
	for (i = 0; i < n; i++)
		buf_addch(out, '`');
	buf_adds(out, info);
	buf_addch(out, '\n');
	buf_add(out, text, len);
	if (len && text[len - 1] != '\n')
		buf_addch(out, '\n');
	for (i = 0; i < n; i++)
		buf_addch(out, '`');
	buf_addch(out, '\n');
}

static void add_gates(const struct prompt_in *in, struct buf *out)
{
	size_t i;
	if (!in->cfg->gates.n)
		return; /* loopgate once */
	buf_adds(out, "\n# Gates\n\nThese commands run in order in the repository root; "
		      "the goal is reached when every one exits 0:\n\n");
	for (i = 0; i < in->cfg->gates.n; i++)
		buf_addf(out, "%zu. `%s`\n", i + 1, in->cfg->gates.v[i]);
}

static void add_gate_output(const struct prompt_in *in, struct buf *out)
{
	const struct gate_outcome *g = &in->w->judge.last;
	struct buf body = BUF_INIT;
	size_t max = (size_t)in->cfg->feedback_max_bytes;

	if (!g->ran)
		return;
	if (in->w->vote_note) {
		/* every gate passed: the dissent is the feedback, not a gate's */
		buf_addf(out,
			 "\n# The verifiers rejected your last commit\n\nEvery gate "
			 "passed, but a panel of independent verifiers judged the "
			 "change and too few accepted it. Their reasons:\n\n%s"
			 "Fix what they name in general (not for the tests' inputs "
			 "only); the gates must still pass.\n",
			 in->w->vote_note);
		return;
	}
	if (in->w->reverify_note)
		buf_addf(out,
			 "\n# Your last commit did not hold\n\nEvery gate passed in your "
			 "working tree, but loopgate checks each claim in a clean "
			 "checkout "
			 "of the commit (only committed files, nothing left over from "
			 "your "
			 "tree), and there it failed: %s. Make the committed files work "
			 "on "
			 "their own: files that are ignored or not in the repository are "
			 "not part of the result.\n",
			 in->w->reverify_note);
	buf_addf(out,
		 "\n# Latest gate result\n\nGate %d of %zu, `%s`, failed: %s "
		 "(%.1f s).",
		 g->index + 1, in->cfg->gates.n, in->cfg->gates.v[g->index], g->describe,
		 g->elapsed_ms / 1000.0);
	feedback_condense(g->output.s, g->output.len, max, &body);
	if (g->output_binary || feedback_is_binary(g->output.s, g->output.len))
		buf_adds(out, " The output holds bytes that are not UTF-8 text; "
			      "they are shown as U+FFFD.");
	/* g->output is the raw output, or already condensed from the file by
	 * gate.c when it passed the in-memory cap: output_total decides. */
	if (g->output_total > max || body.len < g->output.len)
		buf_addf(out,
			 " It printed %zu bytes, more than the %zu-byte limit: "
			 "below are its exact lines — the head, the tail and every "
			 "line naming a location or a failure — with the gaps "
			 "marked. The full output is in `%s/%s`.",
			 g->output_total, max, in->run_dir, g->output_file);
	else
		buf_adds(out, " Its complete output, exactly as printed:");
	buf_adds(out, "\n\n");
	prompt_fence(out, "text", body.s, body.len);
	buf_release(&body);
}

static void add_excerpts(const struct prompt_in *in, struct buf *out)
{
	struct location *loc = NULL;
	size_t n;
	struct buf ex = BUF_INIT;

	if (!in->w->judge.last.ran)
		return;
	n = feedback_locations(in->w->judge.last.output.s, in->w->judge.last.output.len,
			       &loc, MAX_LOCATIONS);
	if (n)
		feedback_excerpts(in->w->tree, loc, n, 4, EXCERPTS_MAX, &ex);
	if (ex.len) {
		buf_adds(out, "\n# Where to look\n\nThe files and lines the output "
			      "names, as they are now:\n\n");
		prompt_fence(out, "text", ex.s, ex.len);
	}
	feedback_locations_free(loc, n);
	buf_release(&ex);
}

static int matches_any(const struct strlist *globs, const char *path)
{
	size_t i;
	for (i = 0; i < globs->n; i++)
		if (!fnmatch(globs->v[i], path, 0) ||
		    !fnmatch(globs->v[i], path, FNM_PATHNAME | FNM_LEADING_DIR))
			return 1;
	return 0;
}

static void add_context_file(const struct prompt_in *in, const char *path, size_t *total,
			     struct buf *out)
{
	struct buf content = BUF_INIT, clean = BUF_INIT, err = BUF_INIT;
	/* the actor wrote this tree: no symlink out, no FIFO, bounded; the
	 * refusal names the path and the reason, never the target */
	if (saferead_tree(in->w->tree, path, CONTEXT_FILE_MAX, SAFEREAD_TRUNCATE,
			  &content, NULL, &err) < 0) {
		if (err.len)
			buf_addf(out, "\n(context file omitted: %s)\n", err.s);
		goto done;
	}
	if (feedback_is_binary(content.s, content.len))
		goto done;
	if (*total + content.len > CONTEXT_TOTAL_MAX) {
		buf_addf(out,
			 "\n(%s and later context files omitted: the context "
			 "limit of %d bytes was reached)\n",
			 path, CONTEXT_TOTAL_MAX);
		*total = CONTEXT_TOTAL_MAX + 1;
		goto done;
	}
	*total += content.len;
	utf8_clean(content.s, content.len, &clean);
	buf_addf(out, "\n## %s%s\n\n", path, content.truncated ? " (first 32 KiB)" : "");
	prompt_fence(out, "", clean.s, clean.len);
done:
	buf_release(&err);
	buf_release(&content);
	buf_release(&clean);
}

/*
 * Context files and the file list.  The list is the tracked paths the loop
 * scanned right after the last gate run (git_scan_start: read off the
 * index): the tree has not changed since, so no git call is needed here.
 */
static void add_files(const struct prompt_in *in, struct buf *out)
{
	struct buf list = BUF_INIT;
	size_t total = 0, shown = 0, count = 0;
	const char *p, *end = in->w->judge.files.s + in->w->judge.files.len;
	int header = 0;

	for (p = in->w->judge.files.s; p < end; p += strlen(p) + 1) {
		count++;
		if (list.len < FILE_LIST_MAX) {
			buf_addf(&list, "%s\n", p);
			shown++;
		}
		if (!in->cfg->context.n || !matches_any(&in->cfg->context, p) ||
		    total > CONTEXT_TOTAL_MAX)
			continue;
		if (!header) {
			buf_adds(out, "\n# Files you were asked to see\n");
			header = 1;
		}
		add_context_file(in, p, &total, out);
	}
	buf_addf(out, "\n# Repository files (%zu)\n\n", count);
	buf_add(out, list.s, list.len);
	if (shown < count)
		buf_addf(out, "[... %zu more files not listed ...]\n", count - shown);
	buf_release(&list);
}

/*
 * The history section stays within a fixed size whatever the run's length:
 * the latest HISTORY_FULL iterations one line each, the older ones in one
 * summary of facts loopgate computed (how often each file changed, how
 * often each gate failed, turns that changed nothing, refused edits).
 */
#define HISTORY_FULL	 8
#define HISTORY_FILES	 6   /* most changed files named in the summary */
#define HISTORY_TRACKED	 64  /* distinct files counted at most */
#define HISTORY_NAME_MAX 160 /* a longer path is cut in the prompt */

static void add_name(struct buf *out, const char *name)
{
	size_t n = strlen(name);
	if (n <= HISTORY_NAME_MAX)
		buf_adds(out, name);
	else
		buf_addf(out, "%.*s...", HISTORY_NAME_MAX, name);
}

static void history_line(const struct prompt_in *in, const struct iteration *it,
			 struct buf *out)
{
	size_t j;
	buf_addf(out, "- iteration %d: ", it->n);
	if (it->noop) {
		buf_adds(out, "no files changed");
	} else {
		buf_adds(out, "changed ");
		for (j = 0; j < it->nchanged && j < 8; j++) {
			buf_adds(out, j ? ", " : "");
			add_name(out, it->changed[j]);
		}
		if (it->nchanged > 8)
			buf_addf(out, " and %zu more", it->nchanged - 8);
	}
	if (it->edits_refused)
		buf_addf(out, "; %d edit block(s) refused", it->edits_refused);
	if (it->gate_index >= 0)
		buf_addf(out, "; gate %d `%s` failed (%.80s)\n", it->gate_index + 1,
			 in->cfg->gates.v[it->gate_index],
			 it->gate_desc ? it->gate_desc : "");
	else if (it->judged)
		buf_addf(out, "; all gates passed%s\n",
			 it->gate_desc ? ", but the verifiers' vote rejected it" : "");
	else
		buf_adds(out, "; the gates did not run\n");
}

struct file_count {
	const char *name;
	size_t n;
};

/* How often each file changed in its[0..upto): the first HISTORY_TRACKED
 * distinct names are counted; *others counts changes to the rest. */
static size_t count_files(const struct worker *w, size_t upto, struct file_count *fc,
			  size_t *others)
{
	size_t nfc = 0;
	for (size_t i = 0; i < upto; i++) {
		const struct iteration *it = &w->its[i];
		for (size_t j = 0; j < it->nchanged; j++) {
			size_t k = 0;
			while (k < nfc && strcmp(fc[k].name, it->changed[j]))
				k++;
			if (k < nfc)
				fc[k].n++;
			else if (nfc < HISTORY_TRACKED)
				fc[nfc++] = (struct file_count){it->changed[j], 1};
			else
				(*others)++;
		}
	}
	return nfc;
}

static int by_count(const void *a, const void *b)
{
	const struct file_count *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

static void history_summary(const struct prompt_in *in, size_t upto, struct buf *out)
{
	struct file_count fc[HISTORY_TRACKED];
	size_t nfc, others = 0, noop = 0, refused = 0, passed = 0, *fails;
	const struct worker *w = in->w;

	fails = xcalloc(in->cfg->gates.n + 1, sizeof(*fails));
	for (size_t i = 0; i < upto; i++) {
		const struct iteration *it = &w->its[i];
		noop += it->noop != 0;
		refused += (size_t)(it->edits_refused > 0 ? it->edits_refused : 0);
		if (it->gate_index >= 0 && (size_t)it->gate_index < in->cfg->gates.n)
			fails[it->gate_index]++;
		else if (it->judged)
			passed++;
	}
	nfc = count_files(w, upto, fc, &others);
	qsort(fc, nfc, sizeof(*fc), by_count);
	buf_addf(out, "- iterations %d to %d, summarised: ", w->its[0].n,
		 w->its[upto - 1].n);
	if (nfc) {
		buf_addf(out, "changed %zu%s file(s) (", nfc, others ? "+" : "");
		for (size_t k = 0; k < nfc && k < HISTORY_FILES; k++) {
			buf_adds(out, k ? ", " : "");
			add_name(out, fc[k].name);
			buf_addf(out, " %zu time(s)", fc[k].n);
		}
		buf_adds(out, nfc > HISTORY_FILES ? ", ...)" : ")");
	} else {
		buf_adds(out, "changed no files");
	}
	if (noop)
		buf_addf(out, "; %zu turn(s) changed nothing", noop);
	if (refused)
		buf_addf(out, "; %zu edit block(s) refused", refused);
	for (size_t g = 0; g < in->cfg->gates.n; g++)
		if (fails[g])
			buf_addf(out, "; gate %zu `%s` failed %zu time(s)", g + 1,
				 in->cfg->gates.v[g], fails[g]);
	if (passed)
		buf_addf(out, "; every gate passed %zu time(s)", passed);
	buf_adds(out, "\n");
	free(fails);
}

static void add_history(const struct prompt_in *in, struct buf *out)
{
	size_t first;
	if (!in->w->nits)
		return;
	buf_adds(out, "\n# History\n\n");
	first = in->w->nits > HISTORY_FULL ? in->w->nits - HISTORY_FULL : 0;
	if (first)
		history_summary(in, first, out);
	for (size_t i = first; i < in->w->nits; i++)
		history_line(in, &in->w->its[i], out);
}

void prompt_user(const struct prompt_in *in, struct buf *out)
{
	buf_addf(out, "# Goal\n\n%s\n", in->goal);
	add_gates(in, out);
	add_gate_output(in, out);
	add_excerpts(in, out);
	if (in->w->edit_feedback.len) {
		buf_adds(out, "\n# Your previous edit blocks\n\n");
		buf_add(out, in->w->edit_feedback.s, in->w->edit_feedback.len);
		if (in->w->edit_feedback.s[in->w->edit_feedback.len - 1] != '\n')
			buf_addch(out, '\n');
	}
	add_files(in, out);
	add_history(in, out);
}
