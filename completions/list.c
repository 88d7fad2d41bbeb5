/* Candidate lists: append, then sort and deduplicate once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "completions/completions_int.h"

int compl_list_add_n(struct completions_list *l, const char *s, size_t n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	char *c = strndup(s, n);
	if (!c)
		return -ENOMEM;
	l->v[l->n++] = c;
	return 0;
}

int compl_list_add(struct completions_list *l, const char *s)
{
	return compl_list_add_n(l, s, strlen(s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void compl_list_finish(struct completions_list *l)
{
	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	size_t w = 1;
	for (size_t r = 1; r < l->n; r++) {
		if (!strcmp(l->v[r], l->v[w - 1]))
			free(l->v[r]);
		else
			l->v[w++] = l->v[r];
	}
	l->n = w;
}

void completions_list_free(struct completions_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
