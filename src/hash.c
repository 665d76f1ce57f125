/*
 * hash.c: SHA-256 through OpenSSL's EVP interface.  See hash.h.
 */
#include "hash.h"

#include <openssl/evp.h>
#include <stdio.h>

void hash_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	/* EVP_Digest fails only on allocation failure; a zero digest then is
	 * still a valid (if useless) key, and allocation failure aborts
	 * elsewhere first. */
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32)
		n = 0;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", i < n ? md[i] : 0);
}
