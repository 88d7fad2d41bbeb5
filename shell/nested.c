/* nested.c — agentsh started inside one of its own sessions.
 *
 * $SHELL is agentsh in a session (the shell issue's contract), so programs
 * that start "the user's shell" — script, tmux, screen, vim's :shell, less's
 * !command — run agentsh inside the sandbox.  There it has no privilege to
 * build another sandbox (no_new_privs: a setuid bit does nothing) and needs
 * none: whatever it starts is already confined by the session's seccomp
 * filter, Landlock, mount namespace and cgroup, and decided by the session's
 * supervisor.  So it hands the language to the delegate shell, as the session
 * itself does, with the same arguments.
 *
 * Whether this is inside a session is enforce's to tell
 * (enforce_inside_session); the worst a forged answer could do is run the
 * delegate shell where the caller could run it anyway. */
#include "shell/shell_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int shell_run_nested(const struct shell_opts *o)
{
	struct shell_ctx c;
	char **av;

	if (o->json || o->user || o->policy || o->no_config || o->delegate) {
		fputs("agentsh: already inside an agentsh session: --json, --user, --policy, "
		      "--no-config and --delegate apply to new sessions; run the command itself\n",
		      stderr);
		return 2;
	}
	memset(&c, 0, sizeof c);
	c.opts = *o;
	c.delegate_path = DEFAULT_DELEGATE;
	if (o->mode == SHELL_MODE_INTERACTIVE) {
		/* the session's prompt, approvals and built-ins belong to the
		 * outer agentsh; here a plain interactive delegate */
		c.opts.mode = SHELL_MODE_STDIN;
		c.opts.nargs = 0;
	}
	av = shell_oneshot_argv(&c);
	if (!av) {
		fputs("agentsh: out of memory\n", stderr);
		return 126;
	}
	if (o->mode == SHELL_MODE_INTERACTIVE)
		for (char **a = av; *a; a++)
			if (!strcmp(*a, "-s"))
				*a = "-i";
	execv(DEFAULT_DELEGATE, av);
	int e = errno;
	fprintf(stderr, "agentsh: cannot run the delegate shell %s inside the session: %s\n",
		DEFAULT_DELEGATE, strerror(e));
	free(av);
	return e == ENOENT ? 127 : 126;
}
