/* race_exec — a second thread swaps the program path between an allowed and
 * a denied binary while the first calls execve, TRIES times (one fork per
 * try).  The denied binary prints a marker; success for the attacker = the
 * marker was printed.  With the BPF exec check the kernel kills the process
 * before the denied binary's first instruction.  Exit 0 only with 0
 * successes; 77 (skip) when the BPF guard cannot be loaded here.
 *
 * usage: race_exec [TRIES]   (default 20000; needs root, cgroup v2, BPF) */
#include <pthread.h>
#include <stdatomic.h>

#include "bpf/bpf.h"
#include "../unit/enforce_notify_harness.h"

static const char *POLICY =
	"version: 1\nname: race-exec\nfile_rules:\n"
	"  - name: all\n    paths: [\"/**\"]\n    operations: [\"*\"]\n    decision: allow\n"
	"command_rules:\n"
	"  - name: deny-marker\n    commands: [\"WS/denied\"]\n    decision: deny\n"
	"  - name: rest\n    commands: [\"*\"]\n    decision: allow\n";

static char ws[256], okp[300], denp[300];
static char buf[300] __attribute__((aligned(64)));
static atomic_bool stop;
static long tries = 20000;

static void *flipper(void *a)
{
	(void)a;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		memcpy(buf, denp, strlen(denp) + 1);
		memcpy(buf, okp, strlen(okp) + 1);
	}
	return NULL;
}

struct result { long ran_denied, ran_ok, refused, killed; };

static int child(void *arg)
{
	struct result r = { 0 };
	int out = *(int *)arg;

	for (long i = 0; i < tries; i++) {
		int pp[2];
		if (pipe(pp) < 0)
			return 2;
		pid_t p = fork();
		if (p == 0) {
			pthread_t t;
			close(pp[0]);
			dup2(pp[1], 1);
			memcpy(buf, okp, strlen(okp) + 1);
			pthread_create(&t, NULL, flipper, NULL);
			execve(buf, (char *[]){ "x", "DENIED-RAN", NULL }, (char *[]){ NULL });
			_exit(100);     /* refused */
		}
		close(pp[1]);
		char m[16] = "";
		ssize_t n = read(pp[0], m, sizeof m - 1);
		close(pp[0]);
		int st;
		waitpid(p, &st, 0);
		if (n > 0 && !strncmp(m, "DENIED-RAN", 10))
			r.ran_denied++;
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			r.killed++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 100)
			r.refused++;
		else
			r.ran_ok++;
	}
	return write(out, &r, sizeof r) == sizeof r ? 0 : 3;
}

static int cg2_root(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		char mnt[512];
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(out, len, "%s", mnt);
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

static void copy(const char *from, const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp %s %s && chmod 755 %s", from, to, to);
	if (system(cmd) != 0)
		exit(2);
}

int main(int argc, char **argv)
{
	char root[512], cg[700];
	int pp[2];
	struct result r = { -1, -1, -1, -1 };

	if (argc > 1)
		tries = atol(argv[1]);
	if (geteuid() != 0) {
		printf("race_exec needs root (cgroups, BPF)\n");
		return 77;
	}
	if (cg2_root(root, sizeof root) < 0) {
		printf("SKIP: no cgroup2 mount for the BPF exec check\n");
		return 77;
	}
	snprintf(cg, sizeof cg, "%s/agentsh-race-exec-%d", root, (int)getpid());
	if (mkdir(cg, 0755) < 0) {
		printf("SKIP: cannot create %s: %s\n", cg, strerror(errno));
		return 77;
	}
	int cgfd = open(cg, O_RDONLY | O_DIRECTORY);
	struct bpf_guard *g = NULL;
	int rc = bpf_guard_open(cgfd, &g);
	if (rc < 0) {
		rmdir(cg);
		printf("SKIP: the BPF exec check cannot be loaded here: %s\n", strerror(-rc));
		return 77;
	}
	h_mkws(ws, sizeof ws, "race-exec");
	snprintf(okp, sizeof okp, "%s/allowed", ws);
	snprintf(denp, sizeof denp, "%s/denied", ws);
	/* same-length paths, so the flip is a clean swap.  The denied binary
	 * (echo) prints its argument, the marker; the allowed one (true) does not. */
	copy("/usr/bin/true", okp);
	copy("/usr/bin/echo", denp);
	struct policy *p = h_policy(POLICY, ws);
	if (!p || pipe(pp) < 0)
		return 2;
	struct h_opts o = { .bpf = g, .cgroup_dir = cg };
	int code = h_code(h_run(p, child, &pp[1], &o));
	close(pp[1]);
	if (read(pp[0], &r, sizeof r) != sizeof r)
		code = code ? code : 4;
	printf("race_exec: %ld tries, %ld denied binary ran, %ld allowed ran, %ld refused, "
	       "%ld killed by the BPF check\n", tries, r.ran_denied, r.ran_ok, r.refused, r.killed);
	bpf_guard_close(g);
	close(cgfd);
	rmdir(cg);
	h_rmrf(ws);
	policy_free(p);
	return code == 0 && r.ran_denied == 0 ? 0 : 1;
}
