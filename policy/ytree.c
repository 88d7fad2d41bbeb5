/* libyaml event stream -> a small tree that keeps every node's line:col, so
 * the schema walk can report errors where they are. Aliases are refused: a
 * policy is short and plain, and aliases invite billion-laughs expansion. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "policy/policy_int.h"

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_NODES 200000

struct yctx {
	yaml_parser_t parser;
	const char *file;
	struct policy_diags *d;
	size_t nodes;
	bool failed;
};

void pol_ytree_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		pol_ytree_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

const char *pol_ynode_type_name(const struct ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case Y_SCALAR: return "a scalar";
	case Y_SEQ: return "a list";
	default: return "a mapping";
	}
}

static struct ynode *mknode(struct yctx *c, enum ynode_type t, const yaml_mark_t *m)
{
	if (++c->nodes > YTREE_MAX_NODES) {
		if (!c->failed)
			pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
			      "yaml", "document too large (more than %d nodes); split or simplify the policy",
			      YTREE_MAX_NODES);
		c->failed = true;
		return NULL;
	}
	struct ynode *n = calloc(1, sizeof(*n));
	if (!n) {
		c->failed = true;
		return NULL;
	}
	n->type = t;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int addkid(struct ynode *p, struct ynode *k)
{
	if ((p->n & (p->n - 1)) == 0 || p->n == 0) {
		size_t nc = p->n ? p->n * 2 : 4;
		struct ynode **nv = realloc(p->kids, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->kids = nv;
	}
	p->kids[p->n++] = k;
	return 0;
}

static bool next_event(struct yctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev)) {
		const yaml_parser_t *y = &c->parser;
		const yaml_mark_t *m = y->problem ? &y->problem_mark : &y->context_mark;
		pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, (unsigned)m->line + 1, (unsigned)m->column + 1,
		      "yaml", "malformed YAML: %s%s%s; fix the syntax at this position",
		      y->problem ? y->problem : "syntax error", y->context ? " " : "",
		      y->context ? y->context : "");
		c->failed = true;
		return false;
	}
	return true;
}

static struct ynode *parse_node(struct yctx *c, yaml_event_t *ev, int depth);

static struct ynode *parse_children(struct yctx *c, struct ynode *n, yaml_event_type_t end, int depth)
{
	for (;;) {
		yaml_event_t ev;
		if (!next_event(c, &ev)) {
			pol_ytree_free(n);
			return NULL;
		}
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return n;
		}
		struct ynode *k = parse_node(c, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!k || addkid(n, k) < 0) {
			pol_ytree_free(k);
			pol_ytree_free(n);
			return NULL;
		}
	}
}

static struct ynode *parse_node(struct yctx *c, yaml_event_t *ev, int depth)
{
	struct ynode *n;
	if (depth > YTREE_MAX_DEPTH) {
		pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, (unsigned)ev->start_mark.line + 1,
		      (unsigned)ev->start_mark.column + 1, "yaml",
		      "nesting deeper than %d levels; a policy never needs this", YTREE_MAX_DEPTH);
		c->failed = true;
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = mknode(c, Y_SCALAR, &ev->start_mark);
		if (!n)
			return NULL;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->str = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		if (!n->str || strlen(n->str) != ev->data.scalar.length) {
			if (n->str)
				pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, n->line, n->col, "yaml",
				      "string contains a NUL character; remove it");
			c->failed = true;
			pol_ytree_free(n);
			return NULL;
		}
		return n;
	case YAML_SEQUENCE_START_EVENT:
		n = mknode(c, Y_SEQ, &ev->start_mark);
		return n ? parse_children(c, n, YAML_SEQUENCE_END_EVENT, depth) : NULL;
	case YAML_MAPPING_START_EVENT:
		n = mknode(c, Y_MAP, &ev->start_mark);
		return n ? parse_children(c, n, YAML_MAPPING_END_EVENT, depth) : NULL;
	case YAML_ALIAS_EVENT:
		pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, (unsigned)ev->start_mark.line + 1,
		      (unsigned)ev->start_mark.column + 1, "yaml",
		      "YAML aliases (*%s) are not supported in policies; write the value out",
		      (const char *)ev->data.alias.anchor);
		c->failed = true;
		return NULL;
	default:
		pol_pdiag(c->d, POLICY_SEV_ERROR, c->file, (unsigned)ev->start_mark.line + 1,
		      (unsigned)ev->start_mark.column + 1, "yaml", "unexpected YAML event");
		c->failed = true;
		return NULL;
	}
}

struct ynode *pol_ytree_parse(const char *buf, size_t len, const char *file, struct policy_diags *d)
{
	struct yctx c = { .file = file, .d = d };
	struct ynode *root = NULL;
	yaml_event_t ev;
	if (!yaml_parser_initialize(&c.parser))
		return NULL;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)buf, len);
	/* STREAM-START, DOCUMENT-START (or STREAM-END for an empty file) */
	while (next_event(&c, &ev)) {
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			if (root) {
				pol_pdiag(d, POLICY_SEV_ERROR, file, (unsigned)c.parser.mark.line + 1, 1, "yaml",
				      "more than one YAML document in the file; keep one policy per file");
				c.failed = true;
				break;
			}
			if (!next_event(&c, &ev))
				break;
			root = parse_node(&c, &ev, 0);
			yaml_event_delete(&ev);
			if (!root)
				break;
			continue;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&c.parser);
	if (c.failed) {
		pol_ytree_free(root);
		return NULL;
	}
	if (!root) {
		pol_pdiag(d, POLICY_SEV_ERROR, file, 0, 0, "yaml", "the file is empty; a policy needs at least 'version' and 'name'");
		return NULL;
	}
	return root;
}
