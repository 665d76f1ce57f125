/*
 * auditkey: finding and loading the run's audit signing key, shared by
 * resume, `audit verify` and `review`.
 */
#ifndef LOOPGATE_AUDITKEY_H
#define LOOPGATE_AUDITKEY_H

#include "base/buf.h"

struct checkpoint_key;
/*
 * Loads the audit signing key as a run finds it: explicit (--key), else
 * $LOOPGATE_AUDIT_KEY, else audit_key: in the loopgate.yaml of the
 * repository holding dir (NULL: "."), else the default path.  Never creates
 * a key: verifying or appending to an existing log needs the key that
 * signed it.  0 or -errno with err set.
 */
int auditkey_load(const char *dir, const char *explicit_path, struct checkpoint_key *k,
		  struct buf *err);

#endif
