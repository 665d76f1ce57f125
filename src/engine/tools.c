/*
 * tools.c: the model actor's built-in tools, each call governed and
 * recorded.  See tools.h and docs/design/tools.md.
 */
#include "engine/tools.h"
#include "engine/run.h"
#include "engine/worker.h"
#include "actor/edits.h"
#include "base/saferead.h"
#include "config/policy.h"
#include "exec/proc.h"
#include "judge/feedback.h"
#include "record/evkind.h"
#include "record/events.h"
#include "record/redact.h"
#include "tree/git.h"
#include "tree/protect.h"
#include "store/skills.h"
#include "engine/mcp.h"

#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_MAX_LINES	400	    /* read_file: lines shown at most */
#define READ_MAX_BYTES	(64u << 10) /* ... and bytes */
#define LIST_MAX	500	    /* list_files: names */
#define SEARCH_MAX	100	    /* search: matching lines */
#define SEARCH_FILE_MAX (1u << 20)  /* search: files larger are skipped */
#define RUN_OUTPUT_MAX	16384	    /* run: output kept, whole lines */
#define RECORD_MAX	4096	    /* a result as recorded in the log */
#define RUN_TIMEOUT_MS	(5L * 60 * 1000)

void tool_result_release(struct tool_result *res)
{
	buf_release(&res->text);
	res->is_error = res->denied = 0;
}

static json_t *def(const char *name, const char *desc, const char *params)
{
	json_error_t je;
	return json_pack("{s:s,s:s,s:o}", "name", name, "description", desc, "parameters",
			 json_loads(params, 0, &je));
}

json_t *tools_definitions(void)
{
	json_t *a = json_array();
	json_array_append_new(
		a,
		def("read_file",
		    "Read a file of the repository, with line numbers; optionally "
		    "only lines start_line..end_line.",
		    "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		    "\"start_line\":{\"type\":\"integer\"},\"end_line\":{\"type\":"
		    "\"integer\"}},\"required\":[\"path\"]}"));
	json_array_append_new(
		a, def("list_files",
		       "List the repository's files, optionally only those matching a "
		       "glob such as src/*.c.",
		       "{\"type\":\"object\",\"properties\":{\"glob\":{\"type\":"
		       "\"string\"}}}"));
	json_array_append_new(
		a, def("search",
		       "Search the repository's files for a POSIX extended regular "
		       "expression; prints path:line: text for each match.",
		       "{\"type\":\"object\",\"properties\":{\"pattern\":{\"type\":"
		       "\"string\"},\"glob\":{\"type\":\"string\"}},\"required\":"
		       "[\"pattern\"]}"));
	json_array_append_new(
		a,
		def("edit",
		    "Replace the exact text search (which must occur once) by "
		    "replace in a file.",
		    "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		    "\"search\":{\"type\":\"string\"},\"replace\":{\"type\":\"string\"}},"
		    "\"required\":[\"path\",\"search\",\"replace\"]}"));
	json_array_append_new(
		a,
		def("write_file", "Write a whole file (created or replaced).",
		    "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		    "\"content\":{\"type\":\"string\"}},\"required\":[\"path\","
		    "\"content\"]}"));
	json_array_append_new(
		a, def("run",
		       "Run a shell command in the repository, sandboxed; prints its "
		       "exit status and output.",
		       "{\"type\":\"object\",\"properties\":{\"command\":{\"type\":"
		       "\"string\"}},\"required\":[\"command\"]}"));
	json_array_append_new(
		a, def("load_skill",
		       "Load the instructions of one of the repository's Agent Skills "
		       "by its name (the prompt lists the ones that fit).",
		       "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
		       "\"string\"}},\"required\":[\"name\"]}"));
	json_array_append_new(
		a, def("run_gates",
		       "Run the gates (the checks that judge the goal) on the current "
		       "tree now and see their results. The iteration is still judged "
		       "by loopgate's own gate round when your turn ends.",
		       "{\"type\":\"object\",\"properties\":{}}"));
	return a;
}

/* The string argument key, or NULL (res says why when required). */
static const char *arg_str(const json_t *args, const char *key, int required,
			   struct tool_result *res)
{
	const json_t *v = json_object_get(args, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (required && !res->is_error) {
		buf_addf(&res->text, "error: argument \"%s\" (a string) is required",
			 key);
		res->is_error = 1;
	}
	return NULL;
}

/* A path the model may touch: inside the tree, and when writing, not
 * protected. 0, or -1 with res set. */
static int check_path(struct worker *w, const char *path, int writing,
		      struct tool_result *res)
{
	struct buf why = BUF_INIT;
	int ret = 0;

	if (edits_check_path(w->tree, path, &why) < 0) {
		buf_addf(&res->text, "refused: %s", why.s);
		res->is_error = 1;
		ret = -1;
	} else if (writing && protect_match(&w->protect, path)) {
		buf_addf(&res->text,
			 "refused: %s is protected (a test, CI file or a script a gate "
			 "runs): change the code under test, not its checks",
			 path);
		res->is_error = res->denied = 1;
		ret = -1;
	}
	buf_release(&why);
	return ret;
}

static void tool_read(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *path = arg_str(args, "path", 1, res);
	long from = (long)json_integer_value(json_object_get(args, "start_line"));
	long to = (long)json_integer_value(json_object_get(args, "end_line"));
	struct buf data = BUF_INIT, why = BUF_INIT;
	long line = 1, shown = 0;

	if (!path || check_path(w, path, 0, res) < 0)
		return;
	if (saferead_tree(w->tree, path, 8u << 20, SAFEREAD_TRUNCATE, &data, NULL, &why) <
	    0) {
		buf_addf(&res->text, "error: cannot read %s: %s", path, why.s);
		res->is_error = 1;
	}
	buf_release(&why);
	for (const char *p = data.s; !res->is_error && p && p < data.s + data.len;
	     line++) {
		const char *nl = memchr(p, '\n', (size_t)(data.s + data.len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(data.s + data.len - p);
		if (line >= (from > 0 ? from : 1) && (to <= 0 || line <= to)) {
			if (shown++ >= READ_MAX_LINES || res->text.len > READ_MAX_BYTES) {
				buf_addf(&res->text, "[cut: ask for lines from %ld]\n",
					 line);
				break;
			}
			buf_addf(&res->text, "%ld: %.*s\n", line, (int)n, p);
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!res->is_error && !res->text.len)
		buf_addf(&res->text, "(%s has no lines in that range)", path);
	buf_release(&data);
}

/* The tree's files (tracked and untracked, not ignored), NUL-separated. */
static int tree_files(struct worker *w, struct buf *out)
{
	return git_run(w->tree, out, NULL, "ls-files", "-z", "--cached", "--others",
		       "--exclude-standard", NULL);
}

static void tool_list(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *glob = arg_str(args, "glob", 0, res);
	struct buf names = BUF_INIT;
	size_t n = 0;

	tree_files(w, &names);
	for (const char *p = names.s; p && p < names.s + names.len; p += strlen(p) + 1) {
		if (glob && fnmatch(glob, p, 0))
			continue;
		if (n++ < LIST_MAX)
			buf_addf(&res->text, "%s\n", p);
	}
	if (n > LIST_MAX)
		buf_addf(&res->text, "[%zu more: give a narrower glob]\n", n - LIST_MAX);
	if (!n)
		buf_adds(&res->text, "(no file matches)");
	buf_release(&names);
}

/* Each matching line of one file into res; returns matches found. */
static size_t search_file(struct worker *w, const char *path, const regex_t *re,
			  size_t budget, struct tool_result *res)
{
	struct buf data = BUF_INIT;
	size_t found = 0;
	long line = 1;

	if (saferead_tree(w->tree, path, SEARCH_FILE_MAX, 0, &data, NULL, NULL) == 0 &&
	    data.s && !memchr(data.s, 0, data.len))
		for (char *p = data.s; p && *p && found < budget; line++) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = 0;
			if (!regexec(re, p, 0, NULL, 0)) {
				buf_addf(&res->text, "%s:%ld: %.300s\n", path, line, p);
				found++;
			}
			p = nl ? nl + 1 : NULL;
		}
	buf_release(&data);
	return found;
}

static void tool_search(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *pat = arg_str(args, "pattern", 1, res);
	const char *glob = arg_str(args, "glob", 0, res);
	struct buf names = BUF_INIT;
	regex_t re;
	size_t found = 0;
	int rc;

	if (!pat)
		return;
	if ((rc = regcomp(&re, pat, REG_EXTENDED | REG_NEWLINE | REG_NOSUB))) {
		char msg[160];
		regerror(rc, &re, msg, sizeof(msg));
		buf_addf(&res->text, "error: the pattern is not a regular expression: %s",
			 msg);
		res->is_error = 1;
		return;
	}
	tree_files(w, &names);
	for (const char *p = names.s; p && p < names.s + names.len && found < SEARCH_MAX;
	     p += strlen(p) + 1)
		if (!glob || !fnmatch(glob, p, 0))
			found += search_file(w, p, &re, SEARCH_MAX - found, res);
	if (found >= SEARCH_MAX)
		buf_addf(&res->text,
			 "[stopped at %d matches: narrow the pattern or glob]\n",
			 SEARCH_MAX);
	if (!found)
		buf_adds(&res->text, "(no match)");
	regfree(&re);
	buf_release(&names);
}

/* Writes content as path through the edit machinery (path checks, temp
 * file and rename, the file's mode kept); 0 or -1 with res set. */
static int write_whole(struct worker *w, const char *path, const char *content,
		       struct tool_result *res)
{
	struct edit_list l = EDIT_LIST_INIT;
	int ret = 0;

	l.v = xcalloc(1, sizeof(*l.v));
	l.n = l.alloc = 1;
	l.v[0] = (struct edit){.kind = EDIT_WHOLE,
			       .path = xstrdup(path),
			       .replace = xstrdup(content),
			       .status = EDIT_PENDING};
	edits_apply(w->tree, &l);
	if (l.v[0].status != EDIT_APPLIED) {
		edits_feedback(&l, &res->text);
		res->is_error = 1;
		ret = -1;
	}
	edit_list_release(&l);
	return ret;
}

static void tool_write(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *path = arg_str(args, "path", 1, res);
	const char *content = arg_str(args, "content", 1, res);

	if (!path || !content || check_path(w, path, 1, res) < 0)
		return;
	if (write_whole(w, path, content, res) == 0)
		buf_addf(&res->text, "wrote %s (%zu bytes)", path, strlen(content));
}

/* Why an edit's search text, found n times (not once) in the file data,
 * was not applied: as precise as an edit block's refusal, the lines of the
 * matches or the file's most similar lines (actor/edits.h). */
static void edit_refusal(const char *path, const struct buf *data, const char *search,
			 size_t n, struct buf *out)
{
	size_t line = 1, listed = 0;
	const char *p, *q = data->s;

	if (!n) {
		buf_addf(out,
			 "not applied: the search text is not in %s (it must match "
			 "exactly, whitespace and indentation included)",
			 path);
		edits_nearest(data->s, data->len, search, "search", out);
		return;
	}
	buf_addf(out, "not applied: the search text occurs %zu times in %s, at lines", n,
		 path);
	for (p = data->s; listed < 20 && (p = strstr(p, search)); p++, listed++) {
		for (; q < p; q++)
			line += *q == '\n';
		buf_addf(out, "%s %zu", listed ? "," : "", line);
	}
	buf_addf(out, "%s; include more of the lines around it so that it occurs once",
		 n > listed ? ", ..." : "");
}

/* edit: the exact text search, found once, replaced (str_replace). */
static void tool_edit(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *path = arg_str(args, "path", 1, res);
	const char *search = arg_str(args, "search", 1, res);
	const char *repl = arg_str(args, "replace", 1, res);
	struct buf data = BUF_INIT, why = BUF_INIT, out = BUF_INIT;
	const char *at = NULL, *p;
	size_t n = 0, line = 1;

	if (!path || !search || !repl || check_path(w, path, 1, res) < 0)
		return;
	if (!*search) {
		buf_adds(&res->text,
			 "error: search is empty: give the exact text to replace "
			 "(write_file writes a whole file)");
		res->is_error = 1;
		return;
	}
	if (saferead_tree(w->tree, path, 8u << 20, 0, &data, NULL, &why) < 0) {
		buf_addf(&res->text, "error: cannot read %s: %s", path, why.s);
		res->is_error = 1;
		goto out;
	}
	for (p = data.s; p && (p = strstr(p, search)); p++, n++)
		if (!at)
			at = p;
	if (n != 1) {
		edit_refusal(path, &data, search, n, &res->text);
		res->is_error = 1;
		goto out;
	}
	for (p = data.s; p < at; p++)
		line += *p == '\n';
	buf_add(&out, data.s, (size_t)(at - data.s));
	buf_adds(&out, repl);
	buf_adds(&out, at + strlen(search));
	if (write_whole(w, path, out.s ? out.s : "", res) == 0)
		buf_addf(&res->text, "applied: %s, the text at line %zu replaced", path,
			 line);
out:
	buf_release(&data);
	buf_release(&why);
	buf_release(&out);
}

/* One command in the worker's sandbox: exit status and output. */
static void run_one(struct run *r, struct worker *w, const char *cmd,
		    struct tool_result *res)
{
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	struct proc_opts o = PROC_OPTS_INIT;
	struct proc_result pr = PROC_RESULT_INIT;
	struct proc_env env = PROC_ENV_INIT;
	struct buf why = BUF_INIT, desc = BUF_INIT, out = BUF_INIT;

	if (!policy_check_command(r->cfg->policy, cmd, &why)) {
		buf_addf(&res->text, "denied by rule %s", why.s);
		res->is_error = res->denied = 1;
		goto out;
	}
	proc_env_base(&env);
	o.argv = argv;
	o.cwd = w->tree;
	o.env = (const char *const *)env.v;
	o.merge_output = 1;
	o.max_output = 1u << 20;
	o.timeout_ms = r->cfg->gate_timeout_ms > 0 ? r->cfg->gate_timeout_ms
						   : RUN_TIMEOUT_MS;
	o.deadline_ms = r->budget.deadline_at;
	o.sandbox = w->sandbox;
	/* the call is on record before it runs, or it does not run (the run
	 * stops at the next request's barrier, which fails the same way) */
	if (events_barrier(&r->ev) < 0) {
		buf_addf(&res->text, "error: not run: %s", r->ev.err.s);
		res->is_error = 1;
		goto out;
	}
	if (proc_run(&o, &pr, &why) < 0) {
		buf_addf(&res->text, "error: could not run it: %s", why.s);
		res->is_error = 1;
		goto out;
	}
	proc_describe(&pr, o.timeout_ms, &desc);
	feedback_condense(pr.out.s, pr.out.len, RUN_OUTPUT_MAX, &out);
	buf_addf(&res->text, "%s\n%s", desc.s, out.s);
	res->is_error = !(pr.status == PROC_EXITED && pr.exit_code == 0);
out:
	proc_result_release(&pr);
	proc_env_release(&env);
	buf_release(&why);
	buf_release(&desc);
	buf_release(&out);
}

static void tool_load_skill(struct worker *w, const json_t *args, struct tool_result *res)
{
	const char *name = arg_str(args, "name", 1, res);
	struct buf why = BUF_INIT;

	if (!name)
		return;
	if (!w->skills) {
		buf_adds(&res->text, "error: this run has no Agent Skills indexed");
		res->is_error = 1;
	} else if (skills_body(w->skills, name, &res->text, &why) < 0) {
		buf_addf(&res->text, "error: %s", why.s);
		res->is_error = 1;
	}
	buf_release(&why);
}

static void tool_run_gates(struct run *r, struct worker *w, struct tool_result *res)
{
	for (size_t i = 0; i < r->cfg->gates.n; i++) {
		struct tool_result one = TOOL_RESULT_INIT;
		run_one(r, w, r->cfg->gates.v[i], &one);
		buf_addf(&res->text, "gate %zu `%s`: %s\n", i + 1, r->cfg->gates.v[i],
			 one.text.s);
		res->is_error |= one.is_error;
		tool_result_release(&one);
		if (res->is_error) /* the cascade: the first failure is the news */
			break;
	}
}

const char *tools_main_arg(const json_t *args)
{
	static const char *const keys[] = {"path", "command", "pattern", "glob"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_is_string(json_object_get(args, keys[i])))
			return json_string_value(json_object_get(args, keys[i]));
	return "";
}

static void dispatch(struct run *r, struct worker *w, const char *name,
		     const json_t *args, struct tool_result *res)
{
	if (!strcmp(name, "read_file"))
		tool_read(w, args, res);
	else if (!strcmp(name, "list_files"))
		tool_list(w, args, res);
	else if (!strcmp(name, "search"))
		tool_search(w, args, res);
	else if (!strcmp(name, "edit"))
		tool_edit(w, args, res);
	else if (!strcmp(name, "write_file"))
		tool_write(w, args, res);
	else if (!strcmp(name, "run")) {
		const char *cmd = arg_str(args, "command", 1, res);
		if (cmd)
			run_one(r, w, cmd, res);
	} else if (!strcmp(name, "run_gates"))
		tool_run_gates(r, w, res);
	else if (!strcmp(name, "load_skill"))
		tool_load_skill(w, args, res);
	else if (mcp_owns(name) && w->mcp)
		mcp_call(w->mcp, name, args, &res->text, &res->is_error);
	else {
		buf_addf(&res->text,
			 "error: there is no tool named \"%s\"; the tools are read_file, "
			 "list_files, search, edit, write_file, run, run_gates and "
			 "load_skill",
			 name);
		res->is_error = 1;
	}
}

static void record(struct run *r, int iteration, int turn, const json_t *call,
		   const struct tool_result *res)
{
	struct buf shown = BUF_INIT;
	const char *args = json_string_value(json_object_get(call, "arguments"));

	buf_add(&shown, res->text.s,
		res->text.len < RECORD_MAX ? res->text.len : RECORD_MAX);
	events_append(
		&r->ev, EV_TOOL_CALL,
		json_pack("{s:i,s:i,s:o,s:o,s:o,s:b,s:b,s:o,s:I}", "iteration", iteration,
			  "turn", turn, "call",
			  events_str(json_string_value(json_object_get(call, "id"))),
			  "tool",
			  events_str(json_string_value(json_object_get(call, "name"))),
			  "arguments",
			  events_strn(args ? args : "", args ? strlen(args) : 0), "ok",
			  !res->is_error, "denied", res->denied, "result",
			  events_strn(shown.s, shown.len), "result_bytes",
			  (json_int_t)res->text.len));
	buf_release(&shown);
}

int tools_parse_args(const char *text, json_t **args, struct buf *why)
{
	json_error_t je;
	json_t *a = text && *text
			    ? json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
					 &je)
			    : json_object();

	*args = NULL;
	if (json_is_object(a)) {
		*args = a;
		return 0;
	}
	if (a)
		err_set(why, -EINVAL, "are valid JSON, but not an object");
	else
		err_set(why, -EINVAL, "are not a JSON object (%s at line %d, column %d)",
			je.text, je.line, je.column);
	json_decref(a);
	return -EINVAL;
}

void tools_call(struct run *r, struct worker *w, int iteration, int turn,
		const json_t *call, struct tool_result *res)
{
	const char *name = json_string_value(json_object_get(call, "name"));
	const char *text = json_string_value(json_object_get(call, "arguments"));
	struct buf why = BUF_INIT;
	json_t *args = NULL;

	if (!name)
		name = "";
	if (tools_parse_args(text, &args, &why) < 0) {
		buf_addf(&res->text,
			 "error: the arguments of %s %s; call it again with valid JSON",
			 name, why.s);
		res->is_error = 1;
	} else if (!policy_check_tool(r->cfg->policy, name, tools_main_arg(args), &why)) {
		buf_addf(&res->text, "denied by rule %s", why.s);
		res->is_error = res->denied = 1;
	} else {
		dispatch(r, w, name, args, res);
	}
	redact_buf(&res->text);
	record(r, iteration, turn, call, res);
	json_decref(args);
	buf_release(&why);
}

void tools_refuse(struct run *r, int iteration, int turn, const json_t *call,
		  const char *why, struct tool_result *res)
{
	buf_adds(&res->text, why);
	res->is_error = res->denied = 1;
	record(r, iteration, turn, call, res);
}
