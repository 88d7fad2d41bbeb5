/* enforce_notify_harness.h — run a function in a real seccomp sandbox
 * supervised by enforce-notify (no mocks: real filter, real notifications,
 * real file system).  Included by tests/unit/enforce_notify_*.c only.
 *
 * The child drops to an unprivileged uid (nobody) before loading the filter,
 * so every emulated operation must carry the target's identity, not ours. */
#ifndef ENFORCE_NOTIFY_HARNESS_H
#define ENFORCE_NOTIFY_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/notify_int.h"
#include "policy/policy.h"

#define H_UID 65534
#define H_GID 65534

struct h_log {
	char lines[64][1024];
	int n;
	pthread_mutex_t lock;
};

static struct h_log h_notices = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void h_notice(void *ctx, const char *line)
{
	(void)ctx;
	if (getenv("H_DEBUG"))
		fprintf(stderr, "notice: %s\n", line);
	pthread_mutex_lock(&h_notices.lock);
	if (h_notices.n < 64)
		snprintf(h_notices.lines[h_notices.n++], sizeof h_notices.lines[0], "%s", line);
	pthread_mutex_unlock(&h_notices.lock);
}

static inline bool h_noticed(const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&h_notices.lock);
	for (int i = 0; i < h_notices.n; i++)
		if (strstr(h_notices.lines[i], needle))
			found = true;
	pthread_mutex_unlock(&h_notices.lock);
	return found;
}

static inline void h_clear(void)
{
	pthread_mutex_lock(&h_notices.lock);
	h_notices.n = 0;
	pthread_mutex_unlock(&h_notices.lock);
}

/* Replace every "WS" in tmpl by ws. */
static inline char *h_subst(const char *tmpl, const char *ws)
{
	size_t cap = strlen(tmpl) * 4 + strlen(ws) * 64 + 1;
	char *out = malloc(cap), *o = out;

	for (const char *s = tmpl; *s;) {
		if (s[0] == 'W' && s[1] == 'S') {
			o += sprintf(o, "%s", ws);
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = 0;
	return out;
}

static inline struct policy *h_policy(const char *tmpl, const char *ws)
{
	struct policy_vars v = { .home = ws, .workspace = ws, .project_root = ws, .tmpdir = "/tmp",
				 .user = "nobody" };
	struct policy_diags d;
	struct policy *p = NULL;
	char *y = h_subst(tmpl, ws);

	policy_diags_init(&d);
	if (policy_load_buffer(y, strlen(y), "<test>", &v, &p, &d) < 0) {
		policy_diags_print(&d, stderr);
		p = NULL;
	}
	policy_diags_free(&d);
	free(y);
	return p;
}

struct h_opts {
	unsigned rule_flags;
	bool as_root;                   /* keep uid 0 in the child */
	struct bpf_guard *bpf;
	const char *trash_dir;
	const char *cgroup_rel;
	const char *cgroup_dir;         /* the child joins this cgroup v2 directory */
	struct approve_broker *approvals;
	/* Called in the parent after the fork, before supervision starts: a
	 * case that needs threads (an approval broker, a resolver) starts them
	 * here, because a fork while another thread holds the allocator's lock
	 * leaves the child's malloc locked forever (seen with ASan). */
	void (*after_fork)(struct h_opts *o, void *ctx);
	void *after_fork_ctx;
	struct notify_stats stats;      /* out */
};

/* Run fn(arg) in a forked child under the filter; returns its wait status. */
static inline int h_run(const struct policy *p, int (*fn)(void *), void *arg, struct h_opts *o)
{
	int sv[2];
	struct h_opts def = { 0 };

	if (!o)
		o = &def;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (o->cgroup_dir) {
			char cp[PATH_MAX];
			snprintf(cp, sizeof cp, "%s/cgroup.procs", o->cgroup_dir);
			int cfd = open(cp, O_WRONLY);
			if (cfd < 0 || write(cfd, "0", 1) != 1)
				_exit(206);
			close(cfd);
		}
		if (!o->as_root) {
			gid_t g = H_GID;
			if (setgroups(1, &g) < 0 || setresgid(H_GID, H_GID, H_GID) < 0 ||
			    setresuid(H_UID, H_UID, H_UID) < 0)
				_exit(200);
		}
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(201);
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx || enforce_notify_add_rules_ex(ctx, p, o->rule_flags) < 0)
			_exit(202);
		if (seccomp_load(ctx) < 0)
			_exit(203);
		int lfd = seccomp_notify_fd(ctx);
		/* sendmsg is notified and nobody supervises yet: tell the parent
		 * the fd number with write(); it takes the fd with pidfd_getfd. */
		if (lfd < 0 || write(sv[1], &lfd, sizeof lfd) != sizeof lfd)
			_exit(204);
		char go;
		if (read(sv[1], &go, 1) != 1)
			_exit(205);
		_exit(fn(arg));
	}
	close(sv[1]);
	if (o->after_fork)
		o->after_fork(o, o->after_fork_ctx);
	int cfd = -1, lfd = -1;
	if (read(sv[0], &cfd, sizeof cfd) == sizeof cfd) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd >= 0) {
			lfd = (int)syscall(SYS_pidfd_getfd, pfd, cfd, 0);
			close(pfd);
		}
	}
	struct notify *n = NULL;
	gid_t g = H_GID;
	struct notify_cfg cfg = {
		.policy = p,
		.account = { .uid = o->as_root ? 0 : H_UID, .gid = o->as_root ? 0 : H_GID,
			     .groups = &g, .ngroups = o->as_root ? 0 : 1, .name = "nobody" },
		.session_id = "test-session",
		.cgroup_rel = o->cgroup_rel,
		.bpf = o->bpf,
		.allow_degraded = true,
		.notice = h_notice,
		.trash_dir = o->trash_dir,
		.approvals = o->approvals,
	};
	int status = -1;
	if (lfd >= 0) {
		unsigned long fl = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
		ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, fl);
	}
	if (lfd < 0 || enforce_notify_start(&cfg, lfd, &n) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		close(sv[0]);
		return -1;
	}
	if (write(sv[0], "g", 1) != 1)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	enforce_notify_stats(n, &o->stats);
	enforce_notify_stop(n);
	close(sv[0]);
	return status;
}

/* exit code of the child, or 1000 + signal */
static inline int h_code(int status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 1000 + WTERMSIG(status);
}

/* A world-writable scratch workspace. */
static inline void h_mkws(char *ws, size_t len, const char *tag)
{
	snprintf(ws, len, "/tmp/agentsh-notify-%s-XXXXXX", tag);
	if (!mkdtemp(ws))
		abort();
	chmod(ws, 0777);
}

static inline void h_rmrf(const char *path)
{
	char cmd[PATH_MAX + 32];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", path);
}

#endif
