/* Diagnostics: a growable list of file:line:col messages, and "did you mean". */
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

void policy_diags_init(struct policy_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void policy_diags_free(struct policy_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].code);
		free(d->v[i].message);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static const char *sevname(enum policy_severity s)
{
	return s == POLICY_SEV_ERROR ? "error" : s == POLICY_SEV_WARNING ? "warning" : "note";
}

void policy_diags_print(const struct policy_diags *d, FILE *f)
{
	for (size_t i = 0; d && i < d->n; i++) {
		const struct policy_diag *g = &d->v[i];
		/* errors as "file:line:col: message" (the format editors jump to);
		 * warnings and notes say what they are */
		const char *sev = g->severity == POLICY_SEV_ERROR ? "" : sevname(g->severity);
		if (g->line)
			fprintf(f, "%s:%u:%u: %s%s%s\n", g->file, g->line, g->col, sev, *sev ? ": " : "",
				g->message);
		else
			fprintf(f, "%s: %s%s%s\n", g->file, sev, *sev ? ": " : "", g->message);
	}
}

void pol_pdiag(struct policy_diags *d, enum policy_severity sev, const char *file, unsigned line,
	   unsigned col, const char *code, const char *fmt, ...)
{
	if (!d)
		return;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		struct policy_diag *nv = realloc(d->v, nc * sizeof(*nv));
		if (!nv)
			return;         /* the caller still fails: the error count is what matters */
		d->v = nv;
		d->cap = nc;
	}
	struct policy_diag *g = &d->v[d->n];
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&g->message, fmt, ap) < 0)
		g->message = NULL;
	va_end(ap);
	g->file = strdup(file ? file : "<policy>");
	g->code = strdup(code ? code : "");
	if (!g->message || !g->file || !g->code) {
		free(g->message); free(g->file); free(g->code);
		return;
	}
	g->line = line;
	g->col = col;
	g->severity = sev;
	d->n++;
	if (sev == POLICY_SEV_ERROR)
		d->nerrors++;
	else if (sev == POLICY_SEV_WARNING)
		d->nwarnings++;
}

size_t pol_levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t m = prev + cost;
			if (row[j] + 1 < m)
				m = row[j] + 1;
			if (row[j - 1] + 1 < m)
				m = row[j - 1] + 1;
			row[j] = m;
			prev = cur;
		}
	}
	return row[lb];
}

const char *pol_did_you_mean(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (size_t i = 0; i < n; i++) {
		size_t dist = pol_levenshtein(word, cands[i]);
		if (dist < bestd) {
			bestd = dist;
			best = cands[i];
		}
	}
	if (!best && strlen(word) >= 4)
		for (size_t i = 0; i < n; i++)
			if (!strncmp(word, cands[i], strlen(word)) || !strncmp(word, cands[i], strlen(cands[i])))
				return cands[i];
	return best;
}
