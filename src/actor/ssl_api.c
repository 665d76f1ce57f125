/*
 * ssl_api: libssl's functions looked up once with dlopen/dlsym, and the
 * process's client context (see ssl_api.h).
 */
#include "actor/ssl_api.h"
#include "actor/ssl_cas.h"
#include "base/crypto_api.h"
#include "base/dlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct ssl_api SL;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_once_t strings_once = PTHREAD_ONCE_INIT;
static SSL_CTX *ctx;
static char load_why[512];

/* Each member of SL and its symbol, in one table; dlsym on libssl's handle
 * finds libcrypto's functions too (a dependency of it). */
#define SYM(name)                                                                        \
	{                                                                                \
		(void **)&SL.name, #name                                                 \
	}
static const struct dlib_sym syms[] = {
	SYM(OPENSSL_init_ssl),
	SYM(TLS_client_method),
	SYM(SSL_CTX_new),
	SYM(SSL_CTX_free),
	SYM(SSL_CTX_set_verify),
	SYM(SSL_CTX_ctrl),
	SYM(SSL_CTX_set_options),
	SYM(SSL_CTX_set_alpn_protos),
	SYM(SSL_new),
	SYM(SSL_free),
	SYM(SSL_set_fd),
	SYM(SSL_set1_host),
	SYM(SSL_ctrl),
	SYM(SSL_get0_param),
	SYM(SSL_connect),
	SYM(SSL_read),
	SYM(SSL_write),
	SYM(SSL_get_error),
	SYM(SSL_shutdown),
	SYM(SSL_get_verify_result),
	SYM(X509_VERIFY_PARAM_set1_ip_asc),
	SYM(X509_verify_cert_error_string),
	SYM(ERR_get_error),
	SYM(ERR_clear_error),
	SYM(ERR_load_SSL_strings),
	SYM(SSL_CTX_get_cert_store),
	SYM(SSL_CTX_set_cert_verify_callback),
	SYM(X509_STORE_add_lookup),
	SYM(X509_LOOKUP_file),
	SYM(X509_LOOKUP_hash_dir),
	SYM(X509_LOOKUP_ctrl),
	SYM(X509_STORE_CTX_new),
	SYM(X509_STORE_CTX_free),
	SYM(X509_STORE_CTX_init),
	SYM(X509_STORE_CTX_get0_store),
	SYM(X509_STORE_CTX_get0_cert),
	SYM(X509_STORE_CTX_get0_untrusted),
	SYM(X509_STORE_CTX_get0_param),
	SYM(X509_VERIFY_PARAM_set1),
	SYM(X509_verify_cert),
	SYM(ERR_set_mark),
	SYM(ERR_pop_to_mark),
};
#undef SYM

static void load(void)
{
	static const char *const sonames[] = {"libssl.so.3"};
	static const unsigned char alpn[] = "\x08http/1.1";
	const char *why = NULL;
	SSL_CTX *c;
	int r;

	/* libcrypto first, initialised loopgate's way (its error strings
	 * loaded only when an error is named: crypto_error_string) */
	if (crypto_api_load(NULL) < 0) {
		snprintf(load_why, sizeof(load_why),
			 "OpenSSL's libcrypto (libcrypto.so.3) could not be loaded");
		return;
	}
	r = dlib_load(getenv("LOOPGATE_LIBSSL"), sonames, 1, syms,
		      sizeof(syms) / sizeof(*syms), &why);

	if (r == DLIB_OWN || r == DLIB_NONE) {
		snprintf(load_why, sizeof(load_why),
			 "OpenSSL's libssl (libssl.so.3) could not be loaded: %s", why);
		return;
	}
	if (r == DLIB_SYMBOL) {
		snprintf(load_why, sizeof(load_why),
			 "the libssl found is not OpenSSL 3: it lacks %s", why);
		return;
	}
	/* libssl's error strings are loaded when an error is named
	 * (ssl_api_error_string), as libcrypto's are */
	SL.OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS, NULL);
	if (!(c = SL.SSL_CTX_new(SL.TLS_client_method()))) {
		snprintf(load_why, sizeof(load_why), "could not make a TLS context");
		return;
	}
	SL.SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	/* the system's CAs, or SSL_CERT_FILE / SSL_CERT_DIR: the directory
	 * first, the bundle when needed */
	if (ssl_cas_use(c) < 0) {
		SL.SSL_CTX_free(c);
		snprintf(load_why, sizeof(load_why), "could not set up the TLS CAs");
		return;
	}
	SL.SSL_CTX_ctrl(c, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
	/* a close-delimited body ends at the TCP close; a body with a length
	 * or chunks is checked for its end by the HTTP client */
	SL.SSL_CTX_set_options(c, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SL.SSL_CTX_set_alpn_protos(c, alpn, sizeof(alpn) - 1);
	/* an idle connection (the pool) holds no record buffers (2 x ~17 KB) */
	SL.SSL_CTX_ctrl(c, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, NULL);
	ctx = c;
}

SSL_CTX *ssl_api_ctx(struct buf *err)
{
	pthread_once(&load_once, load);
	if (!ctx && err)
		err_set(err, -ELIBACC, "%s", load_why);
	return ctx;
}

static void load_strings(void)
{
	SL.ERR_load_SSL_strings();
}

char *ssl_api_error_string(unsigned long e, char *buf, size_t n)
{
	pthread_once(&strings_once, load_strings);
	return crypto_error_string(e, buf, n);
}
