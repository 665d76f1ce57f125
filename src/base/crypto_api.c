/*
 * crypto_api: libcrypto's functions looked up once with dlopen/dlsym (see
 * crypto_api.h for why loopgate is not linked against it).
 */
#include "base/crypto_api.h"
#include "base/dlib.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct crypto_api CR;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_ret;
static char load_why[512];

/* Each member of CR and its symbol, in one table. */
#define SYM(name)                                                                        \
	{                                                                                \
		(void **)&CR.name, #name                                                 \
	}
static const struct dlib_sym syms[] = {
	SYM(EVP_Digest),
	SYM(EVP_sha256),
	SYM(EVP_get_digestbyname),
	SYM(EVP_MD_CTX_new),
	SYM(EVP_MD_CTX_free),
	SYM(EVP_DigestInit_ex),
	SYM(EVP_DigestUpdate),
	SYM(EVP_DigestFinal_ex),
	SYM(EVP_DecodeBlock),
	SYM(OPENSSL_cleanse),
	SYM(EVP_PKEY_get_raw_public_key),
	SYM(EVP_PKEY_new_raw_public_key),
	SYM(EVP_PKEY_new_raw_private_key),
	SYM(EVP_PKEY_get_id),
	SYM(EVP_PKEY_free),
	SYM(EVP_PKEY_CTX_new_id),
	SYM(EVP_PKEY_CTX_free),
	SYM(EVP_PKEY_keygen_init),
	SYM(EVP_PKEY_keygen),
	SYM(PEM_read_PrivateKey),
	SYM(PEM_write_PrivateKey),
	SYM(EVP_DigestSignInit),
	SYM(EVP_DigestSign),
	SYM(EVP_DigestVerifyInit),
	SYM(EVP_DigestVerify),
};
#undef SYM

static void load(void)
{
	static const char *const sonames[] = {"libcrypto.so.3"};
	const char *why = NULL;
	int r = dlib_load(getenv("LOOPGATE_LIBCRYPTO"), sonames, 1, syms,
			  sizeof(syms) / sizeof(*syms), &why);

	if (r == DLIB_OWN || r == DLIB_NONE) {
		load_ret = -ELIBACC;
		snprintf(load_why, sizeof(load_why),
			 "OpenSSL's libcrypto (libcrypto.so.3) could not be loaded; "
			 "loopgate hashes and signs with it (Debian: apt-get install "
			 "libssl3, or set LOOPGATE_LIBCRYPTO to its path): %s",
			 why);
	} else if (r == DLIB_SYMBOL) {
		load_ret = -ELIBACC;
		snprintf(load_why, sizeof(load_why),
			 "the libcrypto found is not OpenSSL 3: it lacks %s", why);
	}
}

int crypto_api_load(struct buf *err)
{
	pthread_once(&load_once, load);
	if (load_ret < 0 && err)
		return err_set(err, load_ret, "%s", load_why);
	return load_ret;
}
