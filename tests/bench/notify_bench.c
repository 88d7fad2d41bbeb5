/* notify_bench — cost of the seccomp user-notify supervisor.
 *
 *  1. per notified syscall: an emulated open(O_WRONLY) under the real
 *     supervisor (ADDFD) against the same open without a filter, and a
 *     read-only open that the filter keeps in the kernel;
 *  2. file-heavy workload (create, write, read, stat, delete 10,000 files)
 *     through `agentsh -c` against the same account without agentsh, with a
 *     policy that only notifies writes and with one whose glob read-deny makes
 *     every open go to the supervisor;
 *  3. git init/add/commit of 1,000 files, sandboxed against unsandboxed.
 * Prints ratios.  Needs root (it creates a throw-away account); otherwise
 * only part 1 cannot run and everything is skipped with a reason.
 *
 * usage: notify_bench            (all)
 *        notify_bench --workload DIR N   (the file workload itself) */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../unit/enforce_notify_harness.h"

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* ---- the file workload (runs inside or outside the sandbox) ---- */
static int workload(const char *dir, int n)
{
	char p[4096], buf[4096];
	memset(buf, 'x', sizeof buf);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/f%05d", dir, i);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, buf, 1024) != 1024)
			return 1;
		close(fd);
	}
	for (int i = 0; i < n; i++) {
		struct stat st;
		snprintf(p, sizeof p, "%s/f%05d", dir, i);
		int fd = open(p, O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof buf) != 1024 || stat(p, &st) < 0)
			return 2;
		close(fd);
	}
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof p, "%s/f%05d", dir, i);
		if (unlink(p) < 0)
			return 3;
	}
	return 0;
}

/* ---- part 1: per-call cost ---- */
static char wpath[512];
static int calls = 20000;

static double loop_open(int flags)
{
	double t0 = now_us();
	for (int i = 0; i < calls; i++) {
		int fd = open(wpath, flags);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return (now_us() - t0) / calls;
}

static int c_percall(void *a)
{
	int out = *(int *)a;
	double r[2] = { loop_open(O_WRONLY), loop_open(O_RDONLY) };
	return write(out, r, sizeof r) == sizeof r ? 0 : 1;
}

static void percall(void)
{
	char ws[256];
	int pp[2];
	h_mkws(ws, sizeof ws, "bench");
	snprintf(wpath, sizeof wpath, "%s/f", ws);
	int fd = open(wpath, O_WRONLY | O_CREAT, 0666);
	fchmod(fd, 0666);
	close(fd);
	struct policy *p = h_policy("version: 1\nname: b\nfile_rules:\n  - name: ws\n"
				    "    paths: [\"WS/**\"]\n    operations: [\"*\"]\n    decision: allow\n", ws);
	double bare_w = loop_open(O_WRONLY), bare_r = loop_open(O_RDONLY);
	double r[2] = { -1, -1 };
	if (p && pipe(pp) == 0) {
		struct h_opts o = { .rule_flags = NOTIFY_RULES_NO_READS };
		h_run(p, c_percall, &pp[1], &o);
		if (o.stats.notifications)
			printf("  supervisor: %llu notifications, %.1f us each in the handler (the rest is the "
			       "kernel round trip and scheduling)\n", (unsigned long long)o.stats.notifications,
			       o.stats.handle_ns / 1000.0 / o.stats.notifications);
		close(pp[1]);
		if (read(pp[0], r, sizeof r) != sizeof r)
			r[0] = r[1] = -1;
		close(pp[0]);
	}
	printf("open+close, %d calls: bare write-open %.1f us, read-open %.1f us\n", calls, bare_w, bare_r);
	printf("  under the supervisor: emulated write-open %.1f us (%.1fx, +%.1f us per notified "
	       "syscall), read-open kept in the kernel %.1f us (%.2fx)\n",
	       r[0], r[0] / bare_w, r[0] - bare_w, r[1], r[1] / bare_r);
	policy_free(p);
	h_rmrf(ws);
}

/* ---- parts 2 and 3: workloads through agentsh -c ---- */
static const char *user = "agsh_nbench";
static char agentsh[1024], self[1024];

static double run_cmd(char *const argv[])
{
	pid_t pid;
	int st;
	double t0 = now_us();
	if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	waitpid(pid, &st, 0);
	double t = now_us() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "  (command failed: status %d: %s ... %s)\n", st, argv[0], argv[6] ? argv[6] : "");
		return -1;
	}
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Rounds of (unsandboxed, sandboxed) in turn: the disk here (ext4 with
 * online discard) makes one 10,000-file run take 0.4 s or 7 s, so separate
 * best-of runs compared different moments.  The ratio printed is the median
 * of the rounds' own ratios, with their range. */
static void compare(const char *what, const char *pol, const char *dir, const char *cmd)
{
	char sh[4096];
	/* the unsandboxed run gets the account's HOME too, as --user gives it
	 * (setpriv keeps root's: git warned about /root/.config on every run) */
	struct passwd *pw = getpwnam(user);
	snprintf(sh, sizeof sh, "export HOME='%s'; cd %s && %s", pw ? pw->pw_dir : "/", dir, cmd);
	char *plain[] = { "/usr/bin/setpriv", "--reuid", (char *)user, "--regid", (char *)user,
			  "--init-groups", "/bin/sh", "-c", sh, NULL };
	char *sbx[] = { agentsh, "--no-config", "--policy", (char *)pol, "--user", (char *)user, "-c",
			sh, NULL };
	int n = getenv("BENCH_WORKLOAD_ROUNDS") ? atoi(getenv("BENCH_WORKLOAD_ROUNDS")) : 5;
	if (n < 1 || n > 100)
		n = 5;
	double a[100], b[100], r[100];
	for (int i = 0; i < n; i++) {
		a[i] = run_cmd(plain);
		b[i] = a[i] < 0 ? -1 : run_cmd(sbx);
		if (a[i] < 0 || b[i] < 0) {
			printf("%-48s failed (see above)\n", what);
			return;
		}
		r[i] = b[i] / a[i];
	}
	double ma = median(a, n), mb = median(b, n), mr = median(r, n);
	printf("%-48s unsandboxed %8.1f ms  sandboxed %8.1f ms  ratio %.2fx (rounds %.2f-%.2f, n=%d)\n",
	       what, ma / 1000, mb / 1000, mr, r[0], r[n - 1], n);
}

static void workloads(void)
{
	char base[256], ws[300], pw[400], pr[400], cmd[2048];
	snprintf(base, sizeof base, "/tmp/agentsh-nbench-%d", (int)getpid());
	snprintf(ws, sizeof ws, "%s/ws", base);
	mkdir(base, 0755);
	mkdir(ws, 0755);
	snprintf(cmd, sizeof cmd, "id %s >/dev/null 2>&1 || useradd -m %s >/dev/null 2>&1; chown %s %s",
		 user, user, user, ws);
	if (system(cmd) != 0) {
		printf("workloads skipped: cannot create the account %s\n", user);
		return;
	}
	/* the workload binary must be executable by the account */
	snprintf(cmd, sizeof cmd, "cp %s %s/nb && chmod 755 %s/nb", self, base, base);
	if (system(cmd) != 0)
		return;
	snprintf(pw, sizeof pw, "%s/writes.yaml", base);
	snprintf(pr, sizeof pr, "%s/reads.yaml", base);
	const char *common =
		"command_rules:\n  - name: all\n    commands: [\"*\"]\n    decision: allow\n"
		"file_rules:\n%s  - name: all\n    paths: [\"/**\"]\n    operations: [\"*\"]\n"
		"    decision: allow\n";
	FILE *f = fopen(pw, "w");
	fprintf(f, "version: 1\nname: bench-writes\n");
	fprintf(f, common, "");
	fclose(f);
	f = fopen(pr, "w");
	fprintf(f, "version: 1\nname: bench-reads\n");
	fprintf(f, common, "  - name: no-secrets\n    paths: [\"/**/*.secret\"]\n    operations: [\"*\"]\n"
			   "    decision: deny\n");
	fclose(f);

	snprintf(cmd, sizeof cmd, "%s/nb --workload %s 10000", base, ws);
	compare("10,000 files create/read/stat/delete (writes)", pw, ws, cmd);
	compare("10,000 files create/read/stat/delete (reads gated)", pr, ws, cmd);
	if (access("/usr/bin/git", X_OK) == 0) {
		snprintf(cmd, sizeof cmd,
			 "rm -rf g && mkdir g && cd g && i=0; while [ $i -lt 1000 ]; do echo $i > f$i; "
			 "i=$((i+1)); done; git init -q . && git -c user.name=b -c user.email=b@b add . && "
			 "git -c user.name=b -c user.email=b@b commit -qm x");
		compare("git init/add/commit of 1,000 files (writes)", pw, ws, cmd);
		compare("git init/add/commit of 1,000 files (reads gated)", pr, ws, cmd);
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s; userdel -r %s >/dev/null 2>&1", base, user);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", base);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--workload"))
		return workload(argv[2], atoi(argv[3]));
	if (geteuid() != 0) {
		printf("notify_bench: SKIP (needs root: the supervisor and a throw-away account)\n");
		return 0;
	}
	if (readlink("/proc/self/exe", self, sizeof self - 1) < 0)
		return 1;
	snprintf(agentsh, sizeof agentsh, "%s", self);
	char *b = strstr(agentsh, "/tests/bench/");
	if (b)
		strcpy(b, "/agentsh");
	if (getenv("NOTIFY_BENCH_CALLS"))
		calls = atoi(getenv("NOTIFY_BENCH_CALLS"));
	percall();
	if (getenv("NOTIFY_BENCH_PERCALL_ONLY"))
		return 0;
	if (access(agentsh, X_OK) == 0)
		workloads();
	else
		printf("workloads skipped: %s not built\n", agentsh);
	return 0;
}
