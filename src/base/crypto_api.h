/*
 * crypto_api: OpenSSL's libcrypto, loaded when loopgate first hashes or
 * signs.
 *
 * loopgate is not linked against libcrypto.  The processes it starts from
 * its own binary (the jail's spawner, a long-lived child's warden, the
 * network relay) never hash or sign, and linking libcrypto makes each of
 * them relocate about 400 kB of its tables at exec: with a thousand runs at
 * once that is the largest part of what those processes cost.  loopgate's
 * own commands load it first thing (cli/main.c), so a missing libcrypto
 * is said once, before anything is done.
 *
 *   if (crypto_api_load(err) < 0)     once per process; thread-safe
 *       return ...;                   err names the library and the fix
 *   CR.EVP_Digest(data, len, md, &n, CR.EVP_sha256(), NULL);
 *
 * Each member is the libcrypto function of the same name (its prototype is
 * the header's), from the libcrypto.so.3 the dynamic loader finds.  Nothing
 * in CR may be called before crypto_api_load returned 0.
 */
#ifndef LOOPGATE_CRYPTO_API_H
#define LOOPGATE_CRYPTO_API_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <stddef.h>
#include "base/buf.h"

/* a declarator: name cannot be parenthesised */
#define CRYPTO_API_FN(name)                                                              \
	__typeof__(name) *name; /* NOLINT(bugprone-macro-parentheses) */
struct crypto_api {
	CRYPTO_API_FN(EVP_Digest)
	CRYPTO_API_FN(EVP_sha256)
	CRYPTO_API_FN(EVP_get_digestbyname)
	CRYPTO_API_FN(EVP_MD_CTX_new)
	CRYPTO_API_FN(EVP_MD_CTX_free)
	CRYPTO_API_FN(EVP_DigestInit_ex)
	CRYPTO_API_FN(EVP_DigestUpdate)
	CRYPTO_API_FN(EVP_DigestFinal_ex)
	CRYPTO_API_FN(EVP_DecodeBlock)
	CRYPTO_API_FN(OPENSSL_cleanse)
	CRYPTO_API_FN(EVP_PKEY_get_raw_public_key)
	CRYPTO_API_FN(EVP_PKEY_new_raw_public_key)
	CRYPTO_API_FN(EVP_PKEY_new_raw_private_key)
	CRYPTO_API_FN(EVP_PKEY_get_id)
	CRYPTO_API_FN(EVP_PKEY_free)
	CRYPTO_API_FN(EVP_PKEY_CTX_new_id)
	CRYPTO_API_FN(EVP_PKEY_CTX_free)
	CRYPTO_API_FN(EVP_PKEY_keygen_init)
	CRYPTO_API_FN(EVP_PKEY_keygen)
	CRYPTO_API_FN(PEM_read_PrivateKey)
	CRYPTO_API_FN(PEM_write_PrivateKey)
	CRYPTO_API_FN(EVP_DigestSignInit)
	CRYPTO_API_FN(EVP_DigestSign)
	CRYPTO_API_FN(EVP_DigestVerifyInit)
	CRYPTO_API_FN(EVP_DigestVerify)
	CRYPTO_API_FN(OPENSSL_init_crypto)
	CRYPTO_API_FN(ERR_error_string_n)
};
#undef CRYPTO_API_FN

extern struct crypto_api CR;

/* dlopen()s libcrypto, once per process.  Returns 0, or -ELIBACC with err
 * (may be NULL) saying what is missing: the machine's problem, not the
 * configuration's (exit 3). */
int crypto_api_load(struct buf *err);

/*
 * The text of OpenSSL's error code e (ERR_get_error, SSL_get_error's
 * queue...) into buf of size n, as ERR_error_string_n writes it:
 * "error:0A000086:SSL routines::certificate verify failed".  Returns buf.
 *
 * crypto_api_load tells libcrypto not to load its error strings (~0.4 MB
 * every process would pay for an error it never prints); this loads them
 * at the first error formatted, libcrypto's and, when libssl.so.3 is
 * loaded, libssl's.  So format OpenSSL errors only through this function:
 * ERR_error_string_n, ERR_print_errors and the like would give numbers
 * ("lib(20)::reason(134)").  Thread-safe; crypto_api_load must have
 * returned 0.
 */
char *crypto_error_string(unsigned long e, char *buf, size_t n);

#endif
