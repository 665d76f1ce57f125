/*
 * ssl_api: OpenSSL's libssl, loaded when the first https URL is used, and
 * the one client SSL_CTX of the process.
 *
 * loopgate is not linked against libssl (nor libcrypto, base/crypto_api.h):
 * only a model run over https needs it.  The context verifies the peer
 * against the system's CA certificates (SSL_CERT_FILE and SSL_CERT_DIR
 * override them, as for every OpenSSL program; read as actor/ssl_cas.h
 * says), speaks TLS 1.2 or later and offers ALPN "http/1.1".
 *
 *   SSL_CTX *ctx = ssl_api_ctx(err);  once per process; thread-safe
 *   if (!ctx) ...                     err says why (libssl missing)
 *   SSL *s = SL.SSL_new(ctx); ...
 *
 * Each member of SL is the libssl (or libcrypto) function of the same name,
 * from the libssl.so.3 the dynamic loader finds, or LOOPGATE_LIBSSL.
 * Nothing in SL may be called before ssl_api_ctx returned a context.
 */
#ifndef LOOPGATE_SSL_API_H
#define LOOPGATE_SSL_API_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "base/buf.h"

/* a declarator: name cannot be parenthesised */
#define SSL_API_FN(name) __typeof__(name) *name; /* NOLINT(bugprone-macro-parentheses) */
struct ssl_api {
	SSL_API_FN(OPENSSL_init_ssl)
	SSL_API_FN(TLS_client_method)
	SSL_API_FN(SSL_CTX_new)
	SSL_API_FN(SSL_CTX_free)
	SSL_API_FN(SSL_CTX_set_verify)
	SSL_API_FN(SSL_CTX_ctrl)
	SSL_API_FN(SSL_CTX_set_options)
	SSL_API_FN(SSL_CTX_set_alpn_protos)
	SSL_API_FN(SSL_new)
	SSL_API_FN(SSL_free)
	SSL_API_FN(SSL_set_fd)
	SSL_API_FN(SSL_set1_host)
	SSL_API_FN(SSL_ctrl)
	SSL_API_FN(SSL_get0_param)
	SSL_API_FN(SSL_connect)
	SSL_API_FN(SSL_read)
	SSL_API_FN(SSL_write)
	SSL_API_FN(SSL_get_error)
	SSL_API_FN(SSL_shutdown)
	SSL_API_FN(SSL_get_verify_result)
	SSL_API_FN(X509_VERIFY_PARAM_set1_ip_asc)
	SSL_API_FN(X509_verify_cert_error_string)
	SSL_API_FN(ERR_get_error)
	SSL_API_FN(ERR_clear_error)
	int (*ERR_load_SSL_strings)(void); /* deprecated: its prototype warns */
	SSL_API_FN(SSL_CTX_get_cert_store)
	SSL_API_FN(SSL_CTX_set_cert_verify_callback)
	SSL_API_FN(X509_STORE_add_lookup)
	SSL_API_FN(X509_LOOKUP_file)
	SSL_API_FN(X509_LOOKUP_hash_dir)
	SSL_API_FN(X509_LOOKUP_ctrl)
	SSL_API_FN(X509_STORE_CTX_new)
	SSL_API_FN(X509_STORE_CTX_free)
	SSL_API_FN(X509_STORE_CTX_init)
	SSL_API_FN(X509_STORE_CTX_get0_store)
	SSL_API_FN(X509_STORE_CTX_get0_cert)
	SSL_API_FN(X509_STORE_CTX_get0_untrusted)
	SSL_API_FN(X509_STORE_CTX_get0_param)
	SSL_API_FN(X509_VERIFY_PARAM_set1)
	SSL_API_FN(X509_verify_cert)
	SSL_API_FN(ERR_set_mark)
	SSL_API_FN(ERR_pop_to_mark)
};
#undef SSL_API_FN

extern struct ssl_api SL;

/* Loads libssl and makes the context, once per process.  The context, or
 * NULL with err (may be NULL) saying why. */
SSL_CTX *ssl_api_ctx(struct buf *err);

/* crypto_error_string (base/crypto_api.h) with libssl's reasons: the
 * context is made without libssl's error strings (~15 KB of a run that
 * never prints one), loaded here at the first error named.  Format
 * OpenSSL's errors on the TLS path only through this. */
char *ssl_api_error_string(unsigned long e, char *buf, size_t n);

#endif
