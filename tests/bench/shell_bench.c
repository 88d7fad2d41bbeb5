/* Start-up benchmarks for the shell, driven by tests/bench/run.sh:
 *   shell_bench run N CMD [ARG...]     median/p10/p90 wall time of N runs of CMD
 *   shell_bench prompt N CMD [ARG...]  time from start to the first prompt of an
 *                                      interactive CMD on a fresh PTY
 *   shell_bench cmp N CMD1... -- CMD2... [-- CMD3...]
 *                                      N rounds, each running every CMD once in
 *                                      turn, so a load change on a shared machine
 *                                      hits all of them alike; one line per CMD
 * Output: one line "median_us=.. p10_us=.. p90_us=.. n=..".  Without
 * arguments it prints its usage and exits 0 (run.sh calls it explicitly). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static long long run_once(char **argv)
{
	long long t0 = now_us();
	pid_t p = fork();
	if (p < 0)
		return -1;
	if (p == 0) {
		int n = open("/dev/null", O_RDWR);
		dup2(n, 0);
		dup2(n, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now_us() - t0;
}

/* Time until the terminal shows something ending in "$ " or "# " (a prompt). */
static long long prompt_once(char **argv)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char buf[65536];
	size_t len = 0;
	int m;
	long long t0 = now_us(), t = -1;
	pid_t p = forkpty(&m, NULL, NULL, &ws);
	if (p < 0)
		return -1;
	if (p == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (now_us() - t0 < 20000000LL) {
		struct pollfd pf = { .fd = m, .events = POLLIN };
		if (poll(&pf, 1, 100) <= 0)
			continue;
		ssize_t n = read(m, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = 0;
		/* strip trailing SGR resets readline may print after the prompt */
		size_t e = len;
		while (e >= 2 && buf[e - 1] != ' ' && buf[e - 1] != '$' && buf[e - 1] != '#')
			e--;
		if (e >= 2 && buf[e - 1] == ' ' && (buf[e - 2] == '$' || buf[e - 2] == '#')) {
			t = now_us() - t0;
			break;
		}
		if (len > sizeof(buf) - 1024)
			len = 0;
	}
	(void)!write(m, "exit\n", 5);
	struct pollfd pf = { .fd = m, .events = POLLIN };
	for (int i = 0; i < 20 && waitpid(p, NULL, WNOHANG) == 0; i++) {
		if (poll(&pf, 1, 50) > 0)
			(void)!read(m, buf, sizeof(buf));
	}
	if (waitpid(p, NULL, WNOHANG) == 0) {
		kill(p, SIGKILL);
		waitpid(p, NULL, 0);
	}
	close(m);
	return t;
}

static void report(long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_ll);
	printf("median_us=%lld p10_us=%lld p90_us=%lld n=%d\n", v[n / 2], v[n / 10], v[(n * 9) / 10], n);
}

#define MAX_CMP 8

static int cmp_main(int n, int argc, char **argv)
{
	char **cmd[MAX_CMP];
	long long *v[MAX_CMP];
	int nc = 0;
	cmd[nc++] = argv;
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			if (nc == MAX_CMP || i + 1 >= argc)
				return 2;
			cmd[nc++] = argv + i + 1;
		}
	for (int c = 0; c < nc; c++)
		if (!(v[c] = calloc((size_t)n, sizeof(long long))))
			return 1;
	for (int i = 0; i < n; i++)
		for (int c = 0; c < nc; c++)
			if ((v[c][i] = run_once(cmd[c])) < 0) {
				fprintf(stderr, "shell_bench: run %d of %s failed\n", i, cmd[c][0]);
				return 1;
			}
	for (int c = 0; c < nc; c++) {
		report(v[c], n);
		free(v[c]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "cmp")) {
		int n = atoi(argv[2]);
		return n < 1 || n > 100000 ? 2 : cmp_main(n, argc - 3, argv + 3);
	}
	if (argc < 4 || (strcmp(argv[1], "run") && strcmp(argv[1], "prompt"))) {
		printf("shell_bench: run by tests/bench/run.sh (usage: shell_bench run|prompt N CMD...)\n");
		return 0;
	}
	int n = atoi(argv[2]);
	if (n < 1 || n > 100000)
		return 2;
	long long *v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return 1;
	for (int i = 0; i < n; i++) {
		v[i] = argv[1][0] == 'r' ? run_once(argv + 3) : prompt_once(argv + 3);
		if (v[i] < 0) {
			fprintf(stderr, "shell_bench: run %d of %s failed\n", i, argv[3]);
			return 1;
		}
	}
	report(v, n);
	free(v);
	return 0;
}
