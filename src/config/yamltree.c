/*
 * yamltree.c: a YAML document into a tree of struct ynode (yamltree.h),
 * through libyaml's event parser.
 */
#include "config/yamltree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 32

struct yb {
	yaml_parser_t p;
	const char *name;
	const char *text;
	size_t len;
	struct buf *err;
};

static void ynode_free(struct ynode *y)
{
	for (size_t i = 0; i < y->n; i++)
		ynode_free(&y->kids[i]);
	free(y->kids);
	free(y->val);
}

static int yaml_fail(struct yb *b)
{
	const yaml_parser_t *p = &b->p;
	size_t line = p->problem_mark.line + 1;
	if (p->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < b->len; i++)
			line += b->text[i] == '\n';
	}
	if (p->context)
		return err_set(b->err, -EINVAL,
			       "%s:%zu: YAML syntax error: %s (%s started on line %zu)",
			       b->name, line, p->problem ? p->problem : "malformed",
			       p->context, p->context_mark.line + 1);
	return err_set(b->err, -EINVAL, "%s:%zu: YAML syntax error: %s", b->name, line,
		       p->problem ? p->problem : "malformed");
}

static int ynext(struct yb *b, yaml_event_t *ev)
{
	return yaml_parser_parse(&b->p, ev) ? 0 : yaml_fail(b);
}

static int ybuild(struct yb *b, const yaml_event_t *ev, struct ynode *y, int depth)
{
	yaml_event_type_t end = YAML_SEQUENCE_END_EVENT;
	size_t alloc = 0;

	memset(y, 0, sizeof(*y));
	y->line = ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		y->kind = Y_ALIAS;
		return 0;
	case YAML_SCALAR_EVENT:
		y->kind = Y_SCALAR;
		y->len = ev->data.scalar.length;
		y->val = xstrndup((const char *)ev->data.scalar.value, y->len);
		y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (ev->data.scalar.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		else if (ev->data.scalar.tag)
			y->refused = "YAML tags (!tag) are not supported";
		return 0;
	case YAML_MAPPING_START_EVENT:
		end = YAML_MAPPING_END_EVENT;
		y->kind = Y_MAP;
		if (ev->data.mapping_start.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		break;
	case YAML_SEQUENCE_START_EVENT:
		y->kind = Y_SEQ;
		if (ev->data.sequence_start.anchor)
			y->refused = "YAML anchors (&name) are not supported";
		break;
	default:
		return err_set(b->err, -EINVAL,
			       "%s:%zu: YAML syntax error: unexpected event", b->name,
			       y->line);
	}
	if (depth >= YAML_MAX_DEPTH)
		return err_set(b->err, -EINVAL,
			       "%s:%zu: YAML nested deeper than %d levels", b->name,
			       y->line, YAML_MAX_DEPTH);
	for (;;) {
		yaml_event_t cev;
		int ret = ynext(b, &cev);
		if (ret < 0)
			return ret;
		if (cev.type == end) {
			yaml_event_delete(&cev);
			return 0;
		}
		if (y->n == alloc) {
			alloc = alloc ? alloc * 2 : 8;
			y->kids = xrealloc(y->kids, alloc * sizeof(*y->kids));
		}
		ret = ybuild(b, &cev, &y->kids[y->n++], depth + 1);
		yaml_event_delete(&cev);
		if (ret < 0)
			return ret;
	}
}

/* Expects the next event to be of type t (structure, not content). */
static int yexpect(struct yb *b, yaml_event_type_t t, yaml_event_t *ev)
{
	int ret = ynext(b, ev);
	if (ret < 0)
		return ret;
	if (ev->type != t) {
		size_t line = ev->start_mark.line + 1;
		int doc = ev->type == YAML_DOCUMENT_START_EVENT;
		yaml_event_delete(ev);
		return err_set(b->err, -EINVAL, "%s:%zu: %s", b->name, line,
			       doc ? "only one YAML document is allowed (a second '---' "
				     "starts here)"
				   : "YAML syntax error: unexpected content");
	}
	return 0;
}

/* *root is NULL for an empty file. */
static int yload(struct yb *b, struct ynode **root)
{
	yaml_event_t ev;
	struct ynode *y = NULL;
	int ret;

	*root = NULL;
	if ((ret = yexpect(b, YAML_STREAM_START_EVENT, &ev)) < 0)
		return ret;
	yaml_event_delete(&ev);
	if ((ret = ynext(b, &ev)) < 0)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START: the parser guarantees it */
	if ((ret = ynext(b, &ev)) < 0)
		return ret;
	y = xcalloc(1, sizeof(*y));
	ret = ybuild(b, &ev, y, 0);
	yaml_event_delete(&ev);
	if (ret >= 0 && (ret = yexpect(b, YAML_DOCUMENT_END_EVENT, &ev)) >= 0) {
		yaml_event_delete(&ev);
		if ((ret = yexpect(b, YAML_STREAM_END_EVENT, &ev)) >= 0)
			yaml_event_delete(&ev);
	}
	if (ret < 0) {
		ynode_free(y);
		free(y);
		return ret;
	}
	*root = y;
	return 0;
}

int yamltree_load(const char *name, const char *text, size_t len, struct ynode **root,
		  struct buf *err)
{
	struct yb b = {.name = name, .text = text, .len = len, .err = err};
	int ret;

	*root = NULL;
	if (!yaml_parser_initialize(&b.p))
		return err_set(err, -ENOMEM, "%s: cannot initialise the YAML parser",
			       name);
	yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
	ret = yload(&b, root);
	yaml_parser_delete(&b.p);
	return ret;
}

void yamltree_free(struct ynode *root)
{
	if (!root)
		return;
	ynode_free(root);
	free(root);
}
