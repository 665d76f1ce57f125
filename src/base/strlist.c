/*
 * strlist: a growable list of owned strings (see strlist.h).
 */
#include "base/strlist.h"

#include <stdlib.h>

void strlist_push(struct strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void strlist_copy(struct strlist *dst, const struct strlist *src)
{
	if (dst == src)
		return;
	strlist_clear(dst);
	for (size_t i = 0; i < src->n; i++)
		strlist_push(dst, src->v[i]);
}
