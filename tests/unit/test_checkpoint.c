/*
 * Unit tests for the signed checkpoints (src/checkpoint.c), the writer's
 * side of them and its group commit (src/events.c), and redaction
 * (src/redact.c).  Each case writes a real signed log in its own
 * subdirectory of a temporary directory, changes it as an attacker would,
 * and checks what checkpoint_verify says.
 */
#include "unit.h"
#include "record/rundir.h"
#include "record/audit.h"
#include "record/checkpoint.h"
#include "record/events.h"
#include "record/redact.h"
#include "base/fileio.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/loopgate-cp-XXXXXX";
static struct checkpoint_key key = CHECKPOINT_KEY_INIT;

/* ---- helpers ------------------------------------------------------------ */

struct signed_log {
	char *dir, *events, *checkpoints;
};

/* A log of n records after the header in dir/name, checkpoints every 4. */
static struct signed_log make_log(const char *name, int n)
{
	struct signed_log s;
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	int i;

	s.dir = xasprintf("%s/%s", dir, name);
	s.events = xasprintf("%s/events.jsonl", s.dir);
	s.checkpoints = xasprintf("%s/" CHECKPOINT_FILE, s.dir);
	CHECK_INT(mkdir(s.dir, 0700), 0);
	events_set_signer(&ev, &key, 4);
	CHECK_INT(events_open(&ev, s.events, "run-cp", &err), 0);
	for (i = 1; i <= n; i++)
		CHECK_INT(events_append(&ev, "step", json_pack("{s:i}", "i", i)), 0);
	events_close(&ev);
	buf_release(&err);
	return s;
}

static void drop_log(struct signed_log *s)
{
	unlink(s->events);
	unlink(s->checkpoints);
	rmdir(s->dir);
	free(s->dir);
	free(s->events);
	free(s->checkpoints);
}

/* Verifies s with its checkpoints file; cr must be released. */
static void verify(const struct signed_log *s, const struct checkpoint_key *k,
		   struct audit_result *r, struct checkpoint_result *cr)
{
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct buf err = BUF_INIT;

	CHECK_INT(checkpoint_load(s->checkpoints, &l, &err), 0);
	CHECK_INT(checkpoint_verify(&l, k, s->events, r, cr, &err), 0);
	checkpoint_list_release(&l);
	buf_release(&err);
}

/* Keeps the first n lines of the file at path. */
static void keep_lines(const char *path, int n)
{
	struct buf b = BUF_INIT;
	char *p;
	FILE *f;

	CHECK_INT(buf_read_file(&b, path), 0);
	for (p = b.s; n > 0 && (p = strchr(p, '\n')); n--)
		p++;
	if (p)
		buf_setlen(&b, (size_t)(p - b.s));
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		fwrite(b.s, 1, b.len, f);
		fclose(f);
	}
	buf_release(&b);
}

/* ---- the key ------------------------------------------------------------ */

TEST(key_is_created_private_and_reloads_the_same)
{
	struct checkpoint_key again = CHECKPOINT_KEY_INIT;
	struct buf err = BUF_INIT;
	char *kdir = xasprintf("%s/conf/loopgate", dir);
	char *kp = xasprintf("%s/audit-key.pem", kdir);
	struct stat st;

	CHECK_INT(checkpoint_key_load(&key, kp, 1, &err), 0);
	CHECK_INT(strlen(key.key_id), 64);
	CHECK_INT(stat(kdir, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(stat(kp, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(checkpoint_key_load(&again, kp, 0, &err), 0);
	CHECK_STR(again.key_id, key.key_id);
	checkpoint_key_release(&again);
	buf_release(&err);
	free(kdir);
	free(kp);
}

/* The key loaded by loopgate's own PKCS#8 decoding (the file as loopgate
 * and `openssl genpkey` write it) and by OpenSSL's PEM reader (the same
 * key laid out otherwise: CRLF lines) is one key: same id, same signature. */
TEST(key_fast_load_matches_openssl)
{
	struct checkpoint_key fast = CHECKPOINT_KEY_INIT, slow = CHECKPOINT_KEY_INIT;
	struct buf err = BUF_INIT, pem = BUF_INIT, crlf = BUF_INIT;
	char *kp = xasprintf("%s/conf/loopgate/audit-key.pem", dir);
	char *kp2 = xasprintf("%s/crlf.pem", dir);
	char line[128];
	FILE *f = fopen(kp, "r");
	EVP_PKEY *ref = NULL;
	unsigned char a[32], b[32];
	size_t na = sizeof(a), nb = sizeof(b);

	CHECK(f != NULL);
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		buf_addf(&crlf, "%s\r\n", line);
	}
	if (f) {
		rewind(f);
		ref = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	CHECK_INT(fileio_write_atomic(kp2, crlf.s, crlf.len, &err), 0);
	chmod(kp2, 0600);
	CHECK_INT(checkpoint_key_load(&fast, kp, 0, &err), 0);
	CHECK_INT(checkpoint_key_load(&slow, kp2, 0, &err), 0);
	CHECK_STR(fast.key_id, slow.key_id);
	CHECK(ref != NULL);
	CHECK_INT(EVP_PKEY_get_raw_private_key(fast.pkey, a, &na), 1);
	if (ref)
		CHECK_INT(EVP_PKEY_get_raw_private_key(ref, b, &nb), 1);
	CHECK(na == 32 && nb == 32 && !memcmp(a, b, 32));
	EVP_PKEY_free(ref);
	checkpoint_key_release(&fast);
	checkpoint_key_release(&slow);
	buf_release(&err);
	buf_release(&pem);
	buf_release(&crlf);
	free(kp);
	free(kp2);
}

TEST(missing_or_bad_key_is_an_error)
{
	struct checkpoint_key k = CHECKPOINT_KEY_INIT;
	struct buf err = BUF_INIT;
	char *kp = xasprintf("%s/none.pem", dir);
	FILE *f;

	CHECK_INT(checkpoint_key_load(&k, kp, 0, &err), -ENOENT);
	CHECK_CONTAINS(err.s, "cannot read the audit signing key");
	f = fopen(kp, "w");
	if (f) {
		fputs("not a key\n", f);
		fclose(f);
	}
	chmod(kp, 0644);
	buf_reset(&err);
	CHECK_INT(checkpoint_key_load(&k, kp, 1, &err), -EPERM);
	CHECK_CONTAINS(err.s, "can be read by others (mode 0644)");
	chmod(kp, 0600);
	buf_reset(&err);
	CHECK_INT(checkpoint_key_load(&k, kp, 1, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "not an Ed25519 private key");
	unlink(kp);
	buf_release(&err);
	free(kp);
}

TEST(key_path_env_config_default_and_inside_the_repo)
{
	struct buf err = BUF_INIT;
	char *repo = xasprintf("%s/repo", dir), *in = xasprintf("%s/repo/k.pem", dir);
	char *path = NULL;

	CHECK_INT(mkdir(repo, 0755), 0);
	unsetenv(CHECKPOINT_KEY_ENV);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	CHECK_INT(checkpoint_key_path(NULL, repo, &path, &err), 0);
	CHECK_STR(path, "/xdg/loopgate/audit-key.pem");
	free(path);
	CHECK_INT(checkpoint_key_path("/etc/k.pem", repo, &path, &err), 0);
	CHECK_STR(path, "/etc/k.pem");
	free(path);
	setenv(CHECKPOINT_KEY_ENV, "/env/k.pem", 1);
	CHECK_INT(checkpoint_key_path("/etc/k.pem", repo, &path, &err), 0);
	CHECK_STR(path, "/env/k.pem");
	free(path);
	unsetenv(CHECKPOINT_KEY_ENV);
	CHECK_INT(checkpoint_key_path(in, repo, &path, &err), -EINVAL);
	CHECK_CONTAINS(err.s, "is inside the repository");
	unsetenv("XDG_CONFIG_HOME");
	rmdir(repo);
	buf_release(&err);
	free(repo);
	free(in);
}

/* ---- writing and verifying ---------------------------------------------- */

TEST(signed_log_verifies_header_every_n_and_final)
{
	struct signed_log s = make_log("ok", 10);
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct checkpoint_result cr;
	struct audit_result r;
	struct buf err = BUF_INIT;

	CHECK_INT(checkpoint_load(s.checkpoints, &l, &err), 0);
	CHECK_INT(l.n, 4); /* seq 0, 4, 8, final 10 */
	if (l.n == 4) {
		CHECK_INT(l.v[0].seq, 0);
		CHECK_INT(l.v[1].seq, 4);
		CHECK_INT(l.v[2].seq, 8);
		CHECK_INT(l.v[3].seq, 10);
		CHECK(l.v[3].final && !l.v[2].final);
	}
	/* the run store's copy is a list too: verify one built in memory */
	CHECK_INT(checkpoint_verify(&l, &key, s.events, &r, &cr, &err), 0);
	CHECK(cr.reason == NULL);
	CHECK_INT(cr.checked, 4);
	CHECK_INT(cr.signed_seq, 10);
	CHECK(cr.final);
	checkpoint_result_release(&cr);
	checkpoint_list_release(&l);
	buf_release(&err);
	drop_log(&s);
}

TEST(truncated_log_names_the_first_missing_record)
{
	struct signed_log s = make_log("trunc", 10);
	struct checkpoint_result cr;
	struct audit_result r;

	keep_lines(s.events, 7); /* seq 0..6 */
	verify(&s, &key, &r, &cr);
	CHECK_INT(r.status, AUDIT_INTACT);
	CHECK_STR(cr.reason, "truncated");
	CHECK_CONTAINS(cr.detail.s,
		       "truncated: checkpoint at seq 8 but the log ends at 6");
	CHECK_INT(cr.bad_seq, 7);
	checkpoint_result_release(&cr);
	drop_log(&s);
}

TEST(records_after_the_final_checkpoint)
{
	struct signed_log s = make_log("after", 3);
	struct checkpoint_result cr;
	struct audit_result r;
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;

	/* an attacker appends with the chain's own writer but no key */
	CHECK_INT(events_reopen(&ev, s.events, &err), 0);
	CHECK_INT(events_append(&ev, "step", json_pack("{s:s}", "forged", "yes")), 0);
	events_close(&ev);
	verify(&s, &key, &r, &cr);
	CHECK_STR(cr.reason, "records after the final checkpoint");
	CHECK_INT(cr.bad_seq, 4);
	checkpoint_result_release(&cr);
	buf_release(&err);
	drop_log(&s);
}

TEST(bad_signature_and_foreign_key)
{
	struct signed_log s = make_log("sig", 5);
	struct checkpoint_key other = CHECKPOINT_KEY_INIT;
	struct checkpoint_result cr;
	struct audit_result r;
	struct buf b = BUF_INIT, err = BUF_INIT;
	char *kp = xasprintf("%s/other.pem", dir), *p;
	FILE *f;

	verify(&s, &key, &r, &cr);
	CHECK(cr.reason == NULL);
	checkpoint_result_release(&cr);
	/* another key: its key_id does not match */
	CHECK_INT(checkpoint_key_load(&other, kp, 1, &err), 0);
	verify(&s, &other, &r, &cr);
	CHECK_STR(cr.reason, "signed by another key");
	CHECK_INT(cr.bad_seq, 0);
	checkpoint_result_release(&cr);
	/* one hex digit of the second signature changed */
	CHECK_INT(buf_read_file(&b, s.checkpoints), 0);
	p = strstr(strchr(b.s, '\n'), "\"sig\":\"") + 7;
	*p = *p == '0' ? '1' : '0';
	f = fopen(s.checkpoints, "wb");
	if (f) {
		fwrite(b.s, 1, b.len, f);
		fclose(f);
	}
	verify(&s, &key, &r, &cr);
	CHECK_STR(cr.reason, "bad signature");
	CHECK_INT(cr.bad_seq, 4);
	checkpoint_result_release(&cr);
	checkpoint_key_release(&other);
	unlink(kp);
	free(kp);
	buf_release(&b);
	buf_release(&err);
	drop_log(&s);
}

/* Each checkpoint carries its public key: a key made from it alone checks
 * the log (a pod's log, auditkey_vouched), a malformed one is refused. */
TEST(pub_in_checkpoints_makes_a_verifying_key)
{
	struct signed_log s = make_log("pub", 5);
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct checkpoint_key pk = CHECKPOINT_KEY_INIT, bad = CHECKPOINT_KEY_INIT;
	struct checkpoint_result cr;
	struct audit_result r;
	struct buf err = BUF_INIT;

	CHECK_INT(checkpoint_load(s.checkpoints, &l, &err), 0);
	CHECK(l.n > 0);
	CHECK_STR(l.n ? l.v[0].pub : NULL, key.pub);
	CHECK_INT(checkpoint_key_from_pub(&pk, l.n ? l.v[0].pub : ""), 0);
	CHECK_STR(pk.key_id, key.key_id);
	CHECK_INT(pk.has_private, 0);
	verify(&s, &pk, &r, &cr);
	CHECK(cr.reason == NULL);
	checkpoint_result_release(&cr);
	CHECK_INT(checkpoint_key_from_pub(&bad, "abc"), -EINVAL);
	CHECK_INT(checkpoint_key_from_pub(&bad, NULL), -EINVAL);
	checkpoint_key_release(&bad);
	checkpoint_key_release(&pk);
	checkpoint_list_release(&l);
	buf_release(&err);
	drop_log(&s);
}

TEST(no_checkpoint_and_a_killed_run)
{
	struct signed_log s = make_log("none", 6);
	struct checkpoint_result cr;
	struct audit_result r;

	/* a run killed after seq 6: the final checkpoint never came */
	keep_lines(s.checkpoints, 2); /* seq 0 and 4 */
	verify(&s, &key, &r, &cr);
	CHECK(cr.reason == NULL);
	CHECK_INT(cr.signed_seq, 4);
	CHECK_INT(cr.unsigned_records, 2);
	CHECK(!cr.final);
	checkpoint_result_release(&cr);
	keep_lines(s.checkpoints, 0);
	verify(&s, &key, &r, &cr);
	CHECK_STR(cr.reason, "no checkpoint");
	checkpoint_result_release(&cr);
	drop_log(&s);
}

static void count_checkpoint(void *ctx, const struct checkpoint *cp)
{
	struct checkpoint_list *l = ctx;

	checkpoint_list_add(l, cp);
}

/* The run store's copy: taken through the observer, checked alike. */
TEST(observed_checkpoints_are_a_list_that_verifies)
{
	struct checkpoint_list l = CHECKPOINT_LIST_INIT;
	struct checkpoint_result cr;
	struct audit_result r;
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	char *sub = xasprintf("%s/observed", dir), *p = xasprintf("%s/events.jsonl", sub);
	char *cp = xasprintf("%s/" CHECKPOINT_FILE, sub);
	int i;

	CHECK_INT(mkdir(sub, 0700), 0);
	CHECK_INT(events_observe(&ev,
				 &(struct events_observer){.checkpoint = count_checkpoint,
							   .ctx = &l}),
		  0);
	events_set_signer(&ev, &key, 3);
	CHECK_INT(events_open(&ev, p, "run-o", &err), 0);
	for (i = 1; i <= 7; i++)
		CHECK_INT(events_append(&ev, "step", json_object()), 0);
	events_close(&ev);
	CHECK_INT(l.n, 4); /* 0, 3, 6, final 7 */
	unlink(cp);	   /* the file is gone; the copy remains */
	CHECK_INT(checkpoint_verify(&l, &key, p, &r, &cr, &err), 0);
	CHECK(cr.reason == NULL);
	CHECK_INT(cr.signed_seq, 7);
	checkpoint_result_release(&cr);
	checkpoint_list_release(&l);
	unlink(p);
	rmdir(sub);
	buf_release(&err);
	free(sub);
	free(p);
	free(cp);
}

/* ---- group commit and redaction ----------------------------------------- */

TEST(group_commit_syncs_once_at_the_end)
{
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT;
	char *p = xasprintf("%s/group.jsonl", dir);

	CHECK_INT(events_open(&ev, p, "run-g", &err), 0);
	CHECK_INT(ev.unsynced, 0);
	events_group_begin(&ev);
	events_group_begin(&ev); /* nested: only the outer end syncs */
	CHECK_INT(events_append(&ev, "a", json_object()), 0);
	CHECK_INT(events_append(&ev, "b", json_object()), 0);
	CHECK_INT(ev.unsynced, 2);
	CHECK_INT(events_group_end(&ev), 0);
	CHECK_INT(ev.unsynced, 2);
	CHECK_INT(events_group_end(&ev), 0);
	CHECK_INT(ev.unsynced, 0);
	CHECK_INT(events_append(&ev, "c", json_object()), 0);
	CHECK_INT(ev.unsynced, 0); /* outside a group: synced at once */
	events_close(&ev);
	unlink(p);
	buf_release(&err);
	free(p);
}

TEST(secrets_are_redacted_before_hashing)
{
	static const char secret[] = "sk-test-0123456789abcdef";
	struct events ev = EVENTS_INIT;
	struct buf err = BUF_INIT, b = BUF_INIT;
	struct audit_result r;
	char *p = xasprintf("%s/redact.jsonl", dir);
	char *msg = xasprintf("401: bad key %s (Bearer %s)", secret, secret);

	CHECK_INT(redact_add("short"), 0); /* too short to be a key */
	CHECK_INT(redact_add(secret), 1);
	CHECK_INT(events_open(&ev, p, "run-r", &err), 0);
	CHECK_INT(events_append(&ev, "model_attempt",
				json_pack("{s:s,s:[s],s:{s:s}}", "error", msg, "list",
					  secret, "obj", secret, "x")),
		  0);
	events_close(&ev);
	CHECK_INT(buf_read_file(&b, p), 0);
	CHECK(strstr(b.s, "sk-test") == NULL);
	CHECK_CONTAINS(b.s, "401: bad key [REDACTED] (Bearer [REDACTED])");
	CHECK_CONTAINS(b.s, "\"list\":[\"[REDACTED]\"]");
	CHECK_CONTAINS(b.s, "{\"[REDACTED]\":\"x\"}");
	CHECK_INT(audit_verify(p, &r, &err), 0);
	CHECK_INT(r.status, AUDIT_INTACT);
	redact_reset();
	unlink(p);
	buf_release(&b);
	buf_release(&err);
	free(msg);
	free(p);
}

static void remove_dir(void)
{
	char *c[] = {"conf/loopgate/audit-key.pem", "conf/loopgate", "conf", "crlf.pem",
		     NULL};
	char **p;

	for (p = c; *p; p++) {
		char *path = xasprintf("%s/%s", dir, *p);
		if (unlink(path) < 0)
			rmdir(path);
		free(path);
	}
	rmdir(dir);
}

/* rundir_repo_of: the repository in a run directory's spelling, or NULL. */
TEST(rundir_repo_of_table)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{"/r/.loopgate/runs/20261205-1", "/r"},
		{"/a/b/.loopgate/runs/x/", "/a/b"},
		{"/.loopgate/runs/x", NULL}, /* the repository would be "" */
		{"r/.loopgate/runs/x", NULL},
		{"/r/.loopgate/runs/", NULL},
		{"/r/.loopgate/runs/x/tree", NULL},
		{"/r/.loopgate/runs/..", NULL},
		{"/r/loopgate/runs/x", NULL},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		char *got = rundir_repo_of(t[i].in);
		if (t[i].want)
			CHECK_STR(got, t[i].want);
		else
			CHECK(got == NULL);
		free(got);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(key_is_created_private_and_reloads_the_same);
	RUN(key_fast_load_matches_openssl);
	RUN(missing_or_bad_key_is_an_error);
	RUN(key_path_env_config_default_and_inside_the_repo);
	RUN(signed_log_verifies_header_every_n_and_final);
	RUN(truncated_log_names_the_first_missing_record);
	RUN(records_after_the_final_checkpoint);
	RUN(bad_signature_and_foreign_key);
	RUN(pub_in_checkpoints_makes_a_verifying_key);
	RUN(no_checkpoint_and_a_killed_run);
	RUN(observed_checkpoints_are_a_list_that_verifies);
	RUN(group_commit_syncs_once_at_the_end);
	RUN(secrets_are_redacted_before_hashing);
	checkpoint_key_release(&key);
	remove_dir();
	RUN(rundir_repo_of_table);
	return unit_done();
}
