/*
 * hash.c: SHA-256 through OpenSSL's EVP interface (base/crypto_api.h).  See hash.h.
 */
#include "base/hash.h"
#include "base/crypto_api.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

void hash_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	/* EVP_Digest fails only on allocation failure; a zero digest then is
	 * still a valid (if useless) key, and allocation failure aborts
	 * elsewhere first. */
	if (crypto_api_load(NULL) < 0 ||
	    !CR.EVP_Digest(data, len, md, &n, CR.EVP_sha256(), NULL) || n != 32)
		n = 0;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", i < n ? md[i] : 0);
}

/* Fills p from the kernel: getrandom(2), or /dev/urandom on old kernels. */
static int random_bytes(unsigned char *p, size_t n)
{
	size_t got = 0;
	ssize_t k;
	int fd;

	while (got < n) {
		k = getrandom(p + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got == n)
		return 0;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	while (got < n) {
		k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	return got == n ? 0 : -EIO;
}

int hash_random_hex(size_t n, char *hex)
{
	unsigned char r[64];
	int ret;
	if (n > sizeof(r))
		return -EINVAL;
	if ((ret = random_bytes(r, n)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return 0;
}
