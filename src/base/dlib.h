/*
 * dlib: a shared library loaded when first needed, its functions looked up
 * into a table (actor/curl_api.h, base/crypto_api.h).
 *
 *   static const struct dlib_sym syms[] = {{(void **)&T.fn, "fn"}, ...};
 *   const char *why;
 *   int r = dlib_load(getenv("LOOPGATE_LIBX"), sonames, nsonames, syms, nsyms, &why);
 *
 * own (may be NULL or ""): a file to load instead of the sonames.  Returns
 * 0; DLIB_OWN when own could not be loaded, DLIB_NONE when no soname could,
 * with why the loader's message; DLIB_SYMBOL when a function is missing,
 * with why its name.  The library stays loaded (RTLD_LOCAL) for the process.
 */
#ifndef LOOPGATE_DLIB_H
#define LOOPGATE_DLIB_H

#include <stddef.h>

struct dlib_sym {
	void **slot;
	const char *name;
};

enum { DLIB_OWN = 1, DLIB_NONE, DLIB_SYMBOL };

int dlib_load(const char *own, const char *const *sonames, size_t nsonames,
	      const struct dlib_sym *syms, size_t nsyms, const char **why);

#endif
