/*
 * yamltree: one YAML document as a tree, for the config walker.
 *
 *   struct ynode *root;
 *   if (yamltree_load("loopgate.yaml", text, len, &root, &err) < 0) ...
 *   ... root is NULL for an empty document; mappings hold key, value,
 *       key, value ... in kids ...
 *   yamltree_free(root);
 *
 * Errors name the file and line ("NAME:LINE: YAML syntax error: ...").
 * Nesting is capped (32 levels); anchors and tags are kept as a reason
 * to refuse (ynode.refused) and aliases as Y_ALIAS nodes, so that the
 * walker refuses them where they are used; only one document is allowed.
 */
#ifndef LOOPGATE_YAMLTREE_H
#define LOOPGATE_YAMLTREE_H

#include <stddef.h>
#include "base/buf.h"

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP, Y_ALIAS };

struct ynode {
	enum ykind kind;
	int plain;	     /* unquoted scalar: may be a number, bool, null */
	const char *refused; /* anchor or tag: why we refuse it when used */
	size_t line;	     /* 1-based */
	char *val;	     /* scalar text, NUL-terminated */
	size_t len;
	struct ynode *kids; /* list items; mapping: key, value, key, ... */
	size_t n;
};

int yamltree_load(const char *name, const char *text, size_t len, struct ynode **root,
		  struct buf *err);
/* Frees the tree yamltree_load made (NULL: nothing). */
void yamltree_free(struct ynode *root);

#endif
