/*
 * ssl_cas: the hashed CA directory first, the CA bundle file when the
 * directory cannot vouch (see ssl_cas.h).
 */
#include "actor/ssl_cas.h"
#include "actor/ssl_api.h"

#include <pthread.h>

/* the bundle's lookup: added empty, filled once by bundle_read */
static X509_LOOKUP *bundle;
static pthread_once_t bundle_once = PTHREAD_ONCE_INIT;
static int bundle_done; /* __atomic */

static void bundle_read(void)
{
	/* what SSL_CTX_set_default_verify_paths loads: SSL_CERT_FILE or the
	 * default file; a missing or unreadable one adds nothing */
	SL.ERR_set_mark();
	SL.X509_LOOKUP_ctrl(bundle, X509_L_FILE_LOAD, NULL, X509_FILETYPE_DEFAULT, NULL);
	SL.ERR_pop_to_mark();
	__atomic_store_n(&bundle_done, 1, __ATOMIC_RELEASE);
}

/* 1 when real's chain verifies against the store as it is now (the
 * directory, and whatever the bundle added): the same certificate, chain
 * and parameters (the host name, the purpose, the security level) in a
 * context of its own, so that real is still unused. */
static int verifies_now(X509_STORE_CTX *real)
{
	X509_STORE_CTX *t = SL.X509_STORE_CTX_new();
	int ok = 0;

	SL.ERR_set_mark();
	if (t &&
	    SL.X509_STORE_CTX_init(t, SL.X509_STORE_CTX_get0_store(real),
				   SL.X509_STORE_CTX_get0_cert(real),
				   SL.X509_STORE_CTX_get0_untrusted(real)) == 1 &&
	    SL.X509_VERIFY_PARAM_set1(SL.X509_STORE_CTX_get0_param(t),
				      SL.X509_STORE_CTX_get0_param(real)) == 1)
		ok = SL.X509_verify_cert(t) == 1;
	SL.X509_STORE_CTX_free(t);
	SL.ERR_pop_to_mark();
	return ok;
}

/* libssl's chain verification (SSL_CTX_set_cert_verify_callback): the
 * bundle read first when the directory alone does not vouch, then
 * OpenSSL's own verification of the handshake's context, whose result is
 * the handshake's (an internal error, < 0, a failure, as libssl counts it
 * without a callback). */
static int verify(X509_STORE_CTX *real, void *arg)
{
	(void)arg;
	if (!__atomic_load_n(&bundle_done, __ATOMIC_ACQUIRE) && !verifies_now(real))
		pthread_once(&bundle_once, bundle_read);
	return SL.X509_verify_cert(real) == 1;
}

int ssl_cas_use(SSL_CTX *c)
{
	X509_STORE *store = SL.SSL_CTX_get_cert_store(c);
	X509_LOOKUP *dir;

	/* the lookups SSL_CTX_set_default_verify_paths adds, in its order */
	if (!store ||
	    !(bundle = SL.X509_STORE_add_lookup(store, SL.X509_LOOKUP_file())) ||
	    !(dir = SL.X509_STORE_add_lookup(store, SL.X509_LOOKUP_hash_dir())))
		return -1;
	/* SSL_CERT_DIR (a list, as OpenSSL reads it) or the default: nothing
	 * is read until a chain asks for a subject */
	SL.X509_LOOKUP_ctrl(dir, X509_L_ADD_DIR, NULL, X509_FILETYPE_DEFAULT, NULL);
	SL.ERR_clear_error();
	SL.SSL_CTX_set_cert_verify_callback(c, verify, NULL);
	return 0;
}
