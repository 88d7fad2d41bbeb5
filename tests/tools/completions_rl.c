/* A minimal readline loop with agentsh's completer installed, for driving real
 * Tab presses from tmux.  Usage: completions_rl CWD PATH [BUILTIN...]
 * Completes as if the delegate were in CWD with PATH, while this process sits
 * in "/"; prints each accepted line as LINE[...]; exits at EOF. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <readline/readline.h>

#include "completions/completions.h"

static const char *g_cwd, *g_path;
static const char *get_cwd(void *arg) { (void)arg; return g_cwd; }
static const char *get_path(void *arg) { (void)arg; return g_path; }

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: completions_rl CWD PATH [BUILTIN...]\n");
		return 2;
	}
	g_cwd = argv[1];
	g_path = argv[2];
	if (chdir("/") < 0) {
		perror("completions_rl: chdir /");
		return 1;
	}
	/* argv is NULL-terminated, so argv + 3 is a NULL-terminated name list */
	struct completions_ctx c = { .builtins = (const char *const *)argv + 3,
				     .get_cwd = get_cwd, .get_path = get_path };
	completions_install_readline(&c);
	char *line;
	while ((line = readline("rl> "))) {
		printf("LINE[%s]\n", line);
		fflush(stdout);
		free(line);
	}
	return 0;
}
