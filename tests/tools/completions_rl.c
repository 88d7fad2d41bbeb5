/* A minimal readline loop with agentsh's completer installed, for driving real
 * Tab presses from tmux.  Usage: completions_rl CWD PATH [BUILTIN...]
 * Completes as if the delegate were in CWD with PATH, while this process sits
 * in "/"; prints each accepted line as LINE[...]; exits at EOF.
 *   completions_rl --candidates CWD PATH LINE
 * prints the candidates for the end of LINE (after its last blank), one a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/readline.h>

#include "completions/completions.h"

static const char *g_cwd, *g_path;
static const char *get_cwd(void *arg) { (void)arg; return g_cwd; }
static const char *get_path(void *arg) { (void)arg; return g_path; }

static int print_candidates(const char *line)
{
	const struct completions_ctx c = { .get_cwd = get_cwd, .get_path = get_path };
	const char *sp = strrchr(line, ' ');
	struct completions_list l = { 0 };
	int err = completions_candidates(&c, line, sp ? (size_t)(sp - line + 1) : 0,
					 strlen(line), &l);
	if (err) {
		fprintf(stderr, "completions_rl: candidates for '%s': %s\n", line, strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < l.n; i++)
		puts(l.v[i]);
	completions_list_free(&l);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--candidates")) {
		g_cwd = argv[2];
		g_path = argv[3];
		return print_candidates(argv[4]);
	}
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
