/*
 * checkpoint.c: the signing key, signed heads, and their verification.
 * See checkpoint.h and docs/design/audit.md.
 */
#include "record/checkpoint.h"
#include "base/crypto_api.h"
#include "base/clock.h"
#include "base/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_LEN 64
#define PUB_LEN 32

/* ---- where the key lives ------------------------------------------------ */

/* path made absolute, with its longest existing prefix resolved by
 * realpath (the rest may not exist yet). */
static char *resolve_path(const char *path)
{
	char *abs = path[0] == '/' ? xstrdup(path) : NULL;
	char cwd[PATH_MAX], real[PATH_MAX], *cut, *out;

	if (!abs)
		abs = xasprintf("%s/%s", getcwd(cwd, sizeof(cwd)) ? cwd : ".", path);
	for (cut = abs + strlen(abs); cut > abs;) {
		char keep = *cut;
		*cut = '\0';
		if (realpath(abs, real)) {
			*cut = keep;
			out = xasprintf("%s%s", real, cut);
			free(abs);
			return out;
		}
		*cut = keep;
		while (--cut > abs && *cut != '/')
			;
	}
	return abs;
}

static int is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

int checkpoint_key_path(const char *configured, const char *repo, char **ret_path,
			struct buf *err)
{
	const char *env = getenv(CHECKPOINT_KEY_ENV);
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char *path, *rp, *rrepo;
	int inside;

	if (env && *env)
		path = xstrdup(env);
	else if (configured && !strncmp(configured, "~/", 2) && home)
		path = xasprintf("%s/%s", home, configured + 2);
	else if (configured && *configured)
		path = xstrdup(configured);
	else if (xdg && xdg[0] == '/')
		path = xasprintf("%s/loopgate/audit-key.pem", xdg);
	else if (home && *home)
		path = xasprintf("%s/.config/loopgate/audit-key.pem", home);
	else
		return err_set(err, -ENOENT,
			       "no place for the audit signing key: "
			       "neither $HOME nor $XDG_CONFIG_HOME is set; set "
			       "audit_key: in loopgate.yaml or $%s",
			       CHECKPOINT_KEY_ENV);
	if (repo) {
		rp = resolve_path(path);
		rrepo = resolve_path(repo);
		inside = is_under(rp, rrepo);
		free(rp);
		free(rrepo);
		if (inside) {
			err_set(err, -EINVAL,
				"the audit signing key %s is inside the "
				"repository %s: anyone who can rewrite the run could "
				"re-sign it; keep it outside (audit_key: in "
				"loopgate.yaml "
				"or $%s)",
				path, repo, CHECKPOINT_KEY_ENV);
			free(path);
			return -EINVAL;
		}
	}
	*ret_path = path;
	return 0;
}

char *checkpoint_file_beside(const char *events_path)
{
	const char *slash = strrchr(events_path, '/');

	return slash ? xasprintf("%.*s/%s", (int)(slash - events_path), events_path,
				 CHECKPOINT_FILE)
		     : xstrdup(CHECKPOINT_FILE);
}

/* ---- loading and creating it ------------------------------------------- */

static void to_hex(const unsigned char *p, size_t n, char *out);
static int from_hex(const char *s, unsigned char *p, size_t n);

static int set_key_id(struct checkpoint_key *k)
{
	unsigned char pub[PUB_LEN];
	size_t len = sizeof(pub);

	if (CR.EVP_PKEY_get_raw_public_key(k->pkey, pub, &len) != 1 || len != PUB_LEN)
		return -EINVAL;
	hash_sha256_hex(pub, len, k->key_id);
	to_hex(pub, len, k->pub);
	return 0;
}

int checkpoint_key_from_pub(struct checkpoint_key *k, const char *pub_hex)
{
	unsigned char pub[PUB_LEN];

	if (!pub_hex || strlen(pub_hex) != 2 * PUB_LEN ||
	    from_hex(pub_hex, pub, PUB_LEN) < 0)
		return -EINVAL;
	if (crypto_api_load(NULL) < 0)
		return -ELIBACC;
	k->pkey = CR.EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PUB_LEN);
	k->has_private = 0;
	return k->pkey && set_key_id(k) == 0 ? 0 : -EINVAL;
}

/*
 * The key as loopgate writes it (PEM "PRIVATE KEY": PKCS#8 with no
 * attributes and no public half) is 48 bytes of DER whose first 16 are
 * fixed (RFC 8410): decoded here directly, because OpenSSL's generic
 * decoder costs about 11 M instructions on every run's start.  Any other
 * PEM (an Ed25519 key with its public half, say) goes through OpenSSL.
 */
static EVP_PKEY *key_from_pem_fast(FILE *f)
{
	static const unsigned char prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
						 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
						 0x04, 0x22, 0x04, 0x20};
	static const char head[] = "-----BEGIN PRIVATE KEY-----\n";
	static const char tail[] = "-----END PRIVATE KEY-----\n";
	char text[256], b64[65];
	unsigned char der[51];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	const char *p = text + sizeof(head) - 1;

	text[n] = '\0';
	/* head, one base64 line of 64 characters, tail: nothing else */
	if (n != sizeof(head) - 1 + 65 + sizeof(tail) - 1 ||
	    memcmp(text, head, sizeof(head) - 1) || p[64] != '\n' || strcmp(p + 65, tail))
		return NULL;
	memcpy(b64, p, 64);
	b64[64] = '\0';
	/* 64 characters decode to 48 bytes; EVP_DecodeBlock counts the "="
	 * padding as zero bytes, and there is none here */
	if (CR.EVP_DecodeBlock(der, (unsigned char *)b64, 64) != 48 ||
	    memcmp(der, prefix, sizeof(prefix)))
		return NULL;
	return CR.EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, der + 16, 32);
}

static int read_key(struct checkpoint_key *k, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *pkey;

	if (!f)
		return err_set(err, -errno, "cannot read the audit signing key %s: %s",
			       path, strerror(errno));
	pkey = key_from_pem_fast(f);
	if (!pkey) {
		rewind(f);
		pkey = CR.PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!pkey || CR.EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		CR.EVP_PKEY_free(pkey);
		return err_set(err, -EINVAL,
			       "the audit signing key %s is not an "
			       "Ed25519 private key in PEM",
			       path);
	}
	k->pkey = pkey;
	k->has_private = 1;
	if (set_key_id(k) < 0)
		return err_set(err, -EINVAL,
			       "the audit signing key %s has no "
			       "usable public half",
			       path);
	return 0;
}

/* mkdir -p of path's directory, the last level 0700. */
static int make_key_dir(const char *path, struct buf *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *p;
	int ret = 0;

	if (!slash || slash == dir)
		goto out;
	*slash = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			ret = -errno;
		*p = '/';
	}
	if (!ret && mkdir(dir, 0700) < 0 && errno != EEXIST)
		ret = -errno;
	if (ret)
		err_set(err, ret,
			"cannot create the directory %s for the audit "
			"signing key: %s",
			dir, strerror(-ret));
out:
	free(dir);
	return ret;
}

/* Writes a new key to a temporary file and link()s it to path, so two
 * first runs racing end up with one key: the loser reads the winner's. */
static int create_key(const char *path, struct buf *err)
{
	EVP_PKEY_CTX *ctx = CR.EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *pkey = NULL;
	char rnd[17];
	char *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, ret = -EIO;

	if (!ctx || CR.EVP_PKEY_keygen_init(ctx) != 1 ||
	    CR.EVP_PKEY_keygen(ctx, &pkey) != 1) {
		err_set(err, -EIO, "cannot generate an Ed25519 key (OpenSSL)");
		goto out;
	}
	if ((ret = make_key_dir(path, err)) < 0)
		goto out;
	hash_random_hex(8, rnd);
	tmp = xasprintf("%s.tmp-%s", path, rnd);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = err_set(err, -errno, "cannot create the audit signing key %s: %s",
			      path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (CR.PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) != 0 || fsync(fileno(f)) < 0) {
		ret = err_set(err, -EIO, "cannot write the audit signing key %s", tmp);
		goto out;
	}
	ret = 0;
	if (link(tmp, path) < 0 && errno != EEXIST)
		ret = err_set(err, -errno, "cannot create the audit signing key %s: %s",
			      path, strerror(errno));
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	CR.EVP_PKEY_free(pkey);
	CR.EVP_PKEY_CTX_free(ctx);
	return ret;
}

int checkpoint_key_load(struct checkpoint_key *k, const char *path, int create,
			struct buf *err)
{
	struct stat st;
	int ret;

	if ((ret = crypto_api_load(err)) < 0)
		return ret;
	if (create && stat(path, &st) < 0 && errno == ENOENT &&
	    (ret = create_key(path, err)) < 0)
		return ret;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return err_set(err, -EINVAL,
			       "the audit signing key %s is %s, not a key file: "
			       "point audit_key: (or $%s) at a file, e.g. "
			       "%s/audit-key.pem",
			       path,
			       S_ISDIR(st.st_mode) ? "a directory" : "not a regular file",
			       CHECKPOINT_KEY_ENV,
			       S_ISDIR(st.st_mode) ? path : "~/.config/loopgate");
	/* Signing with a key others can read proves nothing: refuse, as ssh
	 * does.  (Verifying only needs its public half: any mode will do.) */
	if (create && stat(path, &st) == 0 && (st.st_mode & 077))
		return err_set(err, -EPERM,
			       "the audit signing key %s can be read by "
			       "others (mode %04o): anyone who can read it can re-sign "
			       "a forged log; chmod 600 %s",
			       path, (unsigned)(st.st_mode & 07777), path);
	if ((ret = read_key(k, path, err)) < 0) {
		checkpoint_key_release(k);
		return ret;
	}
	k->path = xstrdup(path);
	return 0;
}

void checkpoint_key_release(struct checkpoint_key *k)
{
	if (k->pkey)
		CR.EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	k->has_private = 0;
	k->key_id[0] = '\0';
	free(k->path);
	k->path = NULL;
}

/* ---- signing one head -------------------------------------------------- */

static void message(struct buf *m, const char *run_id, const char *nonce, long seq,
		    const char *h, int final)
{
	static const char domain[] = CHECKPOINT_DOMAIN; /* with its NUL */

	buf_reset(m);
	buf_add(m, domain, sizeof(domain));
	buf_adds(m, run_id);
	buf_addch(m, '\0');
	buf_adds(m, nonce);
	buf_addch(m, '\0');
	buf_addf(m, "%ld", seq);
	buf_addch(m, '\0');
	buf_adds(m, h);
	buf_addch(m, '\0');
	buf_addch(m, final ? '1' : '0');
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *s, unsigned char *p, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < 2 * n; i++) {
		int c = (unsigned char)s[i], v = c >= '0' && c <= '9'	? c - '0'
						 : c >= 'a' && c <= 'f' ? c - 'a' + 10
									: -1;
		if (v < 0)
			return -1;
		p[i / 2] = (unsigned char)(i % 2 ? (p[i / 2] << 4) | v : v);
	}
	return 0;
}

int checkpoint_sign(const struct checkpoint_key *k, const char *run_id, const char *nonce,
		    long seq, const char *h, int final, struct checkpoint *cp,
		    struct buf *err)
{
	EVP_MD_CTX *md = CR.EVP_MD_CTX_new();
	unsigned char sig[SIG_LEN];
	size_t siglen = sizeof(sig);
	struct buf m = BUF_INIT;
	int ok;

	message(&m, run_id, nonce, seq, h, final);
	ok = md && k->has_private &&
	     CR.EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	     CR.EVP_DigestSign(md, sig, &siglen, (unsigned char *)m.s, m.len) == 1 &&
	     siglen == SIG_LEN;
	CR.EVP_MD_CTX_free(md);
	buf_release(&m);
	if (!ok)
		return err_set(err, -EIO,
			       "signing the checkpoint at seq %ld failed "
			       "(OpenSSL)",
			       seq);
	memset(cp, 0, sizeof(*cp));
	cp->seq = seq;
	cp->final = final;
	snprintf(cp->h, sizeof(cp->h), "%s", h);
	snprintf(cp->run_id, sizeof(cp->run_id), "%s", run_id);
	memcpy(cp->key_id, k->key_id, sizeof(cp->key_id));
	memcpy(cp->pub, k->pub, sizeof(cp->pub));
	to_hex(sig, SIG_LEN, cp->sig);
	clock_iso8601(cp->ts, sizeof(cp->ts));
	return 0;
}

int checkpoint_sig_ok(const struct checkpoint_key *k, const struct checkpoint *cp,
		      const char *run_id, const char *nonce)
{
	EVP_MD_CTX *md;
	unsigned char sig[SIG_LEN];
	struct buf m = BUF_INIT;
	int ok;

	if (!k->pkey || from_hex(cp->sig, sig, SIG_LEN) < 0)
		return 0;
	md = CR.EVP_MD_CTX_new();
	message(&m, run_id, nonce, cp->seq, cp->h, cp->final);
	ok = md && CR.EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
	     CR.EVP_DigestVerify(md, sig, SIG_LEN, (unsigned char *)m.s, m.len) == 1;
	CR.EVP_MD_CTX_free(md);
	buf_release(&m);
	return ok;
}

/* ---- lines -------------------------------------------------------------- */

char *checkpoint_line(const struct checkpoint *cp)
{
	json_t *o = json_pack("{s:b,s:s,s:s,s:s,s:I,s:s,s:s}", "final", cp->final, "h",
			      cp->h, "key_id", cp->key_id, "run_id", cp->run_id, "seq",
			      (json_int_t)cp->seq, "sig", cp->sig, "ts", cp->ts);
	if (o && cp->pub[0])
		json_object_set_new(o, "pub", json_string(cp->pub));
	char *s = o ? json_dumps(o, AUDIT_JSON_FLAGS) : NULL;

	json_decref(o);
	if (!s) {
		fputs("loopgate: out of memory\n", stderr);
		abort();
	}
	return s;
}

static int copy_field(json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (!v || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int checkpoint_parse(const char *line, size_t len, struct checkpoint *cp)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *seq = json_object_get(o, "seq"), *fin = json_object_get(o, "final");
	int ret = -EBADMSG;

	memset(cp, 0, sizeof(*cp));
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    !json_is_boolean(fin) || copy_field(o, "h", cp->h, sizeof(cp->h)) ||
	    copy_field(o, "run_id", cp->run_id, sizeof(cp->run_id)) ||
	    copy_field(o, "key_id", cp->key_id, sizeof(cp->key_id)) ||
	    copy_field(o, "sig", cp->sig, sizeof(cp->sig)) ||
	    copy_field(o, "ts", cp->ts, sizeof(cp->ts)))
		goto out;
	/* pub is optional (older logs): a malformed one is no pub */
	if (json_object_get(o, "pub") && copy_field(o, "pub", cp->pub, sizeof(cp->pub)))
		cp->pub[0] = 0;
	cp->seq = (long)json_integer_value(seq);
	cp->final = json_is_true(fin);
	ret = 0;
out:
	json_decref(o);
	return ret;
}

void checkpoint_list_add(struct checkpoint_list *l, const struct checkpoint *cp)
{
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	l->v[l->n++] = *cp;
}

void checkpoint_list_release(struct checkpoint_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

int checkpoint_load(const char *path, struct checkpoint_list *l, struct buf *err)
{
	struct buf b = BUF_INIT;
	struct checkpoint cp;
	const char *p, *nl;
	long line = 0;
	int ret = buf_read_file(&b, path);

	if (ret < 0) {
		err_set(err, ret, "cannot read the checkpoints %s: %s", path,
			strerror(-ret));
		goto out;
	}
	for (p = b.s; p < b.s + b.len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b.s + b.len - p));
		line++;
		if (!nl) { /* a torn last checkpoint: the crash's, ignored */
			break;
		}
		if (checkpoint_parse(p, (size_t)(nl - p), &cp) < 0) {
			ret = err_set(err, -EBADMSG, "%s line %ld is not a checkpoint",
				      path, line);
			goto out;
		}
		checkpoint_list_add(l, &cp);
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}

/* ---- verifying a list against a log ------------------------------------ */

static int by_seq(const void *a, const void *b)
{
	long x = ((const struct audit_pick *)a)->seq;
	long y = ((const struct audit_pick *)b)->seq;

	return x < y ? -1 : x > y;
}

static const char *h_of(const struct audit_pick *picks, size_t n, long seq)
{
	struct audit_pick key = {seq, ""};
	const struct audit_pick *p = bsearch(&key, picks, n, sizeof(*picks), by_seq);

	return p && p->h[0] ? p->h : NULL;
}

/* Why checkpoint i fails, into cr (0 when it holds). */
static int check_one(const struct checkpoint *cp, const struct checkpoint_key *k,
		     const struct audit_result *res, const struct audit_pick *picks,
		     size_t n, struct checkpoint_result *cr)
{
	const char *h;

	if (strcmp(cp->key_id, k->key_id)) {
		cr->reason = "signed by another key";
		buf_addf(&cr->detail,
			 "the checkpoint at seq %ld was signed by key "
			 "%.16s..., not by %s (key %.16s...)",
			 cp->seq, cp->key_id, k->path ? k->path : "this key", k->key_id);
	} else if (strcmp(cp->run_id, res->run_id)) {
		cr->reason = "checkpoint of another run";
		buf_addf(&cr->detail,
			 "the checkpoint at seq %ld is for run %s, the "
			 "log's header says %s",
			 cp->seq, cp->run_id, res->run_id);
	} else if (!checkpoint_sig_ok(k, cp, res->run_id, res->nonce)) {
		cr->reason = "bad signature";
		buf_addf(&cr->detail,
			 "bad signature on the checkpoint at seq %ld "
			 "(the checkpoint, or the log's header, was changed)",
			 cp->seq);
	} else if (cp->seq > res->last_seq) {
		cr->reason = "truncated";
		buf_addf(&cr->detail,
			 "truncated: checkpoint at seq %ld but the log "
			 "ends at %ld",
			 cp->seq, res->last_seq);
		cr->bad_seq = res->last_seq + 1; /* the first record missing */
		return -1;
	} else if (!(h = h_of(picks, n, cp->seq)) || strcmp(h, cp->h)) {
		cr->reason = "checkpoint h mismatch";
		buf_addf(&cr->detail,
			 "checkpoint h mismatch at seq %ld: the log was "
			 "rewritten at or before seq %ld",
			 cp->seq, cp->seq);
	} else {
		return 0;
	}
	cr->bad_seq = cp->seq;
	return -1;
}

int checkpoint_verify(const struct checkpoint_list *l, const struct checkpoint_key *k,
		      const char *events_path, struct audit_result *res,
		      struct checkpoint_result *cr, struct buf *err)
{
	struct audit_pick *picks = xcalloc(l->n + 1, sizeof(*picks));
	const struct checkpoint *top = NULL;
	size_t i;
	int ret;

	memset(cr, 0, sizeof(*cr));
	cr->signed_seq = -1;
	cr->bad_seq = -1;
	for (i = 0; i < l->n; i++)
		picks[i].seq = l->v[i].seq;
	qsort(picks, l->n, sizeof(*picks), by_seq);
	if ((ret = audit_verify_picks(events_path, picks, l->n, res, err)) < 0)
		goto out;
	if (res->status == AUDIT_TAMPERED) /* the chain's verdict comes first */
		goto out;
	if (!l->n) {
		cr->reason = "no checkpoint";
		buf_adds(&cr->detail, "no signed checkpoint: nothing shows that the "
				      "log was not cut short and rewritten");
		goto out;
	}
	for (i = 0; i < l->n; i++) {
		if (check_one(&l->v[i], k, res, picks, l->n, cr) < 0) {
			cr->bad_index = (long)i + 1;
			goto out;
		}
		cr->checked++;
		if (!top || l->v[i].seq > top->seq ||
		    (l->v[i].seq == top->seq && l->v[i].final))
			top = &l->v[i];
	}
	cr->signed_seq = top->seq;
	cr->final = top->final;
	if (res->last_seq > top->seq && top->final) {
		cr->reason = "records after the final checkpoint";
		cr->bad_seq = top->seq + 1;
		buf_addf(&cr->detail,
			 "records after the final checkpoint: the log "
			 "was closed at seq %ld but goes on to seq %ld",
			 top->seq, res->last_seq);
	} else if (res->last_seq - top->seq > 2 * CHECKPOINT_EVERY) {
		/* the writer signs at least every CHECKPOINT_EVERY records (plus
		 * one group): a longer unsigned tail lost its checkpoints */
		cr->reason = "checkpoints missing";
		cr->bad_seq = top->seq + 1;
		buf_addf(&cr->detail,
			 "checkpoints missing: the last one is at seq "
			 "%ld but the log goes on to seq %ld (a live run signs at "
			 "least every %d records)",
			 top->seq, res->last_seq, CHECKPOINT_EVERY);
	} else {
		cr->unsigned_records = res->last_seq - top->seq;
	}
out:
	free(picks);
	return ret;
}

void checkpoint_result_release(struct checkpoint_result *cr)
{
	buf_release(&cr->detail);
}
