/*
 * dlib.c: dlopen and dlsym into a table.  See dlib.h.
 */
#include "base/dlib.h"

#include <dlfcn.h>
#include <stdio.h>

/* dlerror's text lives until the next dlerror: kept here, per thread */
static _Thread_local char msg[512];

static const char *keep(const char *s)
{
	snprintf(msg, sizeof(msg), "%s", s ? s : "unknown error");
	return msg;
}

int dlib_load(const char *own, const char *const *sonames, size_t nsonames,
	      const struct dlib_sym *syms, size_t nsyms, const char **why)
{
	void *lib = NULL;
	const char *first = NULL;

	if (own && *own) {
		if (!(lib = dlopen(own, RTLD_NOW | RTLD_LOCAL))) {
			*why = keep(dlerror());
			return DLIB_OWN;
		}
	}
	for (size_t i = 0; i < nsonames && !lib; i++)
		if (!(lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL)) && !first)
			first = keep(
				dlerror()); /* the first soname's failure says most */
	if (!lib) {
		*why = first;
		return DLIB_NONE;
	}
	for (size_t i = 0; i < nsyms; i++)
		if (!(*syms[i].slot = dlsym(lib, syms[i].name))) {
			*why = syms[i].name;
			return DLIB_SYMBOL;
		}
	return 0;
}
