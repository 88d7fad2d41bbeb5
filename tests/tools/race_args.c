/* race_args — a second thread flips one exec string between an allowed and a denied
 * value while the first thread execs, TRIES times (one fork per try).  Run it inside an
 * agentsh session whose policy denies the denied value (tests/integration/
 * escape_args_race.sh):
 *   argv: execve("/usr/bin/echo", ["echo", S]) with S = "OKAY-ARG" / "DENY-ARG"
 *         (a command rule denies echo with args matching DENY-ARG);
 *   env:  execve("/usr/bin/env", ["env"], [S]) with S = "RACE_OKAYED=1" / "RACE_DENIED=1"
 *         (env_policy denies RACE_DENIED).
 * The supervisor reads S, decides, and lets the kernel copy it afterwards; success for
 * the attacker = the program printed the denied value.  Prints one summary line; exit 0
 * only with 0 successes, 2 on a usage or set-up error.
 *
 * usage: race_args argv|env [TRIES]   (default 20000) */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

static char buf[64] __attribute__((aligned(64)));
static const char *okv, *denv;
static atomic_bool stop;

/* Same-length values: each flip is a plain overwrite of the bytes that differ. */
static void *flipper(void *a)
{
	size_t n = strlen(okv);
	(void)a;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		memcpy(buf, denv, n);
		memcpy(buf, okv, n);
	}
	return NULL;
}

struct result { long ran_denied, ran_ok, refused, killed, other; };

static void one_try(int env_mode, struct result *r)
{
	int pp[2];
	if (pipe(pp) < 0)
		exit(2);
	pid_t p = fork();
	if (p < 0)
		exit(2);
	if (p == 0) {
		pthread_t t;
		close(pp[0]);
		dup2(pp[1], 1);
		memcpy(buf, okv, strlen(okv) + 1);
		if (pthread_create(&t, NULL, flipper, NULL))
			_exit(2);
		if (env_mode)
			execve("/usr/bin/env", (char *[]){ "env", NULL }, (char *[]){ buf, NULL });
		else
			execve("/usr/bin/echo", (char *[]){ "echo", buf, NULL }, (char *[]){ NULL });
		_exit(100);	/* refused */
	}
	close(pp[1]);
	char out[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = read(pp[0], out + got, sizeof out - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	close(pp[0]);
	int st;
	waitpid(p, &st, 0);
	/* the denied value's distinctive part ("DENY-ARG", "RACE_DENIED") */
	if (strstr(out, env_mode ? "RACE_DENIED" : "DENY-ARG"))
		r->ran_denied++;
	else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		r->killed++;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
		r->refused++;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		r->ran_ok++;
	else
		r->other++;
}

int main(int argc, char **argv)
{
	struct result r = { 0 };
	long tries = argc > 2 ? atol(argv[2]) : 20000;
	int env_mode;

	if (argc < 2 || (strcmp(argv[1], "argv") && strcmp(argv[1], "env")) || tries <= 0) {
		fprintf(stderr, "usage: race_args argv|env [TRIES]\n");
		return 2;
	}
	env_mode = !strcmp(argv[1], "env");
	okv = env_mode ? "RACE_OKAYED=1" : "OKAY-ARG";
	denv = env_mode ? "RACE_DENIED=1" : "DENY-ARG";
	signal(SIGPIPE, SIG_IGN);
	for (long i = 0; i < tries; i++)
		one_try(env_mode, &r);
	printf("race_args %s: %ld tries, %ld denied value ran, %ld allowed ran, %ld refused, "
	       "%ld killed, %ld other\n", argv[1], tries, r.ran_denied, r.ran_ok, r.refused, r.killed,
	       r.other);
	return r.ran_denied == 0 ? 0 : 1;
}
