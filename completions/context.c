/* Which command, and which word of it, the cursor is in.
 *
 * A deliberately small reading of shell syntax, used only to choose what to
 * offer on Tab: quotes and backslashes, the operators that start a new command
 * (; & | ( ) newline, $( and `), redirections, leading NAME=value assignments,
 * and the keywords and wrappers after which a command name comes next. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "completions/completions_int.h"

struct lexer {
	struct compl_context *cx;
	char *buf;          /* the word being read, unquoted */
	size_t len;
	bool in_word;       /* something (maybe an empty "") was read */
};

/* After these, the next word is again a command name. */
static const char *const command_position_words[] = {
	"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time",
	"exec", "command", "builtin", "sudo", "nohup", "nice", "env", "xargs", NULL,
};

static bool is_command_prefix(const char *w)
{
	for (size_t i = 0; command_position_words[i]; i++)
		if (!strcmp(w, command_position_words[i]))
			return true;
	return false;
}

/* NAME=value before the command name is an assignment, not the command. */
static bool is_assignment(const char *w)
{
	if (!(isalpha((unsigned char)*w) || *w == '_'))
		return false;
	for (const char *p = w + 1; *p; p++) {
		if (*p == '=')
			return true;
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	}
	return false;
}

static void reset_command(struct compl_context *cx)
{
	for (size_t i = 0; i < COMPL_MAX_WORDS && i < cx->nwords; i++) {
		free(cx->words[i]);
		cx->words[i] = NULL;
	}
	cx->nwords = 0;
	cx->redirect = false;
}

static int end_word(struct lexer *lx)
{
	struct compl_context *cx = lx->cx;
	if (!lx->in_word)
		return 0;
	lx->buf[lx->len] = '\0';
	lx->in_word = false;
	lx->len = 0;
	if (cx->redirect) {             /* the target of a redirection is no argument */
		cx->redirect = false;
		return 0;
	}
	if (cx->nwords == 0 && (is_assignment(lx->buf) || is_command_prefix(lx->buf)))
		return 0;
	if (cx->nwords < COMPL_MAX_WORDS) {
		cx->words[cx->nwords] = strdup(lx->buf);
		if (!cx->words[cx->nwords])
			return -ENOMEM;
	}
	cx->nwords++;
	return 0;
}

static void put(struct lexer *lx, char c)
{
	lx->buf[lx->len++] = c;
	lx->in_word = true;
}

/* One unquoted character; returns how many characters it consumed. */
static int unquoted(struct lexer *lx, const char *s, size_t i, size_t n, int *err)
{
	char c = s[i];
	if (c == ' ' || c == '\t') {
		*err = end_word(lx);
		return 1;
	}
	if (strchr(";&|()\n`", c) || (c == '$' && i + 1 < n && s[i + 1] == '(')) {
		*err = end_word(lx);
		reset_command(lx->cx);
		return c == '$' ? 2 : 1;
	}
	if (c == '<' || c == '>') {
		/* "2>" : a file descriptor number is part of the operator, not a word */
		bool fd_prefix = lx->in_word && lx->len > 0;
		for (size_t k = 0; k < lx->len; k++)
			fd_prefix = fd_prefix && isdigit((unsigned char)lx->buf[k]);
		if (fd_prefix)
			lx->len = 0, lx->in_word = false;
		*err = end_word(lx);
		lx->cx->redirect = true;
		size_t j = i + 1;
		while (j < n && strchr("<>&|-", s[j]))
			j++;
		return (int)(j - i);
	}
	put(lx, c);
	return 1;
}

int compl_context_parse(const char *line, size_t n, struct compl_context *cx)
{
	memset(cx, 0, sizeof(*cx));
	struct lexer lx = { .cx = cx, .buf = malloc(n + 1) };
	if (!lx.buf)
		return -ENOMEM;
	char quote = 0;
	int err = 0;
	for (size_t i = 0; i < n && !err;) {
		char c = line[i];
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				put(&lx, c);
			i++;
		} else if (c == '\\' && i + 1 < n) {
			if (!(quote == '"' && !strchr("$`\"\\\n", line[i + 1])))
				i++;    /* inside "", only these lose their backslash */
			put(&lx, line[i++]);
		} else if (quote == '"') {
			if (c == '"')
				quote = 0;
			else if (c == '$' && i + 1 < n && line[i + 1] == '(') {
				lx.len = 0, lx.in_word = false, quote = 0;
				reset_command(cx);
				i++;
			} else
				put(&lx, c);
			i++;
		} else if (c == '\'' || c == '"') {
			quote = c;
			lx.in_word = true;
			i++;
		} else {
			i += (size_t)unquoted(&lx, line, i, n, &err);
		}
	}
	/* A word not ended by a blank is the start of the word being completed
	 * (readline broke the word at '=' or a quote): it is not counted. */
	cx->continues = lx.in_word;
	free(lx.buf);
	if (err)
		compl_context_free(cx);
	return err;
}

void compl_context_free(struct compl_context *cx)
{
	reset_command(cx);
}

char *compl_dequote(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	char quote = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				*o++ = c;
		} else if (c == '\\' && i + 1 < n) {
			if (quote == '"' && !strchr("$`\"\\", s[i + 1]))
				*o++ = c;
			*o++ = s[++i];
		} else if (c == '\'' || c == '"') {
			if (quote == c)
				quote = 0;
			else if (!quote)
				quote = c;
			else
				*o++ = c;
		} else {
			*o++ = c;
		}
	}
	*o = '\0';
	return out;
}
