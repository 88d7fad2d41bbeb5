// Path globs compiled once at load time.
//
// Syntax: '*' = any run of characters except '/', '**' = any run including
// '/', '?' = one character except '/', '[abc]' '[a-z]' '[!x]' = one character
// of a set (never '/'), '{a,b}' = alternatives (expanded at compile time into
// separate globs), '\x' = literal x.  "dir/**" matches everything under dir
// but not dir itself (as in the reference); "a/**" + "/b" also matches "a/b".
//
// Most policy globs are a literal, "prefix/**" or "**" + "/name"; those get
// memcmp fast paths.  Everything else runs as a bit-parallel NFA over the part
// after the literal prefix: linear in the path length, no backtracking, so no
// pattern can make a check slow.
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

bool pol_glob_has_wild(const char *s)
{
	for (; *s; s++)
		if (strchr("*?[{\\", *s))
			return true;
	return false;
}

/* ---- brace expansion ---- */

static int find_brace(const char *p, size_t *open, size_t *close)
{
	int depth = 0;
	size_t o = 0;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1]) {
			i++;
			continue;
		}
		if (p[i] == '{') {
			if (depth++ == 0)
				o = i;
		} else if (p[i] == '}' && depth > 0) {
			if (--depth == 0) {
				*open = o;
				*close = i;
				return 1;
			}
		}
	}
	return depth > 0 ? -1 : 0;
}

static int expand(const char *p, char ***out, size_t *n, const char **err)
{
	size_t o, c;
	int r = find_brace(p, &o, &c);
	if (r < 0) {
		*err = "unbalanced '{' (close it with '}' or escape it as '\\{')";
		return -EINVAL;
	}
	if (r == 0) {
		if (*n >= GLOB_MAX_EXPANSIONS) {
			*err = "brace alternatives expand to more than 64 patterns";
			return -EINVAL;
		}
		char **nv = realloc(*out, (*n + 1) * sizeof(char *));
		if (!nv)
			return -ENOMEM;
		*out = nv;
		if (!(nv[*n] = strdup(p)))
			return -ENOMEM;
		(*n)++;
		return 0;
	}
	/* split the inside at top-level commas */
	size_t start = o + 1;
	int depth = 0;
	for (size_t i = o + 1; i <= c; i++) {
		if (p[i] == '\\' && i + 1 < c) {
			i++;
			continue;
		}
		if (p[i] == '{')
			depth++;
		else if (p[i] == '}' && depth > 0 && i < c)
			depth--;
		else if ((p[i] == ',' && depth == 0) || i == c) {
			size_t alen = i - start;
			size_t tot = o + alen + strlen(p + c + 1) + 1;
			char *s = malloc(tot);
			if (!s)
				return -ENOMEM;
			memcpy(s, p, o);
			memcpy(s + o, p + start, alen);
			strcpy(s + o + alen, p + c + 1);
			int e = expand(s, out, n, err);
			free(s);
			if (e)
				return e;
			start = i + 1;
		}
	}
	return 0;
}

/* ---- tokenizer ---- */

struct tok { unsigned char type, ch; uint8_t set[32]; };

static int class_parse(const char *p, size_t *adv, uint8_t set[32])
{
	/* p points after '['. Returns 1 if a valid class was parsed. */
	size_t i = 0;
	bool neg = false;
	memset(set, 0, 32);
	if (p[i] == '!' || p[i] == '^') {
		neg = true;
		i++;
	}
	bool first = true;
	while (p[i] && (p[i] != ']' || first)) {
		unsigned char lo = (unsigned char)p[i], hi = lo;
		if (p[i + 1] == '-' && p[i + 2] && p[i + 2] != ']') {
			hi = (unsigned char)p[i + 2];
			i += 2;
		}
		for (unsigned ch = lo; ch <= hi; ch++)
			set[ch >> 3] |= (uint8_t)(1u << (ch & 7));
		i++;
		first = false;
	}
	if (p[i] != ']')
		return 0;
	if (neg)
		for (int k = 0; k < 32; k++)
			set[k] = (uint8_t)~set[k];
	set['/' >> 3] &= (uint8_t)~(1u << ('/' & 7));
	set[0] &= (uint8_t)~1u;
	*adv = i + 1;
	return 1;
}

static int tokenize(const char *p, bool icase, struct tok **out, size_t *n)
{
	size_t cap = strlen(p) + 1;
	struct tok *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; p[i];) {
		struct tok *x = &t[k];
		if (p[i] == '*') {
			size_t j = i;
			while (p[j] == '*')
				j++;
			x->type = (j - i) >= 2 ? G_DSTAR : G_STAR;
			i = j;
		} else if (p[i] == '?') {
			x->type = G_ANY;
			i++;
		} else if (p[i] == '[') {
			size_t adv;
			if (class_parse(p + i + 1, &adv, x->set)) {
				x->type = G_CLASS;
				i += 1 + adv;
			} else {
				x->type = G_LIT;        /* unclosed '[' is literal (the command "[") */
				x->ch = '[';
				i++;
			}
		} else {
			if (p[i] == '\\' && p[i + 1])
				i++;
			x->type = G_LIT;
			x->ch = (unsigned char)(icase ? tolower((unsigned char)p[i]) : p[i]);
			i++;
		}
		k++;
	}
	*out = t;
	*n = k;
	return 0;
}

static char *lit_run(const struct tok *t, size_t from, size_t to)
{
	char *s = malloc(to - from + 1);
	if (!s)
		return NULL;
	for (size_t i = from; i < to; i++)
		s[i - from] = (char)t[i].ch;
	s[to - from] = 0;
	return s;
}

/* Cheap necessary conditions checked before running the NFA: most paths a
 * rule does not match fail on a memcmp of the tail or a memmem. */
static int nfa_prefilters(struct glob *g, const struct tok *t, size_t pl, size_t n)
{
	size_t te = n;
	while (te > pl && t[te - 1].type == G_LIT)
		te--;
	g->tlen = n - te;
	if (g->tlen && !(g->tail = lit_run(t, te, n)))
		return -ENOMEM;
	size_t best = 0, bs = 0;
	for (size_t i = pl; i < te;) {
		if (t[i].type != G_LIT) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < te && t[j].type == G_LIT)
			j++;
		if (j - i > best) {
			best = j - i;
			bs = i;
		}
		i = j;
	}
	g->mlen = best;
	if (best && !(g->must = lit_run(t, bs, bs + best)))
		return -ENOMEM;
	return 0;
}

static int compile_one(const char *src, bool icase, struct glob *g, const char **err)
{
	struct tok *t;
	size_t n;
	memset(g, 0, sizeof(*g));
	g->icase = icase;
	if (tokenize(src, icase, &t, &n))
		return -ENOMEM;
	if (n > GLOB_MAX_TOKENS) {
		free(t);
		*err = "pattern longer than 1024 characters";
		return -EINVAL;
	}
	size_t pl = 0;
	while (pl < n && t[pl].type == G_LIT)
		pl++;
	g->src = strdup(src);
	g->prefix = malloc(pl + 1);
	if (!g->src || !g->prefix) {
		free(t);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pl; i++)
		g->prefix[i] = (char)t[i].ch;
	g->prefix[pl] = 0;
	g->plen = pl;
	bool rest_lit = true;
	for (size_t i = 1; i < n; i++)
		if (t[i].type != G_LIT)
			rest_lit = false;
	if (pl == n) {
		g->mode = GM_LITERAL;
	} else if (pl + 1 == n && t[pl].type == G_DSTAR) {
		g->mode = pl ? GM_PREFIX_DSTAR : GM_ANY;
	} else if (pl == 0 && t[0].type == G_DSTAR && rest_lit) {
		g->mode = GM_DSTAR_SUFFIX;
		g->slen = n - 1;
		g->suffix = malloc(n);
		if (!g->suffix) {
			free(t);
			return -ENOMEM;
		}
		for (size_t i = 1; i < n; i++)
			g->suffix[i - 1] = (char)t[i].ch;
		g->suffix[n - 1] = 0;
	} else {
		g->mode = GM_NFA;
		g->ntok = n - pl;
		g->type = malloc(g->ntok);
		g->ch = malloc(g->ntok);
		g->cls = calloc(g->ntok, sizeof(*g->cls));
		size_t ncls = 0;
		for (size_t i = pl; i < n; i++)
			ncls += t[i].type == G_CLASS;
		g->classes = calloc(ncls ? ncls : 1, 32);
		if (!g->type || !g->ch || !g->cls || !g->classes) {
			free(t);
			return -ENOMEM;
		}
		if (nfa_prefilters(g, t, pl, n))
			return free(t), -ENOMEM;
		for (size_t i = pl; i < n; i++) {
			size_t j = i - pl;
			g->type[j] = t[i].type;
			g->ch[j] = t[i].ch;
			if (t[i].type == G_CLASS) {
				memcpy(g->classes[g->ncls], t[i].set, 32);
				g->cls[j] = (uint16_t)g->ncls++;
			}
		}
	}
	free(t);
	return 0;
}

void pol_glob_free(struct glob *g)
{
	if (!g)
		return;
	free(g->src);
	free(g->prefix);
	free(g->suffix);
	free(g->tail);
	free(g->must);
	free(g->type);
	free(g->ch);
	free(g->cls);
	free(g->classes);
}

/* "a/" "**" "/b" also matches "a/b" (zero directories): each such slash-star-star-slash
 * gets an extra alternative with it replaced by a single "/", so the NFA
 * itself only knows plain stars. */
static int zero_dir_variants(char ***alts, size_t *na, const char **err)
{
	for (size_t i = 0; i < *na; i++) {
		for (size_t k = 0; (*alts)[i][k]; k++) {
			const char *a = (*alts)[i];
			size_t stars = 0;
			while (a[k] == '/' && a[k + 1 + stars] == '*')
				stars++;
			if (a[k] != '/' || stars < 2 || a[k + 1 + stars] != '/' || (k > 0 && a[k - 1] == '\\'))
				continue;
			char *v = malloc(strlen(a) + 1);
			if (!v)
				return -ENOMEM;
			memcpy(v, a, k + 1);
			strcpy(v + k + 1, a + k + 2 + stars);
			bool dup = false;
			for (size_t j = 0; j < *na && !dup; j++)
				dup = !strcmp((*alts)[j], v);
			if (dup) {
				free(v);
				continue;
			}
			if (*na >= GLOB_MAX_EXPANSIONS) {
				free(v);
				*err = "braces and '/**/' expand to more than 64 patterns";
				return -EINVAL;
			}
			char **nv = realloc(*alts, (*na + 1) * sizeof(char *));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			*alts = nv;
			nv[(*na)++] = v;
		}
	}
	return 0;
}

int pol_glob_compile_all(const char *pat, bool icase, struct glob **v, size_t *n, const char **err)
{
	char **alts = NULL;
	size_t na = 0;
	int e = expand(pat, &alts, &na, err);
	if (!e)
		e = zero_dir_variants(&alts, &na, err);
	for (size_t i = 0; !e && i < na; i++) {
		struct glob *nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv) {
			e = -ENOMEM;
			break;
		}
		*v = nv;
		e = compile_one(alts[i], icase, &nv[*n], err);
		if (e)
			pol_glob_free(&nv[*n]);
		else
			(*n)++;
	}
	for (size_t i = 0; i < na; i++)
		free(alts[i]);
	free(alts);
	return e;
}

/* ---- matching ---- */

#define W 64
#define NW ((GLOB_MAX_TOKENS + 1 + W - 1) / W)
#define SETB(s, i) ((s)[(i) / W] |= (uint64_t)1 << ((i) % W))
#define GETB(s, i) (((s)[(i) / W] >> ((i) % W)) & 1)

static void closure(const struct glob *g, uint64_t *s)
{
	/* ascending order, so chains of stars propagate in one pass */
	size_t nw = (g->ntok + W - 1) / W;
	for (size_t w = 0; w < nw; w++)
		for (uint64_t bits = s[w]; bits;
		     bits = s[w] & ~((((uint64_t)2) << __builtin_ctzll(bits)) - 1)) {
			size_t i = w * W + (size_t)__builtin_ctzll(bits);
			if (i >= g->ntok)
				break;
			if (g->type[i] == G_STAR || g->type[i] == G_DSTAR)
				SETB(s, i + 1);
			if (__builtin_ctzll(bits) == 63)
				break;
		}
}

static bool nfa_match(const struct glob *g, const char *s, size_t len)
{
	uint64_t cur[NW] = { 0 }, nxt[NW];
	size_t nw = (g->ntok + 1 + W - 1) / W;
	SETB(cur, 0);
	closure(g, cur);
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)s[k];
		bool any = false;
		memset(nxt, 0, nw * sizeof(uint64_t));
		for (size_t w = 0; w < nw; w++) {
			uint64_t bits = cur[w];
			while (bits) {
				size_t i = w * W + (size_t)__builtin_ctzll(bits);
				bits &= bits - 1;
				if (i >= g->ntok)
					continue;
				switch (g->type[i]) {
				case G_LIT:
					if (g->ch[i] == c) { SETB(nxt, i + 1); any = true; }
					break;
				case G_ANY:
					if (c != '/') { SETB(nxt, i + 1); any = true; }
					break;
				case G_CLASS:
					if (g->classes[g->cls[i]][c >> 3] & (1u << (c & 7))) { SETB(nxt, i + 1); any = true; }
					break;
				case G_STAR:
					if (c != '/') { SETB(nxt, i); any = true; }
					break;
				case G_DSTAR:
					SETB(nxt, i);
					any = true;
					break;
				}
			}
		}
		if (!any)
			return false;
		closure(g, nxt);
		memcpy(cur, nxt, nw * sizeof(uint64_t));
	}
	return GETB(cur, g->ntok);
}

bool pol_glob_match(const struct glob *g, const char *s, size_t len)
{
	switch (g->mode) {
	case GM_LITERAL:
		return len == g->plen && memcmp(s, g->prefix, len) == 0;
	case GM_PREFIX_DSTAR:
		return len >= g->plen && memcmp(s, g->prefix, g->plen) == 0;
	case GM_ANY:
		return true;
	case GM_DSTAR_SUFFIX:
		return len >= g->slen && memcmp(s + len - g->slen, g->suffix, g->slen) == 0;
	case GM_NFA:
		if (len < g->plen + g->tlen || memcmp(s, g->prefix, g->plen) != 0)
			return false;
		if (g->tlen && memcmp(s + len - g->tlen, g->tail, g->tlen) != 0)
			return false;
		if (g->mlen && !memmem(s + g->plen, len - g->plen - g->tlen, g->must, g->mlen))
			return false;
		return nfa_match(g, s + g->plen, len - g->plen);
	}
	return false;
}

int policy_glob_match(const char *glob, const char *path)
{
	struct glob *v = NULL;
	size_t n = 0;
	const char *err;
	int r = pol_glob_compile_all(glob, false, &v, &n, &err);
	bool m = false;
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && !m)
			m = pol_glob_match(&v[i], path, strlen(path));
		pol_glob_free(&v[i]);
	}
	free(v);
	return r ? r : m;
}

int policy_glob_static_prefix(const char *glob, char *buf, size_t len, bool *is_literal)
{
	size_t i = 0;
	while (glob[i] && !strchr("*?[{\\", glob[i]))
		i++;
	bool lit = glob[i] == 0;
	size_t cut = i;
	if (!lit) {
		while (cut > 0 && glob[cut - 1] != '/')
			cut--;
		if (cut > 1)
			cut--;          /* drop the trailing '/' except for "/" itself */
	}
	if (cut + 1 > len)
		return -ENAMETOOLONG;
	memcpy(buf, glob, cut);
	buf[cut] = 0;
	if (is_literal)
		*is_literal = lit;
	return (int)cut;
}
