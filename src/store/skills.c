/*
 * skills.c: the Agent Skills index.  See skills.h and docs/design/skills.md.
 */
#include "store/skills.h"
#include "base/hash.h"
#include "store/sqlmem.h"
#include "base/saferead.h"
#include "config/yamltree.h"

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SKILL_MAX_BYTES (1u << 20) /* a SKILL.md larger is skipped */
#define QUERY_MAX_TERMS 64

struct skills {
	sqlite3 *db;
	sqlite3_stmt *search; /* prepared once: a query is then ~0.1 ms */
	sqlite3_stmt *known;  /* path -> hash, stat */
	sqlite3_stmt *vocab;  /* term -> documents holding it */
	long docs;	      /* skills indexed, for the vocabulary's cut */
	/* the index's own tokenizer (porter over unicode61), to turn a
	 * query word into the term the index holds: "deploy" is "deploi" */
	fts5_tokenizer stemmer;
	Fts5Tokenizer *stem;
	int stem_tried;
};

void skills_report_release(struct skills_report *rep)
{
	buf_release(&rep->problems);
}

static int exec(struct skills *s, const char *sql, struct buf *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, -EIO, "skills index: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int skills_open(struct skills **out, const char *db_path, struct buf *err)
{
	struct skills *s = xcalloc(1, sizeof(*s));

	*out = NULL;
	sqlmem_setup();
	if (sqlite3_open_v2(db_path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err_set(err, -EIO, "skills index: cannot open %s: %s", db_path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		skills_close(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s,
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		 "CREATE TABLE IF NOT EXISTS skills(id INTEGER PRIMARY KEY, path TEXT "
		 "UNIQUE NOT NULL, dir TEXT, hash TEXT, name TEXT, description TEXT, "
		 "body TEXT,"
		 " stat TEXT);"
		 "CREATE VIRTUAL TABLE IF NOT EXISTS skills_fts USING fts5(name, "
		 "description, body, content='skills', content_rowid='id', "
		 "tokenize='porter unicode61');"
		 "CREATE VIRTUAL TABLE IF NOT EXISTS skills_vocab USING "
		 "fts5vocab(skills_fts, "
		 "'row');",
		 err) < 0) {
		skills_close(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

void skills_close(struct skills *s)
{
	if (!s)
		return;
	sqlite3_finalize(s->search);
	sqlite3_finalize(s->known);
	sqlite3_finalize(s->vocab);
	if (s->stem)
		s->stemmer.xDelete(s->stem);
	sqlite3_close(s->db);
	free(s);
}

/* The front matter's value for key (a scalar), or NULL. */
static const char *fm_get(const struct ynode *map, const char *key)
{
	for (size_t i = 0; map && map->kind == Y_MAP && i + 1 < map->n; i += 2)
		if (map->kids[i].val && !strcmp(map->kids[i].val, key) &&
		    map->kids[i + 1].kind == Y_SCALAR)
			return map->kids[i + 1].val;
	return NULL;
}

int skills_parse(const char *text, size_t len, char **name, char **description,
		 size_t *body_off, struct buf *why)
{
	const char *end;
	struct ynode *root = NULL;
	struct buf yerr = BUF_INIT;
	size_t fm_len;
	int ret = 0;

	*name = *description = NULL;
	if (len < 4 || strncmp(text, "---", 3) || (text[3] != '\n' && text[3] != '\r'))
		return err_set(why, -EINVAL,
			       "1: no YAML front matter (a first line '---')");
	end = memmem(text + 3, len - 3, "\n---", 4);
	if (!end)
		return err_set(why, -EINVAL, "1: the front matter has no closing '---'");
	/* "---\n---": the closing line right after the opening one */
	fm_len = end > text + 4 ? (size_t)(end - (text + 4)) : 0;
	if (yamltree_load("SKILL.md", text + 4, fm_len, &root, &yerr) < 0) {
		/* yamltree says "SKILL.md:LINE: why", its lines counted from the
		 * front matter's first line: the file's line is one more */
		const char *c = strchr(yerr.s, ':');
		char *rest = NULL;
		long l = c ? strtol(c + 1, &rest, 10) : 0;
		if (rest && *rest == ':')
			rest += rest[1] == ' ' ? 2 : 1;
		else
			rest = yerr.s;
		ret = err_set(why, -EINVAL, "%ld: %s", l + 1, rest);
		goto out;
	}
	if (!fm_get(root, "name") || !*fm_get(root, "name"))
		ret = err_set(why, -EINVAL, "2: the front matter has no name:");
	else if (!fm_get(root, "description") || !*fm_get(root, "description"))
		ret = err_set(why, -EINVAL, "2: the front matter has no description:");
	if (ret == 0) {
		*name = xstrdup(fm_get(root, "name"));
		*description = xstrdup(fm_get(root, "description"));
		end += 4;
		while (end < text + len && *end != '\n')
			end++;
		*body_off = end < text + len ? (size_t)(end + 1 - text) : len;
	}
out:
	yamltree_free(root);
	buf_release(&yerr);
	return ret;
}

/* The stored hash of path into hex (empty: not indexed), and whether the
 * file's stat (size, mtime, inode) is still the one it was indexed with. */
static int stored_hash(struct skills *s, const char *path, const char *stat_key,
		       char hex[65])
{
	sqlite3_stmt *st;
	int same = 0;
	hex[0] = 0;
	if (!s->known &&
	    sqlite3_prepare_v3(s->db, "SELECT hash, stat FROM skills WHERE path = ?1", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->known, NULL) != SQLITE_OK)
		return 0;
	st = s->known;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(hex, 65, "%s", (const char *)sqlite3_column_text(st, 0));
		same = sqlite3_column_text(st, 1) &&
		       !strcmp((const char *)sqlite3_column_text(st, 1), stat_key);
	}
	sqlite3_reset(st);
	return same;
}

static int run1(struct skills *s, const char *sql, const char *a, const char *b,
		const char *c, const char *d, const char *e, const char *f)
{
	sqlite3_stmt *st;
	const char *v[] = {a, b, c, d, e, f};
	int rc;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (int i = 0; i < 6; i++)
		if (v[i])
			sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

/* Drops path's row and its FTS entry (external content: delete by value). */
static int drop(struct skills *s, const char *path)
{
	int ret = run1(
		s,
		"INSERT INTO skills_fts(skills_fts, rowid, name, description, body) "
		"SELECT 'delete', id, name, description, body FROM skills WHERE path = "
		"?1",
		path, NULL, NULL, NULL, NULL, NULL);
	return ret ? ret
		   : run1(s, "DELETE FROM skills WHERE path = ?1", path, NULL, NULL, NULL,
			  NULL, NULL);
}

/* One SKILL.md: indexed when new or changed (a file whose size, mtime and
 * inode are as indexed is not read again; else its hash decides). */
static int index_one(struct skills *s, const char *dir, const char *path,
		     const struct stat *fst, struct skills_report *rep)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	char hex[65], old[65], key[96], *name = NULL, *desc = NULL;
	size_t body = 0;
	int ret = 0;

	rep->scanned++;
	snprintf(key, sizeof(key), "%lld:%lld.%09ld:%llu", (long long)fst->st_size,
		 (long long)fst->st_mtim.tv_sec, fst->st_mtim.tv_nsec,
		 (unsigned long long)fst->st_ino);
	if (stored_hash(s, path, key, old)) {
		rep->unchanged++;
		goto out;
	}
	if (saferead_user(path, "SKILL.md", SKILL_MAX_BYTES, 0, &text, &why) < 0) {
		buf_addf(&rep->problems, "%s:1: %s\n", path, why.s);
		goto out;
	}
	hash_sha256_hex(text.s ? text.s : "", text.len, hex);
	if (!strcmp(hex, old)) { /* touched, not changed */
		rep->unchanged++;
		ret = run1(s, "UPDATE skills SET stat = ?2 WHERE path = ?1", path, key,
			   NULL, NULL, NULL, NULL);
		goto out;
	}
	if (skills_parse(text.s ? text.s : "", text.len, &name, &desc, &body, &why) < 0) {
		buf_addf(&rep->problems, "%s:%s\n", path, why.s);
		if (*old)
			ret = drop(s, path);
		goto out;
	}
	if (*old && (ret = drop(s, path)) < 0)
		goto out;
	ret = run1(s,
		   "INSERT INTO skills(path, dir, hash, name, description, body) "
		   "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		   path, dir, hex, name, desc, text.s + body);
	if (ret == 0)
		ret = run1(s, "UPDATE skills SET stat = ?2 WHERE path = ?1", path, key,
			   NULL, NULL, NULL, NULL);
	if (ret == 0)
		ret = run1(s,
			   "INSERT INTO skills_fts(rowid, name, description, body) "
			   "SELECT id, "
			   "name, description, body FROM skills WHERE path = ?1",
			   path, NULL, NULL, NULL, NULL, NULL);
	if (ret == 0)
		*old ? rep->updated++ : rep->added++;
out:
	free(name);
	free(desc);
	buf_release(&text);
	buf_release(&why);
	return ret;
}

/* Every DIR/NAME/SKILL.md; seen gets each path, NUL-separated. */
static int index_dir(struct skills *s, const char *dir, struct skills_report *rep,
		     struct buf *seen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return 0; /* a directory that is not there has no skills */
	while (ret == 0 && (e = readdir(d))) {
		struct stat st;
		char *path;
		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s/SKILL.md", dir, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			buf_add(seen, path, strlen(path) + 1);
			ret = index_one(s, dir, path, &st, rep);
		}
		free(path);
	}
	closedir(d);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The paths of seen, sorted, for bsearch (a library of 100,000 skills). */
static const char **sorted_paths(const struct buf *seen, size_t *n)
{
	const char **v;
	*n = 0;
	for (const char *p = seen->s; p && p < seen->s + seen->len; p += strlen(p) + 1)
		(*n)++;
	v = xcalloc(*n ? *n : 1, sizeof(*v));
	*n = 0;
	for (const char *p = seen->s; p && p < seen->s + seen->len; p += strlen(p) + 1)
		v[(*n)++] = p;
	qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

/* Rows whose SKILL.md was not seen in this pass: gone. */
static int drop_missing(struct skills *s, const struct buf *seen,
			struct skills_report *rep)
{
	sqlite3_stmt *st;
	struct buf gone = BUF_INIT;
	size_t n;
	const char **v = sorted_paths(seen, &n);
	int ret = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT path FROM skills", -1, &st, NULL) !=
	    SQLITE_OK) {
		free(v);
		return -EIO;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		if (p && !bsearch(&p, v, n, sizeof(*v), cmp_str))
			buf_add(&gone, p, strlen(p) + 1);
	}
	sqlite3_finalize(st);
	free(v);
	for (const char *p = gone.s; ret == 0 && p && p < gone.s + gone.len;
	     p += strlen(p) + 1) {
		ret = drop(s, p);
		rep->removed++;
	}
	buf_release(&gone);
	return ret;
}

int skills_index(struct skills *s, const char *const *dirs, size_t ndirs,
		 struct skills_report *rep, struct buf *err)
{
	struct buf seen = BUF_INIT;
	int ret = exec(s, "BEGIN", err);

	for (size_t i = 0; ret == 0 && i < ndirs; i++)
		ret = index_dir(s, dirs[i], rep, &seen);
	if (ret == 0)
		ret = drop_missing(s, &seen, rep);
	if (ret == 0)
		ret = exec(s, "COMMIT", err);
	if (ret == 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM skills", -1, &st,
				       NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				s->docs = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	} else {
		exec(s, "ROLLBACK", NULL);
		err_set(err, ret, "skills index: %s", sqlite3_errmsg(s->db));
	}
	buf_release(&seen);
	return ret;
}

/* Words of error output that name no topic: matching every skill, they
 * add nothing to a ranking but its cost. */
static int stopword(const char *w, size_t n)
{
	static const char *const stop[] = {
		"the",	    "and",   "for",    "with", "that", "this", "from",
		"failed",   "fails", "error",  "line", "file", "not",  "expected",
		"returned", "got",   "error:", "none", "true", "false"};
	for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		if (strlen(stop[i]) == n && !strncasecmp(stop[i], w, n))
			return 1;
	return 0;
}

/* FTS5's API of this connection (SQLite's documented way: SELECT fts5(?)
 * with a pointer bound), or NULL. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

/* The index's tokenizer, made at the first look-up: 0, or -1 when it
 * cannot be had (the caller then keeps the word). */
static int stemmer_open(struct skills *s)
{
	const char *args[] = {"unicode61"};
	fts5_api *api;
	void *ud = NULL;

	if (!s->stem_tried) {
		s->stem_tried = 1;
		if ((api = fts5_api_of(s->db)) &&
		    api->xFindTokenizer(api, "porter", &ud, &s->stemmer) == SQLITE_OK &&
		    s->stemmer.xCreate(ud, args, 1, &s->stem) != SQLITE_OK)
			s->stem = NULL;
	}
	return s->stem ? 0 : -1;
}

struct stem_out {
	char term[64];
	int n; /* tokens seen */
};

static int stem_token(void *ctx, int flags, const char *tok, int len, int start, int end)
{
	struct stem_out *o = ctx;

	(void)flags, (void)start, (void)end;
	if (o->n++ == 0 && len > 0 && (size_t)len < sizeof(o->term)) {
		memcpy(o->term, tok, (size_t)len);
		o->term[len] = 0;
	}
	return SQLITE_OK;
}

/* How many skills hold the word w (n bytes) as the index holds it: the
 * tokenizer's term for it ("Deploy" -> "deploi"); -1 unknown. */
static long doc_freq(struct skills *s, const char *w, size_t n)
{
	struct stem_out o = {"", 0};
	long d = -1;

	if (!s || !s->docs || stemmer_open(s) < 0)
		return -1;
	if (!s->vocab &&
	    sqlite3_prepare_v3(s->db, "SELECT doc FROM skills_vocab WHERE term = ?1", -1,
			       SQLITE_PREPARE_PERSISTENT, &s->vocab, NULL) != SQLITE_OK)
		return -1;
	if (s->stemmer.xTokenize(s->stem, &o, FTS5_TOKENIZE_QUERY, w, (int)n,
				 stem_token) != SQLITE_OK ||
	    o.n != 1 || !o.term[0])
		return -1;
	sqlite3_bind_text(s->vocab, 1, o.term, -1, SQLITE_STATIC);
	if (sqlite3_step(s->vocab) == SQLITE_ROW)
		d = sqlite3_column_int64(s->vocab, 0);
	sqlite3_reset(s->vocab);
	return d;
}

/* Free text as an FTS5 query: its words, each quoted, OR-ed; "" when none.
 * In a large library a word most skills hold (more than 1 in 20) is left
 * out: BM25 would give it next to no weight, and scoring the thousands of
 * skills it matches is what a query costs. */
static void fts_query(struct skills *s, const char *text, struct buf *q)
{
	int terms = 0;
	for (const char *p = text; p && *p && terms < QUERY_MAX_TERMS;) {
		size_t n = 0;
		while (p[n] && (((unsigned)(p[n] | 32) - 'a') < 26u ||
				((unsigned)p[n] - '0') < 10u || p[n] == '_'))
			n++;
		if (n >= 3 && n < 64 && !stopword(p, n) &&
		    (s == NULL || s->docs < 2000 || doc_freq(s, p, n) <= s->docs / 20)) {
			buf_addf(q, "%s\"%.*s\"", terms ? " OR " : "", (int)n, p);
			terms++;
		}
		p += n ? n : 1;
	}
}

json_t *skills_search(struct skills *s, const char *text, int k, struct buf *err)
{
	struct buf q = BUF_INIT;
	sqlite3_stmt *st;
	json_t *out = json_array();

	fts_query(s, text, &q);
	if (!q.len) /* only common words: rank by them after all */
		fts_query(NULL, text, &q);
	if (!q.len)
		goto done;
	if (!s->search &&
	    sqlite3_prepare_v3(
		    s->db,
		    /* rank first, join the k winners only */
		    "SELECT s.name, s.description, s.path, s.dir, f.score FROM "
		    "(SELECT rowid, bm25(skills_fts, 10.0, 5.0, 1.0) AS score "
		    "FROM skills_fts WHERE skills_fts MATCH ?1 ORDER BY score "
		    "LIMIT ?2) f JOIN skills s ON s.id = f.rowid ORDER BY f.score",
		    -1, SQLITE_PREPARE_PERSISTENT, &s->search, NULL) != SQLITE_OK) {
		err_set(err, -EIO, "skills index: %s", sqlite3_errmsg(s->db));
		json_decref(out);
		out = NULL;
		goto done;
	}
	st = s->search;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, q.s, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, k > 0 ? k : 5);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s,s:s,s:f}", "name",
				  (const char *)sqlite3_column_text(st, 0), "description",
				  (const char *)sqlite3_column_text(st, 1), "path",
				  (const char *)sqlite3_column_text(st, 2), "dir",
				  (const char *)sqlite3_column_text(st, 3), "score",
				  sqlite3_column_double(st, 4)));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
done:
	buf_release(&q);
	return out;
}

json_t *skills_list(struct skills *s, struct buf *err)
{
	sqlite3_stmt *st;
	json_t *out = json_array();
	if (sqlite3_prepare_v2(s->db,
			       "SELECT name, description, path FROM skills ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		err_set(err, -EIO, "skills index: %s", sqlite3_errmsg(s->db));
		json_decref(out);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
			out,
			json_pack("{s:s,s:s,s:s}", "name",
				  (const char *)sqlite3_column_text(st, 0), "description",
				  (const char *)sqlite3_column_text(st, 1), "path",
				  (const char *)sqlite3_column_text(st, 2)));
	sqlite3_finalize(st);
	return out;
}

int skills_body(struct skills *s, const char *name, struct buf *out, struct buf *err)
{
	sqlite3_stmt *st;
	int ret = -ENOENT;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT body, path FROM skills WHERE name = ?1 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return err_set(err, -EIO, "skills index: %s", sqlite3_errmsg(s->db));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		buf_addf(out, "(%s)\n%s", (const char *)sqlite3_column_text(st, 1),
			 (const char *)sqlite3_column_text(st, 0));
		ret = 0;
	}
	sqlite3_finalize(st);
	if (ret == -ENOENT)
		err_set(err, ret, "no skill named \"%s\"", name);
	return ret;
}
