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
/*
 * The key that signed a worker's log when this machine holds no copy of it
 * (a worker in a Kubernetes pod signs with a key made in the pod): the
 * public key in its checkpoints (l, of the log at events_path), trusted
 * only because the log of the run that started it (run_start's
 * fanout.parent), verified whole with k, holds a worker_end for it whose
 * final checkpoint is the worker's own: the same seq, head and key_id.
 * 0 with *out loaded and who in why ("run P's log, seq N"); -ENOENT when
 * nothing vouches for it (why says what is missing).
 */
struct checkpoint_list;
int auditkey_vouched(const char *events_path, const struct checkpoint_list *l,
		     const struct checkpoint_key *k, struct checkpoint_key *out,
		     struct buf *why);

#endif
