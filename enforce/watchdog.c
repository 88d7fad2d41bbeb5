/* watchdog.c — fail closed when the supervisor dies.
 *
 * PR_SET_PDEATHSIG reaches only the delegate (it is cleared on fork), and the
 * notify fd closing only makes *notified* syscalls fail with ENOSYS.  So each
 * session has a watchdog: a tiny process outside the session (own session id, so
 * terminal signals do not reach it; root-owned, so the sandbox cannot signal it)
 * that holds the read end of a pipe whose write end only the supervisor holds.
 * When the supervisor dies for any reason — SIGKILL included — the pipe reads EOF
 * and the watchdog writes cgroup.kill, waits for the tree to be gone and removes
 * the cgroups.  The watchdog never parses anything from the sandbox. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

static void watchdog_main(struct enforce_session *s, int rfd)
{
	/* keep only the pipe and the cgroup directory */
	int keep_lo = rfd < s->cg.dirfd ? rfd : s->cg.dirfd;
	int keep_hi = rfd < s->cg.dirfd ? s->cg.dirfd : rfd;
	close_range(0, keep_lo - 1, 0);
	if (keep_hi > keep_lo + 1)
		close_range(keep_lo + 1, keep_hi - 1, 0);
	close_range(keep_hi + 1, ~0U, 0);
	int null = open("/dev/null", O_RDWR);   /* fd 0: stdio must not be a live tty */
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	setsid();
	prctl(PR_SET_NAME, "agentsh-watch");
	prctl(PR_SET_DUMPABLE, 0);
	for (int sig = 1; sig < 32; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_IGN);

	char b;
	for (;;) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno == EINTR)
			continue;
		ssize_t n = read(rfd, &b, 1);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	/* the supervisor is gone or finished: make sure nothing of the session runs */
	enf_cg_destroy(&s->cg);
	_exit(0);
}

/* Watchdogs told to stop but not yet reaped.  Waiting for one to exit cost
 * ~1 ms on the way to agentsh -c's exit status (it wakes, finds the cgroups
 * already removed by the supervisor, and tears down a forked copy of our
 * address space); nothing depends on its exit, so it is reaped later: at the
 * next start or stop, or with a blocking wait when the list is full, which
 * bounds the zombies a long-lived process can hold. */
#define WD_PENDING 16
static pthread_mutex_t wd_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t wd_pending[WD_PENDING];

static void reap_pending(void)
{
	for (int i = 0; i < WD_PENDING; i++)
		if (wd_pending[i] > 0 && (waitpid(wd_pending[i], NULL, WNOHANG) != 0))
			wd_pending[i] = 0;      /* reaped, or not ours any more (ECHILD) */
}

/* Remember pid for a later reap; false when the list is full. */
static bool defer_reap(pid_t pid)
{
	for (int i = 0; i < WD_PENDING; i++)
		if (wd_pending[i] <= 0) {
			wd_pending[i] = pid;
			return true;
		}
	return false;
}

int enf_watchdog_start(struct enforce_session *s)
{
	int p[2];
	pthread_mutex_lock(&wd_mu);
	reap_pending();
	pthread_mutex_unlock(&wd_mu);
	if (pipe2(p, O_CLOEXEC) < 0)
		return enf_fail(s, -errno, "cannot create the watchdog pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return enf_fail(s, -e, "cannot fork the session watchdog: %s", strerror(e));
	}
	if (pid == 0) {
		close(p[1]);
		watchdog_main(s, p[0]);
	}
	close(p[0]);
	s->watch_fd = p[1];
	s->watch_pid = pid;
	return 0;
}

/* Called after the supervisor removed the cgroups itself: closing the pipe
 * only lets the watchdog go (its own removal finds nothing left to do). */
void enf_watchdog_stop(struct enforce_session *s)
{
	if (s->watch_fd >= 0)
		close(s->watch_fd);
	s->watch_fd = -1;
	if (s->watch_pid > 0) {
		pthread_mutex_lock(&wd_mu);
		reap_pending();
		/* != 0: reaped now, or not ours to reap (ECHILD) */
		bool done = waitpid(s->watch_pid, NULL, WNOHANG) != 0 || defer_reap(s->watch_pid);
		pthread_mutex_unlock(&wd_mu);
		if (!done)
			while (waitpid(s->watch_pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	s->watch_pid = 0;
}
