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
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

/* An fd above stdio: watchdog_detach() points 0-2 at /dev/null. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return n < 0 ? fd : n;
}

/* Outside the session, deaf to signals, holding nothing but its channel (and, once
 * told, the session cgroup).  Both kept fds are above stdio (above_stdio()). */
static void watchdog_detach(int keep1, int keep2)
{
	int lo = keep1 < keep2 || keep2 < 0 ? keep1 : keep2;
	int hi = keep1 < keep2 || keep2 < 0 ? keep2 : keep1;
	if (hi < 0)
		hi = lo;
	close_range(0, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
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
}

/* Until the supervisor's end closes (it finished, or died: SIGKILL included). */
static void wait_eof(int fd)
{
	char b;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno == EINTR)
			continue;
		ssize_t n = read(fd, &b, 1);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
}

static void watchdog_main(struct enforce_session *s, int rfd)
{
	/* agentsh may have been started with stdio closed: then these could be 0-2 */
	rfd = above_stdio(rfd);
	s->cg.dirfd = above_stdio(s->cg.dirfd);
	watchdog_detach(rfd, s->cg.dirfd);
	wait_eof(rfd);
	/* the supervisor is gone or finished: make sure nothing of the session runs */
	enf_cg_destroy(&s->cg);
	_exit(0);
}

/* ---- the watchdog forked ahead of time ----
 *
 * Forking the supervisor once its session is built copied the page tables of ~20 MB of
 * heap, libraries and maps (~0.4-0.7 ms), and left every page shared copy-on-write with a
 * process that never writes: each later first write of the supervisor to a page took a
 * fault, a copy and a TLB shootdown.  enforce_watchdog_prefork() forks it from the small
 * process main() starts as; the session later hands it its cgroup over a socket. */
struct wd_msg {
	struct enf_cgroup cg;
};

static pid_t pre_pid = -1;
static int pre_fd = -1;

static void prefork_main(int sock)
{
	sock = above_stdio(sock);       /* agentsh may have been started with stdio closed */
	watchdog_detach(sock, -1);
	struct wd_msg m;
	int dirfd = -1;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof cbuf };
	ssize_t n;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof m)
		_exit(0);       /* no session was started (or it failed before its cgroup) */
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&dirfd, CMSG_DATA(c), sizeof dirfd);
	/* the numbers in the message are the supervisor's: only the paths and the
	 * passed directory mean anything here */
	m.cg.root[sizeof m.cg.root - 1] = m.cg.path[sizeof m.cg.path - 1] = 0;
	if (m.cg.nv1 > ENF_V1_MAX)
		m.cg.nv1 = ENF_V1_MAX;
	for (size_t i = 0; i < m.cg.nv1; i++) {
		m.cg.v1[i].tasks_fd = -1;
		m.cg.v1[i].path[sizeof m.cg.v1[i].path - 1] = 0;
	}
	/* without the directory there would be no cgroup.kill, only rmdirs that
	 * fail while the session runs: open it by its (root-only) path instead */
	if (dirfd < 0 && m.cg.path[0])
		dirfd = open(m.cg.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	m.cg.dirfd = dirfd;
	wait_eof(sock);
	enf_cg_destroy(&m.cg);
	_exit(0);
}

int enforce_watchdog_prefork(void)
{
	int sv[2];
	if (pre_pid > 0)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		close(sv[0]);
		prefork_main(sv[1]);
	}
	close(sv[1]);
	pre_fd = sv[0];
	pre_pid = pid;
	return 0;
}

/* Hand the session's cgroup to the preforked watchdog; false if there is none (or it is
 * gone: then the caller forks one, as if none had been made). */
static bool use_preforked(struct enforce_session *s)
{
	if (pre_pid <= 0)
		return false;
	int fd = pre_fd;
	pid_t pid = pre_pid;
	pre_fd = -1;
	pre_pid = -1;
	struct wd_msg *m = calloc(1, sizeof *m);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof cbuf };
	bool ok = m != NULL;
	if (ok) {
		m->cg = s->cg;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s->cg.dirfd, sizeof(int));
		ok = sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof *m;
	}
	free(m);
	if (!ok) {
		close(fd);      /* it exits on EOF; reaped with the others */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return false;
	}
	s->watch_fd = fd;
	s->watch_pid = pid;
	return true;
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
	if (use_preforked(s))
		return 0;
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
