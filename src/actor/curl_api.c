/*
 * curl_api: libcurl's functions looked up once with dlopen/dlsym (see
 * curl_api.h for why loopgate is not linked against it).
 */
#include "actor/curl_api.h"
#include "base/dlib.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct curl_api CU;

/* The soname libcurl has had since 7.16 (Debian: libcurl4, libcurl3-gnutls
 * ships libcurl-gnutls.so.4, tried second). */
static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};

/*
 * GnuTLS initialises itself in a library constructor (gnutls_global_init:
 * its ciphers, nettle, p11-kit...) unless the program defines this function
 * returning 1 (gnutls.h's GNUTLS_SKIP_GLOBAL_INIT); the Makefile exports it
 * from the binary (-Wl,--export-dynamic-symbol) so that the dynamic linker
 * binds libgnutls's weak default to it.  libcurl.so.4 (OpenSSL) pulls in
 * libgnutls only through librtmp and libldap, protocols loopgate never
 * enables (CURLOPT_PROTOCOLS_STR "http,https"), and both call
 * gnutls_global_init themselves before using it, as libcurl-gnutls does:
 * skipping the constructor's init leaves ~0.9 MB of GnuTLS, nettle and
 * p11-kit pages unmapped in every model run (docs/design/heap.md).
 */
int _gnutls_global_init_skip(void); /* NOLINT(bugprone-reserved-identifier) */
int _gnutls_global_init_skip(void)  /* NOLINT(bugprone-reserved-identifier) */
{
	return 1;
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_ret;
static char load_why[512];

/* Each member of CU and the symbol it comes from, in one table. */
#define SYM(member)                                                                      \
	{                                                                                \
		(void **)&CU.member, "curl_" #member                                     \
	}
static const struct dlib_sym syms[] = {
	SYM(global_init),      SYM(easy_init),		 SYM(easy_setopt),
	SYM(easy_getinfo),     SYM(easy_cleanup),	 SYM(easy_strerror),
	SYM(slist_append),     SYM(slist_free_all),	 SYM(multi_init),
	SYM(multi_add_handle), SYM(multi_remove_handle), SYM(multi_perform),
	SYM(multi_poll),       SYM(multi_info_read),	 SYM(multi_cleanup),
	SYM(getdate),	       SYM(share_init),		 SYM(share_setopt),
};
#undef SYM

static void fail(int ret, const char *what, const char *detail)
{
	load_ret = ret;
	snprintf(load_why, sizeof(load_why), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
}

static void load(void)
{
	const char *why = NULL;
	CURLcode rc;

	switch (dlib_load(getenv("LOOPGATE_LIBCURL"), sonames,
			  sizeof(sonames) / sizeof(*sonames), syms,
			  sizeof(syms) / sizeof(*syms), &why)) {
	case 0:
		break;
	case DLIB_OWN:
		return fail(-ELIBACC,
			    "LOOPGATE_LIBCURL names a libcurl that could not be loaded",
			    why);
	case DLIB_NONE:
		return fail(-ELIBACC,
			    "libcurl (libcurl.so.4) could not be loaded; model "
			    "providers need it (Debian: apt-get install libcurl4, "
			    "or set LOOPGATE_LIBCURL to its path)",
			    why);
	default:
		return fail(-ELIBACC, "the libcurl found is too old: it lacks", why);
	}
	rc = CU.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		fail(-ELIBACC, "could not initialise libcurl", CU.easy_strerror(rc));
}

int curl_api_load(struct buf *err)
{
	pthread_once(&load_once, load);
	if (load_ret < 0)
		return err_set(err, load_ret, "%s", load_why);
	return 0;
}
