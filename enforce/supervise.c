/* supervise.c — hands each spawn's seccomp listener to the notify supervisor
 * (enforce-notify's module, notify_int.h).
 *
 * The parent takes the listener out of the child with pidfd_getfd() instead of
 * the child sending it with SCM_RIGHTS: once the filter is loaded, sendmsg is
 * itself a notified syscall, and nobody would be listening yet. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "enforce/notify_int.h"

static void fill_cfg(struct enforce_session *s, struct notify_cfg *c, char *rel, size_t reln,
		     pid_t *prot)
{
	memset(c, 0, sizeof *c);
	c->policy = s->cfg.policy;
	c->account = s->cfg.account;
	c->session_id = s->session_id;
	/* /proc/PID/cgroup shows the path relative to the cgroup2 mount */
	snprintf(rel, reln, "%s", s->cg.path + strlen(s->cg.root));
	c->cgroup_rel = rel;
	size_t np = 0;
	if (s->watch_pid > 0)
		prot[np++] = s->watch_pid;
	c->protected_pids = prot;
	c->nprotected = np;
	c->bpf = s->bpf;
	c->bpf_net = s->bpf_net;
	c->allow_degraded = s->cfg.allow_degraded;
	c->audit = s->cfg.audit;
	c->approvals = s->cfg.approvals;
	c->notice = s->cfg.hooks.notice;
	c->hook_ctx = s->cfg.hooks.ctx;
	memcpy(c->held_tty, s->held_tty, sizeof c->held_tty);
	c->nheld_tty = s->nheld_tty;
}

int enf_notify_attach(struct enforce_session *s, int pidfd, pid_t pid, int child_fd)
{
	if (s->nnotify >= ENF_MAX_SPAWNS)
		return enf_fail(s, -EMFILE, "more than %d sandboxed spawns in one session", ENF_MAX_SPAWNS);
	int lfd = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	if (lfd < 0)
		return enf_fail(s, -errno, "cannot take the seccomp listener from pid %d: %s", (int)pid,
				strerror(errno));
	/* ADDFD is what makes emulated opens race-free: without it, refuse */
	struct seccomp_notif_addfd probe = { .id = 0x5eed };
	if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &probe) == 0 || errno != ENOENT) {
		close(lfd);
		return enf_fail(s, -ENOSYS, "SECCOMP_IOCTL_NOTIF_ADDFD is not available (Linux 5.9+ needed): "
				"opens cannot be emulated without a TOCTOU race; refusing to start");
	}
	if (s->seccomp_sync_wakeup &&
	    ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		s->seccomp_sync_wakeup = false;   /* a cost, not a hole: doctor reports it */
	struct notify_cfg c;
	char rel[PATH_MAX];
	pid_t prot[2];
	fill_cfg(s, &c, rel, sizeof rel, prot);
	struct notify *n = NULL;
	int rc = enforce_notify_start(&c, lfd, &n);   /* owns lfd from here on */
	if (rc < 0)
		return enf_fail(s, rc, "cannot start the seccomp notify supervisor: %s%s", strerror(-rc),
				rc == -ENOSYS ? " (the supervisor is not built in)" : "");
	pthread_mutex_lock(&s->lock);
	s->notify[s->nnotify++] = n;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void enf_notify_stop_all(struct enforce_session *s)
{
	for (size_t i = 0; i < s->nnotify; i++)
		enforce_notify_stop(s->notify[i]);
	s->nnotify = 0;
}
