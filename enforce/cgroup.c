/* cgroup.c — the session's cgroup v2 directory: found at run time, created per
 * session, killed as a whole (cgroup.kill), waited empty and removed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

/* mountinfo escapes blanks as \040 etc.; decode in place. */
static void unescape_octal(char *p)
{
	char *w = p;
	for (; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
}

int enf_mountinfo_point(char *line, char *out, size_t n)
{
	char *save = NULL, *tok = strtok_r(line, " ", &save);
	for (int i = 1; tok && i < 5; i++)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -EINVAL;
	unescape_octal(tok);
	if (strlen(tok) >= n)
		return -ENAMETOOLONG;
	strcpy(out, tok);
	return 0;
}

/* First cgroup2 mount in /proc/self/mountinfo (not a fixed path: it is
 * /sys/fs/cgroup on systemd hosts and /sys/fs/cgroup/unified on hybrid ones). */
int enf_cg2_root(char *out, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		rc = enf_mountinfo_point(line, out, n);
		if (rc != -EINVAL)
			break;
		rc = -ENOENT;
	}
	free(line);
	fclose(f);
	return rc;
}

/* A session id becomes a directory name: no '/', no dot-only names, bounded. */
int enf_cg_valid_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 64 || id[0] == '.')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("-_.", id[i]))
			return -EINVAL;
	return 0;
}

static int write_str(int dirfd, const char *file, const char *val)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int e = w < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* Sessions live in <cgroup2 root>/agentsh/<session id>. */
#define SESSIONS_DIR "agentsh"

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

/* In a session's cgroup: only root creates them (enf_cg_create) and only a
 * session's delegate is moved there, so a process outside a session cannot
 * pass for one inside. */
static bool in_session_cgroup(void)
{
	static const char pre[] = "0::/" SESSIONS_DIR "/";
	char line[512];
	bool yes = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, pre, sizeof pre - 1)) {
			yes = line[sizeof pre - 1] && line[sizeof pre - 1] != '\n';
			break;
		}
	fclose(f);
	return yes;
}

bool enforce_inside_session(void)
{
	return confined() && in_session_cgroup();
}

int enf_cg_create(struct enforce_session *s)
{
	struct enf_cgroup *cg = &s->cg;
	char parent[PATH_MAX];
	int rc = enf_cg2_root(cg->root, sizeof cg->root);
	if (rc < 0)
		return enf_fail(s, rc, "no cgroup2 filesystem is mounted (looked in /proc/self/mountinfo); "
				"mount one (mount -t cgroup2 none /sys/fs/cgroup/unified) so sessions can be contained");
	if (snprintf(parent, sizeof parent, "%s/" SESSIONS_DIR, cg->root) >= (int)sizeof parent ||
	    snprintf(cg->path, sizeof cg->path, "%s/%s", parent, s->session_id) >= (int)sizeof cg->path)
		return enf_fail(s, -ENAMETOOLONG, "cgroup path under %s is too long", cg->root);
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return enf_fail(s, -errno, "cannot create cgroup %s: %s (agentsh needs root to build the sandbox)",
				parent, strerror(errno));
	if (mkdir(cg->path, 0755) < 0)
		return enf_fail(s, -errno, "cannot create cgroup %s: %s%s", cg->path, strerror(errno),
				errno == EEXIST ? " (a session with this id is running, or a stale one was left: "
						  "rmdir it)" : "");
	cg->created = true;
	cg->dirfd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->dirfd < 0)
		return enf_fail(s, -errno, "cannot open cgroup %s: %s", cg->path, strerror(errno));
	return 0;
}

int enf_cg_kill(const struct enf_cgroup *cg)
{
	if (cg->dirfd < 0)
		return -EBADF;
	return write_str(cg->dirfd, "cgroup.kill", "1");
}

static int populated(int dirfd)
{
	char buf[256];
	int fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	char *p = strstr(buf, "populated ");
	return p ? p[10] == '1' : -EIO;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* cgroup.events signals changes with POLLPRI; re-read after each wakeup. */
int enf_cg_wait_empty(const struct enf_cgroup *cg, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	int fd = openat(cg->dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc;
	while ((rc = populated(cg->dirfd)) == 1) {
		long left = end - now_ms();
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		struct pollfd p = { .fd = fd, .events = POLLPRI };
		/* poll at most 50 ms: a missed edge must not cost the whole timeout */
		if (poll(&p, 1, left < 50 ? (int)left : 50) < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
	}
	close(fd);
	return rc < 0 ? rc : 0;
}

int enf_cg_signal(const struct enf_cgroup *cg, int sig)
{
	if (sig == SIGKILL)
		return enf_cg_kill(cg);
	int fd = openat(cg->dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	long pid;
	int rc = 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (kill((pid_t)pid, sig) < 0 && errno != ESRCH)
			rc = -errno;
	fclose(f);
	return rc;
}

void enf_cg_destroy(struct enf_cgroup *cg)
{
	if (cg->dirfd >= 0) {
		enf_cg_kill(cg);
		enf_cg_wait_empty(cg, 5000);
		close(cg->dirfd);
		cg->dirfd = -1;
	}
	for (size_t i = 0; i < cg->nv1; i++) {
		if (cg->v1[i].tasks_fd >= 0)
			close(cg->v1[i].tasks_fd);
		cg->v1[i].tasks_fd = -1;
		/* the tasks died with the v2 kill; v1 dirs empty out at the same time */
		for (int t = 0; t < 100 && rmdir(cg->v1[i].path) < 0 && errno == EBUSY; t++)
			usleep(10000);
	}
	cg->nv1 = 0;
	if (cg->created) {
		for (int t = 0; t < 100 && rmdir(cg->path) < 0 && errno == EBUSY; t++)
			usleep(10000);
		cg->created = false;
	}
}
