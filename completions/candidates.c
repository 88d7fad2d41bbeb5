/* Dispatch: which generator answers for the word under the cursor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "completions/completions_int.h"

static const char *ctx_cwd(const struct completions_ctx *c)
{
	return c && c->get_cwd ? c->get_cwd(c->arg) : NULL;
}

static const char *ctx_path(const struct completions_ctx *c)
{
	const char *p = c && c->get_path ? c->get_path(c->arg) : NULL;
	return p ? p : getenv("PATH");
}

static int add_builtins(const struct completions_ctx *c, const char *prefix,
			struct completions_list *out)
{
	int err = 0;
	if (!c || !c->builtins)
		return 0;
	for (size_t i = 0; c->builtins[i] && !err; i++)
		if (!strncmp(c->builtins[i], prefix, strlen(prefix)))
			err = compl_list_add(out, c->builtins[i]);
	return err;
}

static int command_word(const struct completions_ctx *c, const char *word,
			struct completions_list *out)
{
	/* "./x", "/usr/bin/x", "dir/x": a path, never looked up on PATH */
	if (strchr(word, '/'))
		return compl_files(ctx_cwd(c), word, true, out);
	int err = add_builtins(c, word, out);
	if (!err)
		err = compl_commands(ctx_path(c), word, out);
	return err;
}

static bool is_dir_command(const char *w)
{
	return !strcmp(w, "cd") || !strcmp(w, "pushd") || !strcmp(w, "rmdir");
}

/* Only the directories among the file names. */
static int compl_dirs(const char *cwd, const char *word, struct completions_list *out)
{
	struct completions_list all = { 0 };
	int err = compl_files(cwd, word, false, &all);
	for (size_t i = 0; i < all.n && !err; i++) {
		size_t n = strlen(all.v[i]);
		if (n && all.v[i][n - 1] == '/')
			err = compl_list_add(out, all.v[i]);
	}
	completions_list_free(&all);
	return err;
}

static int argument_word(const struct completions_ctx *c, const struct compl_context *cx,
			 const char *word, struct completions_list *out)
{
	if (!cx->redirect && cx->words[0] && !strcmp(cx->words[0], "policy")) {
		bool files = false;
		int err = compl_policy_words(cx, word, out, &files);
		if (err || !files)
			return err;
	}
	if (!cx->redirect && cx->nwords == 1 && cx->words[0] && !strcmp(cx->words[0], "help"))
		return add_builtins(c, word, out);     /* agentsh's help NAME */
	if (!cx->redirect && cx->words[0] && is_dir_command(cx->words[0]))
		return compl_dirs(ctx_cwd(c), word, out);
	return compl_files(ctx_cwd(c), word, false, out);
}

int completions_candidates(const struct completions_ctx *c, const char *line,
			   size_t start, size_t end, struct completions_list *out)
{
	memset(out, 0, sizeof(*out));
	if (!line || start > end || end > strlen(line))
		return -EINVAL;
	struct compl_context cx;
	int err = compl_context_parse(line, start, &cx);
	if (err)
		return err;
	char *word = compl_dequote(line + start, end - start);
	if (!word) {
		compl_context_free(&cx);
		return -ENOMEM;
	}
	if (cx.nwords == 0 && !cx.redirect && !cx.continues)
		err = command_word(c, word, out);
	else
		err = argument_word(c, &cx, word, out);
	free(word);
	compl_context_free(&cx);
	if (err)
		completions_list_free(out);
	else
		compl_list_finish(out);
	return err;
}
