/*
 * curl_api: libcurl, loaded when the first request that goes through it
 * needs it (actor/http.h says which do: not a model call's, as a rule).
 *
 * loopgate is not linked against libcurl: a run whose actor is an agent
 * CLI or a command never makes an HTTP request, and libcurl brings 27 of
 * the binary's 38 shared libraries (TLS, Kerberos, LDAP, SSH, IDN...).
 * Loading them at exec costs every loopgate process milliseconds of dynamic
 * linking and megabytes of resident pages, and makes every fork of it
 * (each spawn's warden) copy a larger memory map.
 *
 *   if (curl_api_load(err) < 0)      once per process; thread-safe
 *       return -ENOENT ...;          err names the library and the fix
 *   CU.easy_init(); CU.easy_setopt(h, CURLOPT_URL, url); ...
 *
 * The members mirror libcurl's functions of the same name without the
 * `curl_` prefix (libcurl's own headers give the types), so the ABI is the
 * one of the libcurl.so.4 found by the dynamic loader's usual search.
 * LOOPGATE_LIBCURL=/path/libcurl.so.4 loads that file instead (a libcurl
 * outside the loader's path).  Nothing in CU may be called before
 * curl_api_load returned 0.
 */
#ifndef LOOPGATE_CURL_API_H
#define LOOPGATE_CURL_API_H

#include <curl/curl.h>
#include <time.h>
#include "base/buf.h"

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned int n,
				int timeout_ms, int *ret);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
	time_t (*getdate)(const char *s, const time_t *unused);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *sh, CURLSHoption opt, ...);
};

extern struct curl_api CU;

/* dlopen()s libcurl and runs curl_global_init, once per process.
 * Returns 0, or -ELIBACC with err saying what is missing (an environment
 * problem, not a configuration error: the run cannot start, exit 3). */
int curl_api_load(struct buf *err);

#endif
