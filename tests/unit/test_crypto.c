/*
 * Unit tests for base/crypto_api: OpenSSL's error strings are not loaded
 * when libcrypto is (they cost every process ~0.4 MB for errors it never
 * prints) and crypto_error_string loads them when an error is formatted.
 */
#include "unit.h"
#include "base/crypto_api.h"
#include "base/hash.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

static unsigned long bad_decrypt(void)
{
	return ERR_PACK(ERR_LIB_EVP, 0, EVP_R_BAD_DECRYPT);
}

/* A hash first: libcrypto initialised as a run initialises it, config and
 * all, and still no names. */
TEST(no_strings_at_init)
{
	char b[256], hex[65];

	CHECK_INT(crypto_api_load(NULL), 0);
	hash_sha256_hex("abc", 3, hex);
	CR.ERR_error_string_n(bad_decrypt(), b, sizeof(b));
	CHECK_STR(b, "error:03000064:lib(6)::reason(100)");
}

TEST(strings_when_formatted)
{
	char b[256];

	CHECK_STR(crypto_error_string(bad_decrypt(), b, sizeof(b)),
		  "error:03000064:digital envelope routines::bad decrypt");
	crypto_error_string(ERR_PACK(ERR_LIB_X509, 0, X509_R_CERT_ALREADY_IN_HASH_TABLE),
			    b, sizeof(b));
	CHECK_STR(b,
		  "error:05800065:x509 certificate routines::cert already in hash table");
	/* a short buffer is cut, not overrun */
	CHECK(strlen(crypto_error_string(bad_decrypt(), b, 12)) < 12);
}

int main(void)
{
	RUN(no_strings_at_init);
	RUN(strings_when_formatted);
	return unit_done();
}
