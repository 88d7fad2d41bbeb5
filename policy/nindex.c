/* Name index for command and network rules: a hash from an exact key (a
 * command's basename or full path, a domain or a "*." domain suffix) to the
 * ascending list of rules that name it, plus a "generic" list of rules that
 * must always be tried (wildcards the index cannot key, no selector at all).
 * A check merges the lists that apply in rule order and tests only those
 * rules, in full: the index only ever adds candidates, it never decides. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

struct nslot { char *key; size_t len; uint32_t *v; size_t n, cap; };
struct nindex {
	struct nslot *slots;
	size_t nslots, used;
	uint32_t *generic;
	size_t ngeneric, capgeneric;
};

static uint64_t nhash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static int push(uint32_t **v, size_t *n, size_t *cap, uint32_t rule)
{
	if (*n && (*v)[*n - 1] == rule)
		return 0;               /* rules are added in order: one entry per rule */
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		uint32_t *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = rule;
	return 0;
}

int pol_nidx_new(struct nindex **out)
{
	struct nindex *x = calloc(1, sizeof(*x));
	if (!x || !(x->slots = calloc(64, sizeof(*x->slots)))) {
		free(x);
		return -ENOMEM;
	}
	x->nslots = 64;
	*out = x;
	return 0;
}

void pol_nidx_free(struct nindex *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nslots; i++) {
		free(x->slots[i].key);
		free(x->slots[i].v);
	}
	free(x->slots);
	free(x->generic);
	free(x);
}

static struct nslot *find(const struct nindex *x, const char *k, size_t n)
{
	for (size_t i = nhash(k, n) & (x->nslots - 1);; i = (i + 1) & (x->nslots - 1)) {
		struct nslot *s = &x->slots[i];
		if (!s->key || (s->len == n && !memcmp(s->key, k, n)))
			return s;
	}
}

static int grow(struct nindex *x)
{
	struct nindex y = { .nslots = x->nslots * 2 };
	if (!(y.slots = calloc(y.nslots, sizeof(*y.slots))))
		return -ENOMEM;
	for (size_t i = 0; i < x->nslots; i++)
		if (x->slots[i].key)
			*find(&y, x->slots[i].key, x->slots[i].len) = x->slots[i];
	free(x->slots);
	x->slots = y.slots;
	x->nslots = y.nslots;
	return 0;
}

int pol_nidx_add(struct nindex *x, const char *key, size_t len, uint32_t rule)
{
	if ((x->used + 1) * 2 > x->nslots && grow(x))
		return -ENOMEM;
	struct nslot *s = find(x, key, len);
	if (!s->key) {
		if (!(s->key = malloc(len + 1)))
			return -ENOMEM;
		memcpy(s->key, key, len);
		s->key[len] = 0;
		s->len = len;
		x->used++;
	}
	return push(&s->v, &s->n, &s->cap, rule);
}

int pol_nidx_add_generic(struct nindex *x, uint32_t rule)
{
	return push(&x->generic, &x->ngeneric, &x->capgeneric, rule);
}

/* More lists than the iterator holds sets overflow: the caller must then
 * fall back to a linear scan rather than miss a candidate. */
void pol_nidx_iter_add(struct nidx_iter *it, const uint32_t *v, size_t n)
{
	if (!n)
		return;
	if (it->k == NIDX_MAX_LISTS) {
		it->overflow = true;
		return;
	}
	it->l[it->k] = v;
	it->n[it->k] = n;
	it->pos[it->k++] = 0;
}

void pol_nidx_lookup(const struct nindex *x, const char *key, size_t len, struct nidx_iter *it)
{
	const struct nslot *s = find(x, key, len);
	if (s->key)
		pol_nidx_iter_add(it, s->v, s->n);
}

void pol_nidx_iter_init(const struct nindex *x, struct nidx_iter *it)
{
	it->k = 0;
	it->last = -1;
	it->overflow = false;
	pol_nidx_iter_add(it, x->generic, x->ngeneric);
}

/* Next candidate rule in ascending order, each once; -1 at the end. */
long pol_nidx_next(struct nidx_iter *it)
{
	for (;;) {
		int best = -1;
		for (int j = 0; j < it->k; j++)
			if (it->pos[j] < it->n[j] &&
			    (best < 0 || it->l[j][it->pos[j]] < it->l[best][it->pos[best]]))
				best = j;
		if (best < 0)
			return -1;
		long r = it->l[best][it->pos[best]++];
		if (r != it->last)
			return it->last = r;
	}
}

static int cmd_index(struct policy *p)
{
	int e = pol_nidx_new(&p->cidx);
	for (size_t i = 0; !e && i < p->ncmds; i++) {
		const struct cmd_rule *r = &p->cmds[i];
		uint32_t ri = (uint32_t)i;
		if (r->match_all || r->nbglobs)
			e = pol_nidx_add_generic(p->cidx, ri);
		/* a path glob is keyed by its literal directory ("/opt/x/bin/" for
		 * "/opt/x/bin/" + "*"); the check looks up every directory prefix */
		for (size_t k = 0; !e && k < r->npglobs; k++) {
			const struct glob *g = &r->pglobs[k];
			const char *sl = g->plen ? memrchr(g->prefix, '/', g->plen) : NULL;
			e = sl ? pol_nidx_add(p->cidx, g->prefix, (size_t)(sl - g->prefix) + 1, ri)
			       : pol_nidx_add_generic(p->cidx, ri);
		}
		for (size_t k = 0; !e && k < r->nexact; k++)
			e = pol_nidx_add(p->cidx, r->exact[k], strlen(r->exact[k]), ri);
		for (size_t k = 0; !e && k < r->nbnames; k++)
			e = pol_nidx_add(p->cidx, r->bnames[k], strlen(r->bnames[k]), ri);
	}
	return e;
}

/* Keys: a literal domain, or ".suffix" for "*.suffix"; anything else makes
 * the rule generic (always tried). */
static int net_index(struct policy *p)
{
	int e = pol_nidx_new(&p->nidx);
	for (size_t i = 0; !e && i < p->nnets; i++) {
		const struct net_rule *r = &p->nets[i];
		uint32_t ri = (uint32_t)i;
		bool generic = !r->domains.n || r->domain_any;
		for (size_t g = 0; !generic && g < r->ndglobs; g++) {
			const struct glob *gl = &r->dglobs[g];
			generic = !(gl->mode == GM_LITERAL ||
				    (gl->src[0] == '*' && gl->src[1] == '.' && !pol_glob_has_wild(gl->src + 2)));
		}
		if (generic) {
			e = pol_nidx_add_generic(p->nidx, ri);
			continue;
		}
		for (size_t g = 0; !e && g < r->ndglobs; g++) {
			const struct glob *gl = &r->dglobs[g];
			if (gl->mode == GM_LITERAL)
				e = pol_nidx_add(p->nidx, gl->prefix, gl->plen, ri);
			else
				e = pol_nidx_add(p->nidx, gl->src + 1, strlen(gl->src + 1), ri);
		}
	}
	return e;
}

int pol_build_name_indexes(struct policy *p)
{
	int e = cmd_index(p);
	return e ? e : net_index(p);
}
