/* File rule index: a trie over the literal directory part of each glob, so a
 * check only tests the globs that could match the path instead of every glob
 * of every rule.
 *
 * Each (rule, glob) pair is filed under the node of the complete path
 * segments of its literal prefix ("/srv/app/" + "**" under /srv/app, a
 * literal path under itself, "**" + "/.env" under the root).  A path can only
 * match globs filed at the nodes along its own segments, so a check walks the
 * path, gathers those nodes' lists (each sorted by rule, then glob) and merges
 * them in rule order: the first match is still the first matching rule.
 * Anchors deeper than FIDX_MAX_DEPTH are filed at that depth, and the walk
 * visits exactly that many levels, so no glob is ever skipped.
 *
 * Globs of the form "**" + "/name" (any directory, a fixed last segment) are
 * filed by that name instead, in a second key space of the same table, and
 * looked up by the path's last segment. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

struct fidx_entry { uint32_t rule, glob, ops; };
struct fidx_node {
	struct fidx_entry *e;
	size_t n, cap;
	uint32_t parent;
	const char *seg;                /* points into the glob's prefix */
	size_t seglen;
};
struct fidx {
	struct fidx_node *nodes;
	size_t nnodes, cap;
	uint32_t *slots;                /* open addressing: node ids, 0 = empty */
	size_t nslots;
};

static uint64_t hash(uint32_t parent, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ parent;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static uint32_t child_find(const struct fidx *x, uint32_t parent, const char *s, size_t n)
{
	size_t mask = x->nslots - 1;
	for (size_t i = hash(parent, s, n) & mask;; i = (i + 1) & mask) {
		uint32_t id = x->slots[i];
		if (!id)
			return 0;
		const struct fidx_node *c = &x->nodes[id];
		if (c->parent == parent && c->seglen == n && !memcmp(c->seg, s, n))
			return id;
	}
}

static int rehash(struct fidx *x, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t id = 1; id < x->nnodes; id++) {
		const struct fidx_node *c = &x->nodes[id];
		size_t i = hash(c->parent, c->seg, c->seglen) & (nslots - 1);
		while (s[i])
			i = (i + 1) & (nslots - 1);
		s[i] = id;
	}
	free(x->slots);
	x->slots = s;
	x->nslots = nslots;
	return 0;
}

static int child_get(struct fidx *x, uint32_t parent, const char *s, size_t n, uint32_t *out)
{
	if ((*out = child_find(x, parent, s, n)))
		return 0;
	if (x->nnodes == x->cap) {
		size_t nc = x->cap * 2;
		struct fidx_node *nv = realloc(x->nodes, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		x->nodes = nv;
		x->cap = nc;
	}
	uint32_t id = (uint32_t)x->nnodes++;
	x->nodes[id] = (struct fidx_node){ .parent = parent, .seg = s, .seglen = n };
	if (x->nnodes * 2 > x->nslots)
		return rehash(x, x->nslots * 2) ? -ENOMEM : (*out = id, 0);   /* re-files every node */
	size_t i = hash(parent, s, n) & (x->nslots - 1);
	while (x->slots[i])
		i = (i + 1) & (x->nslots - 1);
	x->slots[i] = id;
	*out = id;
	return 0;
}

#define BASENAME_SPACE 0xfffffffeu     /* pseudo parent of the by-name nodes */

/* The node for a glob: its complete literal segments, at most FIDX_MAX_DEPTH. */
static int anchor(struct fidx *x, const struct glob *g, uint32_t *out)
{
	const char *p = g->prefix;
	size_t len = g->plen;
	uint32_t node = 0;
	if (g->mode == GM_DSTAR_SUFFIX && g->slen > 1 && g->suffix[0] == '/' &&
	    !memchr(g->suffix + 1, '/', g->slen - 1))
		return child_get(x, BASENAME_SPACE, g->suffix + 1, g->slen - 1, out);
	if (len == 0 || p[0] != '/') {
		*out = 0;
		return 0;
	}
	size_t i = 1;
	for (int depth = 0; depth < FIDX_MAX_DEPTH && i < len; depth++) {
		size_t j = i;
		while (j < len && p[j] != '/')
			j++;
		/* a segment counts when a '/' follows it, or it ends a literal glob */
		if (j == len && g->mode != GM_LITERAL)
			break;
		if (j == i)
			break;
		int e = child_get(x, node, p + i, j - i, &node);
		if (e)
			return e;
		i = j + 1;
	}
	*out = node;
	return 0;
}

static int add_entry(struct fidx_node *n, uint32_t rule, uint32_t glob, uint32_t ops)
{
	if (n->n == n->cap) {
		size_t nc = n->cap ? n->cap * 2 : 4;
		struct fidx_entry *nv = realloc(n->e, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		n->e = nv;
		n->cap = nc;
	}
	n->e[n->n++] = (struct fidx_entry){ rule, glob, ops };
	return 0;
}

void pol_fidx_free(struct fidx *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nnodes; i++)
		free(x->nodes[i].e);
	free(x->nodes);
	free(x->slots);
	free(x);
}

int pol_fidx_build(const struct file_rule *rules, size_t nrules, struct fidx **out)
{
	struct fidx *x = calloc(1, sizeof(*x));
	*out = NULL;
	if (!x)
		return -ENOMEM;
	x->cap = 64;
	x->nnodes = 1;                  /* node 0: the root */
	x->nodes = calloc(x->cap, sizeof(*x->nodes));
	int e = x->nodes ? rehash(x, 128) : -ENOMEM;
	for (size_t r = 0; !e && r < nrules; r++)
		for (size_t g = 0; !e && g < rules[r].nglobs; g++) {
			uint32_t node;
			e = anchor(x, &rules[r].globs[g], &node);
			if (!e)
				e = add_entry(&x->nodes[node], (uint32_t)r, (uint32_t)g, rules[r].ops);
		}
	if (e) {
		pol_fidx_free(x);
		return e;
	}
	*out = x;
	return 0;
}

/* First rule (in policy order) with op in bit and a glob matching path;
 * -1 if none.  path is absolute and normalised. */
long pol_fidx_first(const struct fidx *x, const struct file_rule *rules, uint32_t bit,
		const char *path, size_t len)
{
	const struct fidx_entry *lists[FIDX_MAX_DEPTH + 2];
	size_t lens[FIDX_MAX_DEPTH + 2], pos[FIDX_MAX_DEPTH + 2];
	int k = 0;
	uint32_t node = 0;
	size_t i = 1;
	const char *base = memrchr(path, '/', len);
	base = base ? base + 1 : path;
	uint32_t bn = child_find(x, BASENAME_SPACE, base, len - (size_t)(base - path));
	if (bn && x->nodes[bn].n) {
		lists[k] = x->nodes[bn].e;
		lens[k] = x->nodes[bn].n;
		pos[k++] = 0;
	}
	for (int depth = 0;; depth++) {
		if (x->nodes[node].n) {
			lists[k] = x->nodes[node].e;
			lens[k] = x->nodes[node].n;
			pos[k++] = 0;
		}
		if (depth == FIDX_MAX_DEPTH || i >= len)
			break;
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		if (!(node = child_find(x, node, path + i, j - i)))
			break;
		i = j + 1;
	}
	for (;;) {
		int best = -1;
		for (int j = 0; j < k; j++) {
			if (pos[j] >= lens[j])
				continue;
			const struct fidx_entry *c = &lists[j][pos[j]];
			if (best < 0 || c->rule < lists[best][pos[best]].rule ||
			    (c->rule == lists[best][pos[best]].rule && c->glob < lists[best][pos[best]].glob))
				best = j;
		}
		if (best < 0)
			return -1;
		const struct fidx_entry *c = &lists[best][pos[best]++];
		if ((c->ops & bit) && pol_glob_match(&rules[c->rule].globs[c->glob], path, len))
			return (long)c->rule;
	}
}
