/*
 * auditkey.c: the audit signing key as every command finds it (auditkey.h).
 */
#include "engine/auditkey.h"
#include "config/config.h"
#include "record/checkpoint.h"
#include "tree/git.h"

#include <stdlib.h>

int auditkey_load(const char *dir, const char *explicit_path, struct checkpoint_key *k,
		  struct buf *err)
{
	struct buf top = BUF_INIT, why = BUF_INIT;
	struct config c;
	const char *env = getenv(CHECKPOINT_KEY_ENV);
	char *path = NULL;
	int ret = 0;

	config_init(&c);
	if (explicit_path) {
		path = xstrdup(explicit_path);
	} else {
		if ((!env || !*env) && git_toplevel(dir ? dir : ".", &top, &why) == 0 &&
		    (ret = config_load_default(&c, top.s, NULL, &why)) < 0)
			err_set(err, ret,
				"%s (the audit key's path is read from "
				"audit_key: in it; pass --key FILE to name the key "
				"instead)",
				why.s);
		if (ret == 0)
			ret = checkpoint_key_path(c.audit_key, NULL, &path, err);
	}
	if (ret == 0)
		ret = checkpoint_key_load(k, path, 0, err);
	free(path);
	config_release(&c);
	buf_release(&top);
	buf_release(&why);
	return ret;
}
