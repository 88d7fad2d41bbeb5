/* completions/: tab completion for agentsh's interactive line editor.
 *
 * What is completed (a UI aid only: nothing here decides anything):
 *   - the first word of a command: agentsh's built-ins (names given by the shell)
 *     and executables on the delegate's PATH; a word containing '/' completes to
 *     directories and executable files;
 *   - later words, and the target of a redirection: file names, relative to the
 *     delegate's working directory (which follows `cd` in the delegate, not
 *     agentsh's own cwd); only directories after cd, pushd and rmdir; the
 *     built-in names after `help`;
 *   - after `policy `: its subcommands; after `policy check `: the operation kinds
 *     (file, exec, net, signal, unix) and then each kind's operation, signal and
 *     target names, as the policy module spells them.
 *
 * Usage by the shell's interactive loop, once, before the first readline():
 *     static const char *const names[] = { "help", "exit", "policy", NULL };
 *     struct completions_ctx c = { .builtins = names, .get_cwd = cwd_fn,
 *                                  .get_path = path_fn, .arg = session };
 *     completions_install_readline(&c);
 */
#ifndef AGENTSH_COMPLETIONS_H
#define AGENTSH_COMPLETIONS_H

#include <stddef.h>

struct completions_ctx {
	/* NULL-terminated names of agentsh's built-ins; NULL = none.  Not copied:
	 * must stay valid while completion is installed. */
	const char *const *builtins;
	/* Called at each completion.  The delegate's working directory and PATH;
	 * a NULL callback or a NULL result means agentsh's own cwd / getenv("PATH"). */
	const char *(*get_cwd)(void *arg);
	const char *(*get_path)(void *arg);
	void *arg;
};

/* Candidates, sorted (strcmp order) and without duplicates.  Directory names
 * end in '/'.  Free with completions_list_free(); a zeroed list is empty. */
struct completions_list {
	char **v;
	size_t n, cap;
};

/* Sets readline's rl_attempted_completion_function (and its quoting, word-break
 * and filename-stat hooks) to agentsh's completer.  *ctx is copied. */
void completions_install_readline(const struct completions_ctx *ctx);

/* The candidates for the word line[start, end) of the line being edited
 * (line[0, start) gives the context).  The word may still carry quotes and
 * backslashes; candidates are unquoted.  Returns 0 or -errno (-EINVAL for
 * start > end or end > strlen(line), -ENOMEM). */
int completions_candidates(const struct completions_ctx *ctx, const char *line,
			   size_t start, size_t end, struct completions_list *out);

void completions_list_free(struct completions_list *l);

#endif
