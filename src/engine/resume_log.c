/*
 * resume_log.c: the event log read as records (resume_impl.h), and
 * resume_load, which feeds them to the reducer (resume_state.h).
 */
#include "engine/resume_impl.h"
#include "engine/resume_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX (1u << 30) /* a log we would read into memory */
void logv_release(struct logv *v)
{
	for (size_t i = 0; i < v->n; i++)
		json_decref(v->rec[i]);
	free(v->rec);
	v->rec = NULL;
	v->n = 0;
}

int logv_load(struct logv *v, const char *path, struct buf *err)
{
	struct buf b = BUF_INIT;
	const char *p, *nl;
	int ret;

	buf_init(&b, LOG_MAX);
	if ((ret = buf_read_file(&b, path)) < 0) {
		buf_release(&b);
		return err_set(err, ret, "cannot read the event log %s: %s", path,
			       strerror(-ret));
	}
	for (p = b.s; (nl = memchr(p, '\n', (size_t)(b.s + b.len - p))); p = nl + 1) {
		json_t *rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
		if (!json_is_object(rec)) {
			json_decref(rec);
			ret = err_set(err, -EBADMSG,
				      "the event log %s has a line that "
				      "is not a record (line %zu): run `loopgate audit "
				      "verify`",
				      path, v->n + 1);
			break;
		}
		v->rec = xrealloc(v->rec, (v->n + 1) * sizeof(*v->rec));
		v->rec[v->n++] = rec;
	}
	buf_release(&b);
	return ret;
}

int resume_load(struct resume_state *s, const char *path, struct buf *err)
{
	struct logv v = {NULL, 0};
	int ret = logv_load(&v, path, err);
	for (size_t i = 0; ret == 0 && i < v.n; i++)
		resume_apply(s, v.rec[i]);
	logv_release(&v);
	return ret;
}
