/* bpf guard benchmarks (root, cgroup v2):
 *   1. ring buffer throughput: a process in the guarded cgroup floods denied UDP sendto()s
 *      (one event each) while this process consumes; events/s delivered and lost;
 *   2. exec cost: fork + exec /bin/true from inside a cgroup, without a guard and with one
 *      (the child announces its own exec, as the notifier would, and the kernel verifies it);
 *   3. fork cost with the event programs attached.
 * Usage: bpf_bench [flood_events] [spawns].  Prints "bpf.<metric> <value> <unit>" lines. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bpf/bpf.h"

static char cg_path[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cg_write(const char *file, const char *val)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%s", cg_path, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int cg_enter(void)
{
	char b[32];
	snprintf(b, sizeof b, "%d\n", (int)getpid());
	return cg_write("cgroup.procs", b);
}

static void cg_cleanup(void)
{
	if (!cg_path[0])
		return;
	cg_write("cgroup.kill", "1");
	for (int i = 0; i < 200 && rmdir(cg_path) < 0 && errno == EBUSY; i++)
		usleep(10000);
	cg_path[0] = 0;
}

static struct { long n, lost; } counts;
static void count_cb(void *ctx, const struct bpf_event *e)
{
	(void)ctx;
	if (e->type == BPF_EV_LOST)
		counts.lost += (long)e->lost;
	else
		counts.n++;
}

/* A child in the cgroup sends n denied datagrams as fast as it can. */
static pid_t start_flood(long n)
{
	pid_t p = fork();
	if (p != 0)
		return p;
	if (cg_enter())
		_exit(1);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);
	for (long i = 0; i < n; i++)
		sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof to);
	_exit(0);
}

static void bench_ring(struct bpf_guard *g, long n)
{
	counts.n = counts.lost = 0;
	double t0 = now_s();
	pid_t p = start_flood(n);
	int st, done = 0;
	double t_prod = 0;
	while (!done || bpf_guard_poll(g, 120, count_cb, NULL) > 0) {
		bpf_guard_poll(g, 20, count_cb, NULL);
		if (!done && waitpid(p, &st, WNOHANG) == p) {
			done = 1;
			t_prod = now_s() - t0;
		}
	}
	double t = now_s() - t0;
	printf("bpf.ring_producer_rate %.0f events/s\n", n / t_prod);
	printf("bpf.ring_delivered %ld events (of %ld)\n", counts.n, n);
	printf("bpf.ring_lost %ld events\n", counts.lost);
	printf("bpf.ring_consumer_rate %.0f events/s (incl. 120 ms final idle wait)\n", counts.n / t);
	printf("bpf.ring_cost_per_sendto %.2f us (producer side, event + denial)\n", t_prod * 1e6 / n);
}

/* The driver runs inside the cgroup as a freshly exec'd image (so it does not inherit the
 * guard's ring-buffer mappings, which would make every fork copy them).  For each spawn
 * it forks a child that asks this process (playing the notifier) for a go and execs
 * /bin/true; the notifier announces the exec when a guard is attached.  Both runs pay the
 * same round trip, so the difference is announcement + verification + events. */
static int driver(int n, int do_exec, int rfd, int wfd)
{
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0) {
			if (!do_exec)
				_exit(0);
			pid_t me = getpid();
			char go;
			if (write(wfd, &me, sizeof me) != sizeof me || read(rfd, &go, 1) != 1)
				_exit(2);
			execl("/bin/true", "true", (char *)NULL);
			_exit(3);
		}
		int st;
		waitpid(c, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			return 4;
	}
	double us = (now_s() - t0) * 1e6 / n;
	pid_t end = 0;
	if (write(wfd, &end, sizeof end) != sizeof end || write(wfd, &us, sizeof us) != sizeof us)
		return 5;
	return 0;
}

static int announce(struct bpf_guard *g, pid_t p, const char *path)
{
	struct stat st;
	if (!g)
		return 0;
	if (stat(path, &st) < 0)
		return -errno;
	return bpf_guard_expect_exec(g, p, st.st_dev, st.st_ino, 0, 0);
}

static double run_spawns(struct bpf_guard *g, int n, int do_exec)
{
	int to_drv[2], from_drv[2];
	double us = -1;
	char self[512], a_n[16], a_ex[4], a_r[16], a_w[16], go = 1;
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl < 0 || pipe(to_drv) || pipe(from_drv))
		return -1;
	self[sl] = 0;
	snprintf(a_n, sizeof a_n, "%d", n);
	snprintf(a_ex, sizeof a_ex, "%d", do_exec);
	snprintf(a_r, sizeof a_r, "%d", to_drv[0]);
	snprintf(a_w, sizeof a_w, "%d", from_drv[1]);
	pid_t drv = fork();
	if (drv == 0) {
		if (cg_enter() || read(to_drv[0], &go, 1) != 1)
			_exit(1);
		execl(self, self, "--driver", a_n, a_ex, a_r, a_w, (char *)NULL);
		_exit(1);
	}
	close(to_drv[0]);
	close(from_drv[1]);
	if (announce(g, drv, self) || write(to_drv[1], &go, 1) != 1)
		return -1;
	for (;;) {
		pid_t p;
		if (read(from_drv[0], &p, sizeof p) != sizeof p)
			break;
		if (p == 0) {
			if (read(from_drv[0], &us, sizeof us) != sizeof us)
				us = -1;
			break;
		}
		if (announce(g, p, "/bin/true") || write(to_drv[1], &go, 1) != 1)
			break;
	}
	close(to_drv[1]);
	close(from_drv[0]);
	int st;
	waitpid(drv, &st, 0);
	return us;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return v[n / 2];
}

static void drain(struct bpf_guard *g)
{
	while (bpf_guard_poll(g, 100, count_cb, NULL) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "--driver"))
		return driver(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	long flood = argc > 1 ? atol(argv[1]) : 500000;
	int spawns = argc > 2 ? atoi(argv[2]) : 1000;
	struct bpf_probe_report r;
	if (geteuid() != 0 || bpf_probe(&r) || !r.guard_usable) {
		printf("SKIP: bpf_bench needs root and a kernel where the bpf guard loads\n");
		return 77;
	}
	snprintf(cg_path, sizeof cg_path, "%s/agentsh-bench-bpf-%d", r.cgroup2_mount, (int)getpid());
	if (mkdir(cg_path, 0755) < 0) {
		fprintf(stderr, "bpf_bench: cannot create %s: %s\n", cg_path, strerror(errno));
		return 1;
	}
	atexit(cg_cleanup);
	int cgfd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* What every session pays up front (every `agentsh -c`). */
	double op[9], cl[9];
	for (int i = 0; i < 9; i++) {
		struct bpf_guard *t;
		double t0 = now_s();
		if (bpf_guard_open(cgfd, &t))
			return 1;
		double t1 = now_s();
		bpf_guard_close(t);
		op[i] = (t1 - t0) * 1e3;
		cl[i] = (now_s() - t1) * 1e3;
	}
	printf("bpf.guard_open %.2f ms (median of 9: open the pinned programs, register, attach)\n", median(op, 9));
	printf("bpf.guard_close %.2f ms\n", median(cl, 9));

	/* The VM is noisy: alternate guard off/on over several rounds and report medians. */
	enum { ROUNDS = 7 };
	double be[ROUNDS], bf[ROUNDS], ge[ROUNDS], gf[ROUNDS];
	struct bpf_guard *g = NULL;
	int per = spawns / ROUNDS > 0 ? spawns / ROUNDS : 1;
	for (int i = 0; i < ROUNDS; i++) {
		be[i] = run_spawns(NULL, per, 1);
		bf[i] = run_spawns(NULL, per, 0);
		int err = bpf_guard_open(cgfd, &g);
		if (err) {
			fprintf(stderr, "bpf_bench: bpf_guard_open: %s\n", strerror(-err));
			return 1;
		}
		ge[i] = run_spawns(g, per, 1);
		gf[i] = run_spawns(g, per, 0);
		drain(g);
		if (counts.lost) {
			fprintf(stderr, "bpf_bench: %ld events lost during spawns\n", counts.lost);
			return 1;
		}
		if (i < ROUNDS - 1)
			bpf_guard_close(g);
	}
	double base_exec = median(be, ROUNDS), base_fork = median(bf, ROUNDS);
	double guard_exec = median(ge, ROUNDS), guard_fork = median(gf, ROUNDS);
	printf("bpf.spawn_exec_no_guard %.1f us/spawn (median of %d rounds x %d)\n", base_exec, ROUNDS, per);
	printf("bpf.spawn_exec_guard %.1f us/spawn (announce + verify + exec/fork/exit events)\n", guard_exec);
	printf("bpf.spawn_exec_ratio %.3f\n", guard_exec / base_exec);
	printf("bpf.fork_no_guard %.1f us/fork\n", base_fork);
	printf("bpf.fork_guard %.1f us/fork (fork + exit events)\n", guard_fork);
	bench_ring(g, flood);
	bpf_guard_close(g);
	close(cgfd);
	return 0;
}
