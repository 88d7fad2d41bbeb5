/* The readline side: hooks that call completions_candidates(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/readline.h>

#include "completions/completions_int.h"

static struct completions_ctx g_ctx;
static struct completions_list g_list;  /* the candidates of the current attempt */
static size_t g_next;

static char *next_candidate(const char *text, int state)
{
	(void)text;     /* already filtered: candidates may differ from text by quoting */
	if (state == 0)
		g_next = 0;
	if (g_next >= g_list.n)
		return NULL;
	return strdup(g_list.v[g_next++]);
}

static char **attempt(const char *text, int start, int end)
{
	rl_attempted_completion_over = 1;       /* never fall back to readline's own cwd */
	completions_list_free(&g_list);
	if (completions_candidates(&g_ctx, rl_line_buffer, (size_t)start, (size_t)end, &g_list) < 0
	    || g_list.n == 0)
		return NULL;
	/* Our candidates are names: let readline quote them and not add a space
	 * after a directory, where the next Tab goes on into it. */
	rl_filename_completion_desired = 1;
	rl_filename_quoting_desired = 1;
	if (g_list.n == 1 && g_list.v[0][strlen(g_list.v[0]) - 1] == '/')
		rl_completion_suppress_append = 1;
	return rl_completion_matches(text, next_candidate);
}

/* readline stats file names (to mark directories) relative to our own cwd;
 * the names are relative to the delegate's. */
static int stat_hook(char **name)
{
	const char *cwd = g_ctx.get_cwd ? g_ctx.get_cwd(g_ctx.arg) : NULL;
	if (!cwd || !*name || (*name)[0] == '/' || (*name)[0] == '~')
		return 0;
	char *full = NULL;
	if (asprintf(&full, "%s/%s", cwd, *name) < 0)
		return 0;
	free(*name);
	*name = full;
	return 1;
}

/* Quotes a file name for the line, the way the delegate will read it back:
 * inside the user's ' or ", escape what that quote needs; with no quote open,
 * a backslash before each special character (readline's default would wrap
 * the name in ' and break on a name that contains one). */
static char *quote_name(char *name, int match_type, char *qc)
{
	(void)match_type;
	char q = qc ? *qc : 0;
	char *out = malloc(strlen(name) * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = name; *p; p++) {
		if (q == '\'') {
			if (*p == '\'') {              /* close, escaped quote, reopen */
				memcpy(o, "'\\''", 4);
				o += 4;
				continue;
			}
		} else if (q == '"') {
			if (strchr("\\\"$`", *p))
				*o++ = '\\';
		} else if (strchr(rl_filename_quote_characters, *p)) {
			*o++ = '\\';
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* A backslash-escaped character does not break a word ("my\ file"). */
static int char_is_quoted(char *line, int index)
{
	int n = 0;
	for (int i = index - 1; i >= 0 && line[i] == '\\'; i--)
		n++;
	return n % 2;
}

void completions_install_readline(const struct completions_ctx *ctx)
{
	if (ctx)
		g_ctx = *ctx;
	else
		memset(&g_ctx, 0, sizeof(g_ctx));
	rl_attempted_completion_function = attempt;
	rl_filename_stat_hook = stat_hook;
	/* As bash sets them, so words split and quote the way the delegate will read them. */
	rl_completer_word_break_characters = " \t\n\"'><=;|&(";
	rl_completer_quote_characters = "'\"";
	rl_filename_quote_characters = " \t\n\\\"'@<>=;|&()#$`?*[!:{}";
	rl_filename_quoting_function = quote_name;
	rl_char_is_quoted_p = char_is_quoted;
}
