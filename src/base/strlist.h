/*
 * strlist: a growable list of owned C strings.
 *
 *   struct strlist l = STRLIST_INIT;
 *   strlist_push(&l, "a");        copies the string
 *   for (size_t i = 0; i < l.n; i++) ... l.v[i] ...
 *   strlist_clear(&l);            frees every string and the array
 *
 * An all-zero struct is an empty list.
 */
#ifndef LOOPGATE_STRLIST_H
#define LOOPGATE_STRLIST_H

#include <stddef.h>
#include "base/buf.h"

struct strlist {
	char **v;
	size_t n;
};
#define STRLIST_INIT                                                                     \
	{                                                                                \
		.v = NULL, .n = 0                                                        \
	}

void strlist_push(struct strlist *l, const char *s);
void strlist_clear(struct strlist *l);
/* dst becomes a copy of src (a no-op when they are the same list). */
void strlist_copy(struct strlist *dst, const struct strlist *src);

#endif
