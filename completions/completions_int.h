/* completions/ private interface shared by its files. */
#ifndef AGENTSH_COMPLETIONS_INT_H
#define AGENTSH_COMPLETIONS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "completions/completions.h"

#define COMPL_MAX_WORDS 8  /* words of context kept; more are only counted */

/* Where the cursor's word sits in the command being typed. */
struct compl_context {
	bool redirect;                  /* the word is the target of < > >> ... */
	bool continues;                 /* line[0, start) ends inside a word (after
					   a word-break char such as '=') */
	size_t nwords;                  /* complete words of this command before it */
	char *words[COMPL_MAX_WORDS];   /* the first of them, unquoted */
};

/* Reads line[0, len) to find the command the next word belongs to. */
int compl_context_parse(const char *line, size_t len, struct compl_context *cx);
void compl_context_free(struct compl_context *cx);
/* The word with quotes and backslashes removed (malloc'd, NULL on ENOMEM). */
char *compl_dequote(const char *s, size_t len);

int compl_list_add(struct completions_list *l, const char *s);
int compl_list_add_n(struct completions_list *l, const char *s, size_t n);
void compl_list_finish(struct completions_list *l);   /* sort, drop duplicates */

/* Generators: each appends the names starting with prefix. */
int compl_commands(const char *path, const char *prefix, struct completions_list *out);
int compl_files(const char *cwd, const char *word, bool only_exec_or_dir,
		struct completions_list *out);
int compl_policy_words(const struct compl_context *cx, const char *prefix,
		       struct completions_list *out, bool *files_instead);

#endif
