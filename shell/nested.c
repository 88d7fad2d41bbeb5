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
 * Inside a session means: no_new_privs, a seccomp filter, and the session's
 * cgroup (v2 path /agentsh/<16 hex digits>).  Only root creates those
 * cgroups and moves processes into them, and only the session's delegate is
 * moved there, so a process outside a session cannot pass for one inside: the
 * worst a forged answer could do is run the delegate shell where the caller
 * could run it anyway. */
#include "shell/shell_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DELEGATE "/bin/bash"

/* no_new_privs and a seccomp filter, from one read of /proc/self/status */
static bool confined(void)
{
	char line[256];
	int seen = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return false;
	while (seen < 2 && fgets(line, sizeof line, f)) {
		if (!strcmp(line, "NoNewPrivs:\t1\n") || !strcmp(line, "Seccomp:\t2\n"))
			seen++;
		else if (!strncmp(line, "NoNewPrivs:", 11) || !strncmp(line, "Seccomp:", 8))
			break;          /* present with another value */
	}
	fclose(f);
	return seen == 2;
}

static bool session_cgroup(void)
{
	char line[512];
	bool yes = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "0::/agentsh/", 12))
			continue;
		const char *id = line + 12;
		size_t n = strspn(id, "0123456789abcdef");
		yes = n == 16 && (id[n] == '\n' || !id[n]);
		break;
	}
	fclose(f);
	return yes;
}

bool shell_inside_session(void)
{
	return confined() && session_cgroup();
}

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
	c.delegate_path = DELEGATE;
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
	execv(DELEGATE, av);
	int e = errno;
	fprintf(stderr, "agentsh: cannot run the delegate shell %s inside the session: %s\n",
		DELEGATE, strerror(e));
	free(av);
	return e == ENOENT ? 127 : 126;
}
