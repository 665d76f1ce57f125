/*
 * crypto_api: libcrypto's functions looked up once with dlopen/dlsym (see
 * crypto_api.h for why loopgate is not linked against it).
 */
#include "base/crypto_api.h"
#include "base/dlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct crypto_api CR;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_once_t strings_once = PTHREAD_ONCE_INIT;
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
	SYM(OPENSSL_init_crypto),
	SYM(ERR_error_string_n),
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
	} else {
		/* crypto_error_string loads them when first needed; the
		 * configuration (openssl.cnf) is still read at the first use */
		CR.OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	}
}

/*
 * What OPENSSL_INIT_LOAD_CRYPTO_STRINGS would have loaded, one library at
 * a time: once OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS has been given, that
 * flag does nothing more.  ERR first (the libraries' names).  A loader a
 * libcrypto lacks (built without deprecated functions) leaves its
 * library's reasons as numbers.
 */
static void load_strings(void)
{
	static const char *const libs[] = {
		"ERR",	"ASN1",	      "ASYNC",	"BIO",	  "BN",	   "BUF",
		"CMS",	"COMP",	      "CONF",	"CRYPTO", "CT",	   "DH",
		"DSA",	"EC",	      "ENGINE", "EVP",	  "KDF",   "OBJ",
		"OCSP", "OSSL_STORE", "PEM",	"PKCS12", "PKCS7", "RAND",
		"RSA",	"TS",	      "UI",	"X509V3", "X509",
	};
	Dl_info di;
	void *crypto = NULL, *ssl;
	char name[48];
	int (*fn)(void);
	size_t i;

	if (dladdr((void *)CR.ERR_error_string_n, &di) && di.dli_fname)
		crypto = dlopen(di.dli_fname, RTLD_NOW | RTLD_NOLOAD);
	for (i = 0; crypto && i < sizeof(libs) / sizeof(*libs); i++) {
		snprintf(name, sizeof(name), "ERR_load_%s_strings", libs[i]);
		if ((*(void **)&fn = dlsym(crypto, name)))
			fn();
	}
	/* libssl's own, when the process has it (loaded, never loaded here) */
	if ((ssl = dlopen("libssl.so.3", RTLD_NOW | RTLD_NOLOAD))) {
		if ((*(void **)&fn = dlsym(ssl, "ERR_load_SSL_strings")))
			fn();
		dlclose(ssl);
	}
	if (crypto)
		dlclose(crypto); /* NOLOAD: only the count taken above */
}

char *crypto_error_string(unsigned long e, char *buf, size_t n)
{
	pthread_once(&strings_once, load_strings);
	CR.ERR_error_string_n(e, buf, n);
	return buf;
}

int crypto_api_load(struct buf *err)
{
	pthread_once(&load_once, load);
	if (load_ret < 0 && err)
		return err_set(err, load_ret, "%s", load_why);
	return load_ret;
}
