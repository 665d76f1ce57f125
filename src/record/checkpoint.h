/*
 * checkpoint: Ed25519-signed heads of the event log, so that a log cut
 * short and rewritten is detected (the hash chain alone cannot show it).
 *
 * The key pair lives outside every run tree, in a PEM file:
 *
 *   char *path;
 *   checkpoint_key_path(cfg->audit_key, repo, &path, &err);
 *       $LOOPGATE_AUDIT_KEY, else audit_key:, else
 *       $XDG_CONFIG_HOME/loopgate/audit-key.pem (~/.config/... without it);
 *       -EINVAL for a path inside the repository
 *   struct checkpoint_key key = CHECKPOINT_KEY_INIT;
 *   checkpoint_key_load(&key, path, 1, &err);   1: create it if missing
 *                                               (dir 0700, file 0600)
 *   ...
 *   checkpoint_key_release(&key);
 *
 * Signing is the event writer's (events_set_signer in events.h); this
 * module signs one head and formats, loads and verifies checkpoint lines.
 * A checkpoint signs
 *
 *   "loopgate-checkpoint-v1" NUL run_id NUL nonce NUL seq NUL h NUL final
 *
 * (run_id and nonce from the log's header, seq decimal, final "1"/"0") and
 * is one line of checkpoints.jsonl beside events.jsonl:
 * {"final":B,"h":H,"key_id":K,"pub":P,"run_id":R,"seq":N,"sig":S,"ts":T},
 * key_id the SHA-256 hex of the raw public key, pub that key (64 hex; absent
 * in logs written before it was added), sig 128 hex characters.  The pub
 * lets a log signed by a key that is not here (a worker's in its pod) be
 * checked once a trusted record names its key_id (auditkey_vouched).
 *
 * Verifying (loopgate audit verify, and the run store's copy, which passes
 * its own list):
 *
 *   struct checkpoint_list l = CHECKPOINT_LIST_INIT;
 *   checkpoint_load(".../checkpoints.jsonl", &l, &err);
 *       -ENOENT no file; -EBADMSG a line that is not a checkpoint
 *   struct checkpoint_result cr;
 *   checkpoint_verify(&l, &key, ".../events.jsonl", &res, &cr, &err);
 *       < 0: the log could not be read; else res (audit.h) says how the
 *       chain fares and cr.reason (NULL when fine) what is wrong with the
 *       checkpoints; cr.bad_seq names the checkpoint at fault.
 */
#ifndef LOOPGATE_CHECKPOINT_H
#define LOOPGATE_CHECKPOINT_H

#include <jansson.h>
#include "record/audit.h"
#include "base/buf.h"

#define CHECKPOINT_DOMAIN  "loopgate-checkpoint-v1"
#define CHECKPOINT_FILE	   "checkpoints.jsonl"
#define CHECKPOINT_EVERY   64
#define CHECKPOINT_KEY_ENV "LOOPGATE_AUDIT_KEY"

struct checkpoint_key {
	void *pkey; /* EVP_PKEY * (OpenSSL stays out of this header) */
	int has_private;
	char key_id[65];
	char pub[65]; /* the raw public key, hex */
	char *path;
};
#define CHECKPOINT_KEY_INIT                                                              \
	{                                                                                \
		.pkey = NULL, .key_id = ""                                               \
	}

struct checkpoint {
	long seq;
	int final;
	char h[65];
	char run_id[65];
	char key_id[65];
	char pub[65]; /* "" when the line has none */
	char sig[129];
	char ts[40];
};

struct checkpoint_list {
	struct checkpoint *v;
	size_t n, alloc;
};
#define CHECKPOINT_LIST_INIT                                                             \
	{                                                                                \
		.v = NULL                                                                \
	}

struct checkpoint_result {
	long checked;	       /* checkpoints that hold */
	long signed_seq;       /* the highest checkpointed seq, -1 none */
	int final;	       /* the highest one is final (the log was closed) */
	long unsigned_records; /* records after signed_seq (no final) */
	long bad_seq;	       /* seq of the failing checkpoint, -1 */
	long bad_index;	       /* its 1-based line in the list, 0 */
	const char *reason;    /* NULL: all hold; else what failed (detail) */
	struct buf detail;     /* the reason with figures */
};

/* checkpoints.jsonl beside the event log at events_path (malloc'd). */
char *checkpoint_file_beside(const char *events_path);
/* Resolves the key file's path (see above); *ret_path is malloc'd. */
int checkpoint_key_path(const char *configured, const char *repo, char **ret_path,
			struct buf *err);
/* Reads (or with create, makes on first use) the key pair at path.  With
 * create (signing), a key file others can read is refused (-EPERM). */
int checkpoint_key_load(struct checkpoint_key *k, const char *path, int create,
			struct buf *err);
void checkpoint_key_release(struct checkpoint_key *k);
/* A verifying key from a checkpoint's pub (64 hex); its key_id is the
 * SHA-256 of it.  0 or -EINVAL. */
int checkpoint_key_from_pub(struct checkpoint_key *k, const char *pub_hex);

/* Signs (run_id, nonce, seq, h, final) into *cp; 0 or -errno. */
int checkpoint_sign(const struct checkpoint_key *k, const char *run_id, const char *nonce,
		    long seq, const char *h, int final, struct checkpoint *cp,
		    struct buf *err);
/* 1 when cp's signature holds for (run_id, nonce) under k, else 0. */
int checkpoint_sig_ok(const struct checkpoint_key *k, const struct checkpoint *cp,
		      const char *run_id, const char *nonce);
/* The checkpoint's line, without newline (malloc'd). */
char *checkpoint_line(const struct checkpoint *cp);
/* Parses one line; 0 or -EBADMSG. */
int checkpoint_parse(const char *line, size_t len, struct checkpoint *cp);

void checkpoint_list_add(struct checkpoint_list *l, const struct checkpoint *cp);
int checkpoint_load(const char *path, struct checkpoint_list *l, struct buf *err);
void checkpoint_list_release(struct checkpoint_list *l);

int checkpoint_verify(const struct checkpoint_list *l, const struct checkpoint_key *k,
		      const char *events_path, struct audit_result *res,
		      struct checkpoint_result *cr, struct buf *err);
void checkpoint_result_release(struct checkpoint_result *cr);

#endif
