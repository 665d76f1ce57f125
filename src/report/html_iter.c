/*
 * html_iter.c: the report's per-iteration section: the diff, the edit
 * blocks, each gate's raw output with the lines that name a location or a
 * failure marked, the prompt and the reply.  See html.h.
 */
#include "report/html_impl.h"
#include "record/evkind.h"
#include "record/rundir.h"
#include "judge/feedback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A path a record names, relative to the run directory: never absolute,
 * never climbing out (a doctored log must not make the page show, or the
 * live view serve, another file). */
static int safe_rel(const char *p)
{
	const char *s;

	if (!p || !*p || *p == '/')
		return 0;
	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
			return 0;
	return 1;
}

/*
 * Reads rel (in the run directory) into out, at most HTML_TEXT_MAX bytes:
 * a larger file gives its head and tail with the gap marked.  Returns the
 * file's size, or -errno.
 */
static long long read_text(const struct page *pg, const char *rel, struct buf *out)
{
	char *path;
	struct stat st;
	long long ret;
	int fd;

	if (!safe_rel(rel))
		return -EINVAL;
	path = xasprintf("%s/%s", pg->rl->dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	ret = st.st_size;
	if ((size_t)st.st_size <= HTML_TEXT_MAX) {
		buf_read_fd(out, fd);
	} else {
		size_t half = HTML_TEXT_MAX / 2;
		char *tmp = xmalloc(half);
		ssize_t n = pread(fd, tmp, half, 0);
		buf_add(out, tmp, n > 0 ? (size_t)n : 0);
		buf_addf(out,
			 "\n[... %lld bytes not shown here: the whole file is %s ...]\n",
			 (long long)st.st_size - (long long)(2 * half), rel);
		n = pread(fd, tmp, half, st.st_size - (off_t)half);
		buf_add(out, tmp, n > 0 ? (size_t)n : 0);
		free(tmp);
	}
	close(fd);
	return ret;
}

/* Output escaped line by line; key lines (file:line, failures) marked. */
static void output_lines(struct buf *b, const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		int key = feedback_line_is_key(p, n);
		if (key)
			buf_adds(b, "<mark>");
		svg_esc(b, p, n);
		if (key)
			buf_adds(b, "</mark>");
		if (eol)
			buf_addch(b, '\n');
		p += n + 1;
	}
}

static void diff_lines(struct buf *b, const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *cls = NULL;
		if (n && *p == '+' && (n < 3 || memcmp(p, "+++", 3)))
			cls = "d-add";
		else if (n && *p == '-' && (n < 3 || memcmp(p, "---", 3)))
			cls = "d-del";
		else if (n > 1 && !memcmp(p, "@@", 2))
			cls = "d-hunk";
		if (cls)
			buf_addf(b, "<span class=\"%s\">", cls);
		svg_esc(b, p, n);
		if (cls)
			buf_adds(b, "</span>");
		buf_addch(b, '\n');
		p += n + 1;
	}
}

/* A folded file from the run directory; nothing when it does not exist. */
static void file_block(const struct page *pg, const char *title, const char *rel)
{
	struct buf t = BUF_INIT;
	long long size = read_text(pg, rel, &t);

	if (size >= 0) {
		buf_adds(pg->b, "<details class=\"file\"><summary>");
		buf_adds(pg->b, title);
		buf_adds(pg->b, " <span class=\"mut\">");
		svg_escs(pg->b, rel);
		buf_addf(pg->b, ", %lld bytes</span></summary><pre>", size);
		svg_esc(pg->b, t.s, t.len);
		buf_adds(pg->b, "</pre></details>\n");
	}
	buf_release(&t);
}

static void diff_block(const struct page *pg, const struct runlog_iter *it)
{
	const json_t *files = json_object_get(it->commit, "files"), *f;
	size_t i;

	if (!it->commit)
		return;
	buf_adds(pg->b, "<details class=\"diff\"><summary>diff");
	if (json_is_true(json_object_get(it->commit, "noop")))
		buf_adds(pg->b, " <span class=\"mut\">(no change)</span>");
	json_array_foreach(files, i, f)
	{
		buf_adds(pg->b, i ? ", " : ": ");
		if (i == 8) {
			buf_addf(pg->b, "+%zu more", json_array_size(files) - 8);
			break;
		}
		buf_adds(pg->b, "<code>");
		svg_escs(pg->b, json_string_value(f));
		buf_adds(pg->b, "</code>");
	}
	buf_adds(pg->b, "</summary>");
	if (it->diff) {
		size_t n = it->diff_len > HTML_TEXT_MAX ? HTML_TEXT_MAX : it->diff_len;
		buf_adds(pg->b, "<pre class=\"patch\">");
		diff_lines(pg->b, it->diff, n);
		if (n < it->diff_len)
			buf_addf(pg->b, "[... %zu more bytes: git show %.40s]\n",
				 it->diff_len - n, runlog_str(it->commit, "sha", ""));
		buf_adds(pg->b, "</pre>");
	} else {
		buf_adds(pg->b, "<p class=\"mut\">");
		svg_escs(pg->b, pg->rl->diff_note.len ? pg->rl->diff_note.s
						      : "no diff for this commit");
		buf_adds(pg->b, "</p>");
	}
	buf_adds(pg->b, "</details>\n");
}

static void edits_block(const struct page *pg, const struct runlog_iter *it)
{
	const json_t *e;
	size_t i;

	if (!it->edits)
		return;
	buf_addf(pg->b,
		 "<h3>Edits: %.0f applied, %.0f refused</h3><table class=\"edits\">"
		 "<tr><th>file</th><th>kind</th><th>status</th><th>why</th></tr>\n",
		 runlog_num(it->edits, "applied", 0),
		 runlog_num(it->edits, "refused", 0));
	json_array_foreach(json_object_get(it->edits, "items"), i, e)
	{
		int ok = !strcmp(runlog_str(e, "status", ""), "applied");
		buf_adds(pg->b, "<tr><td><code>");
		svg_escs(pg->b, runlog_str(e, "path", "?"));
		buf_adds(pg->b, "</code></td><td>");
		svg_escs(pg->b, runlog_str(e, "kind", ""));
		buf_addf(pg->b, "</td><td class=\"%s\">", ok ? "ok" : "bad");
		svg_escs(pg->b, runlog_str(e, "status", ""));
		buf_adds(pg->b, "</td><td>");
		svg_escs(pg->b, runlog_str(e, "message", ""));
		buf_adds(pg->b, "</td></tr>\n");
	}
	buf_adds(pg->b, "</table>\n");
}

static void gate_block(const struct page *pg, const json_t *g)
{
	int passed = json_is_true(json_object_get(g, "passed"));
	const char *rel = runlog_str(g, "output_file", NULL);
	struct buf t = BUF_INIT;
	long long size = rel ? read_text(pg, rel, &t) : -ENOENT;

	buf_addf(pg->b, "<details class=\"gate\"%s><summary>gate %.0f <code>",
		 passed ? "" : " open", runlog_num(g, "gate", 0));
	svg_escs(pg->b, runlog_str(g, "command", ""));
	buf_addf(pg->b, "</code>: <span class=\"%s\">", passed ? "ok" : "bad");
	svg_escs(pg->b, runlog_str(g, "describe", passed ? "passed" : "failed"));
	buf_adds(pg->b, "</span>");
	if (json_is_true(json_object_get(g, "cached")))
		buf_adds(pg->b, " (cached result)");
	buf_adds(pg->b, " <span class=\"mut\">");
	svg_escs(pg->b, runlog_str(g, "tests", ""));
	buf_adds(pg->b, "</span></summary>");
	if (size >= 0) {
		buf_adds(pg->b, "<pre class=\"out\">");
		output_lines(pg->b, t.s, t.len);
		buf_adds(pg->b, "</pre>");
	} else {
		buf_adds(pg->b, "<p class=\"mut\">output file not found</p>");
	}
	buf_adds(pg->b, "</details>\n");
	buf_release(&t);
}

/* One event in words; the record's own fields, never a paraphrase of output. */
static void mark_text(struct buf *b, const char *kind, const json_t *body)
{
	char *txt;

	if (!strcmp(kind, "same failure")) {
		buf_addf(
			b,
			"gate %.0f failed the same way %.0f times in a row (fingerprint ",
			runlog_num(body, "gate", 0),
			runlog_num(body, "same_in_a_row", 0));
		svg_esc(b, runlog_str(body, "fingerprint", ""), 12);
		buf_adds(b, ")");
	} else if (!strcmp(kind, "stall")) {
		svg_escs(b, runlog_str(body, "reason", "stalled"));
	} else if (!strcmp(kind, EV_ESCALATION)) {
		/* taken: the model the next turn goes to; declined: why */
		if (runlog_str(body, "model", NULL))
			buf_adds(b, "the next turn goes to the escalation model ");
		svg_escs(b, runlog_str(body, "model", runlog_str(body, "note", "")));
	} else if (!strcmp(kind, EV_VERDICT)) {
		/* the vote, dissent included (engine/verify.h) */
		buf_adds(b, "verifiers: ");
		svg_escs(b, runlog_str(body, "summary", ""));
	} else if (!strcmp(kind, "test floor")) {
		buf_addf(b, "gate %.0f: tests now ", runlog_num(body, "gate", 0));
		svg_escs(b, runlog_str(body, "now", "?"));
		buf_adds(b, "; at baseline ");
		svg_escs(b, runlog_str(body, "baseline", "?"));
	} else if (!strcmp(kind, EV_FLAKY)) {
		buf_addf(b, "gate %.0f passed, then failed on confirmation run %.0f (",
			 runlog_num(body, "gate", 0), runlog_num(body, "confirm_run", 0));
		svg_escs(b, runlog_str(body, "failed_output", ""));
		buf_adds(b, ")");
	} else {
		if (!strcmp(kind, EV_INTEGRITY)) {
			svg_escs(b, runlog_str(body, "kind", ""));
			buf_adds(b, ": ");
		}
		txt = json_dumps(json_object_get(body, "paths")
					 ? json_object_get(body, "paths")
					 : body,
				 JSON_SORT_KEYS | JSON_COMPACT);
		if (txt && strlen(txt) > 2000)
			txt[2000] = 0;
		buf_adds(b, "<code>");
		svg_escs(b, txt);
		buf_adds(b, "</code>");
		free(txt);
	}
}

static void marks_block(const struct page *pg, const struct runlog_iter *it)
{
	const json_t *m;
	size_t i;

	json_array_foreach(it->marks, i, m)
	{
		const char *kind = runlog_str(m, "kind", "");
		buf_adds(pg->b, "<p class=\"event\"><b class=\"bad\">");
		svg_escs(pg->b, kind);
		buf_adds(pg->b, "</b> ");
		mark_text(pg->b, kind, json_object_get(m, "body"));
		buf_adds(pg->b, "</p>\n");
	}
}

static void iter_summary(const struct page *pg, const struct runlog_iter *it)
{
	const json_t *src = it->end ? it->end : it->model, *m;
	int ngates = html_ngates(pg->rl), k, failed = 0;
	size_t i;

	buf_adds(pg->b, "<summary>");
	html_iter_name(pg, it);
	buf_adds(pg->b, " — ");
	for (k = 1; k <= ngates; k++) {
		const json_t *g = html_gate(it, k);
		if (g && !json_is_true(json_object_get(g, "passed"))) {
			buf_addf(pg->b, "<span class=\"bad\">gate %d: ", k);
			svg_escs(pg->b, runlog_str(g, "describe", "failed"));
			buf_adds(pg->b, "</span>");
			failed = 1;
			break;
		}
	}
	if (!failed)
		buf_adds(pg->b, json_array_size(it->gates)
					? "<span class=\"ok\">all passed</span>"
					: "<span class=\"mut\">no gate ran</span>");
	if (it->n)
		buf_addf(pg->b, " <span class=\"mut\">· %.0f/%.0f tokens · $%.4f · ",
			 runlog_num(src, "tokens_in", 0),
			 runlog_num(src, "tokens_out", 0),
			 runlog_num(src, "cost_usd", 0));
	else
		buf_adds(pg->b, " <span class=\"mut\">· ");
	html_duration(pg->b, it->t0 >= 0 ? it->t1 - it->t0 : -1);
	buf_adds(pg->b, "</span>");
	json_array_foreach(it->marks, i, m)
	{
		buf_adds(pg->b, "<span class=\"tag\">");
		svg_escs(pg->b, runlog_str(m, "kind", ""));
		buf_adds(pg->b, "</span>");
	}
	buf_adds(pg->b, "</summary>\n");
}

/* full: with its files; open: unfolded (the last round, where a reader
 * of a halted run starts). */
static void iteration(const struct page *pg, const struct runlog_iter *it, int full,
		      int open)
{
	const json_t *g;
	char dir[32];
	char *rel;
	size_t i;

	buf_addf(pg->b, "<details class=\"iter\" id=\"it-%d-%ld\" data-n=\"%ld\"%s>",
		 it->lane, it->n, it->n, open ? " open" : "");
	iter_summary(pg, it);
	buf_adds(pg->b, "<div class=\"sub\">");
	if (!full) {
		buf_addf(pg->b,
			 "<p class=\"mut\">Details of the middle iterations are left "
			 "out of this page to keep it small: see iter-%03ld/ in the run "
			 "directory, or loopgate show RUN --iteration %ld.</p></div>"
			 "</details>\n",
			 it->n, it->n);
		return;
	}
	marks_block(pg, it);
	diff_block(pg, it);
	edits_block(pg, it);
	json_array_foreach(it->gates, i, g) gate_block(pg, g);
	if (it->n > 0 && pg->rl->nlanes == 1) {
		rundir_iter_name(dir, sizeof(dir), it->n);
		rel = xasprintf("%s/prompt.md", dir);
		file_block(pg, "prompt", rel);
		free(rel);
		rel = xasprintf("%s/%s", dir, it->actor ? "actor.out" : "response.md");
		file_block(pg, it->actor ? "agent output" : "model reply", rel);
		free(rel);
	}
	buf_adds(pg->b, "</div></details>\n");
}

void html_iterations(const struct page *pg)
{
	size_t i, n = pg->rl->nits;

	buf_addf(pg->b,
		 "<section id=\"iterations\"><h2>Iterations</h2>\n"
		 "<p class=\"mut\">%zu rounds, the baseline first. Open one for its "
		 "diff, edits, raw gate output (lines naming a location or a failure "
		 "are marked), prompt and reply.</p>\n",
		 n);
	for (i = 0; i < n; i++) {
		const struct runlog_iter *it = &pg->rl->its[i];
		int full = i < HTML_FULL_HEAD || i + HTML_FULL_TAIL >= n;
		struct runlog_iter w;
		if (full && it->slim) /* read back, one round at a time */
			runlog_iter_whole(pg->rl, it, &w);
		else
			runlog_iter_view(it, &w);
		iteration(pg, &w, full, i + 1 == n);
		runlog_iter_release(&w);
		html_flush(pg, 0);
	}
	buf_adds(pg->b, "</section>\n");
}
