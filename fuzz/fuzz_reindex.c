/* `loopgate reindex` over a run whose events.jsonl is the input: every
 * record ingested into a fresh store, then the run shown and listed. */
#include "fuzz.h"
#include <jansson.h>
#include "base/fileio.h"
#include "store/store.h"

#define RUN_ID "20261205-000000-f00f00"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char repo[] = "/tmp/lg-fuzz-repo-XXXXXX", *dir, *log, *db;
	struct store *st = NULL;
	struct store_reindex_report rep = {0, 0, 0, BUF_INIT};
	struct buf err = BUF_INIT;
	json_t *out = NULL;

	if (!mkdtemp(repo))
		abort();
	dir = xasprintf("%s/.loopgate/runs/" RUN_ID, repo);
	log = xasprintf("%s/events.jsonl", dir);
	db = xasprintf("%s/.loopgate/loopgate.db", repo);
	if (fileio_mkdirs(dir, &err) < 0 ||
	    fileio_write_atomic(log, data, size, &err) < 0)
		abort();
	if (store_open(&st, db, &err) == 0) {
		if (store_reindex(st, repo, &rep, &err) == 0 &&
		    store_show_run(st, RUN_ID, &out, &err) == 0)
			json_decref(out);
		store_close(st);
	}
	fileio_remove_tree(repo);
	buf_release(&rep.notes);
	buf_release(&err);
	free(dir);
	free(log);
	free(db);
	return 0;
}
