/* session.c — lifetime of an enforcement session: configuration copy, cgroup,
 * watchdog, per-session precompiled layers, and the error/degraded reporting. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "audit/audit.h"
#include "enforce/enforce_int.h"

int enf_fail(struct enforce_session *s, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	return err < 0 ? err : -EIO;
}

int enf_degrade(struct enforce_session *s, int err, const char *fmt, ...)
{
	char why[ENF_ERRLEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (!s->cfg.allow_degraded) {
		snprintf(s->err, sizeof s->err, "%.800s; refusing to start the session (a root-owned "
			 "configuration may allow degraded operation explicitly)", why);
		return err < 0 ? err : -ENOTSUP;
	}
	pthread_mutex_lock(&s->lock);
	size_t len = strlen(s->degraded);
	if (len + 3 < sizeof s->degraded)
		snprintf(s->degraded + len, sizeof s->degraded - len, "%s%.*s", len ? "; " : "", (int)(sizeof s->degraded - len - 3), why);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static char *dup_or_null(const char *p, bool *oom)
{
	if (!p)
		return NULL;
	char *d = strdup(p);
	if (!d)
		*oom = true;
	return d;
}

static int gid_cmp(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
	return x < y ? -1 : x > y;
}

static int copy_config(struct enforce_session *s, const struct enforce_config *cfg)
{
	bool oom = false;
	s->cfg = *cfg;
	s->session_id = dup_or_null(cfg->session_id, &oom);
	s->workspace = dup_or_null(cfg->workspace, &oom);
	s->acct_name = dup_or_null(cfg->account.name, &oom);
	s->acct_home = dup_or_null(cfg->account.home, &oom);
	if (cfg->account.ngroups) {
		if (cfg->account.ngroups > 65536 || !cfg->account.groups)
			return -EINVAL;
		s->groups = calloc(cfg->account.ngroups, sizeof *s->groups);
		if (!s->groups)
			return -ENOMEM;
		memcpy(s->groups, cfg->account.groups, cfg->account.ngroups * sizeof *s->groups);
		/* the kernel keeps a group list sorted, and the spawned child checks
		 * getgroups() against this one: getgrouplist() puts the primary
		 * group first, so any account with a lower-numbered supplementary
		 * group (audio, sudo, docker...) failed that check */
		qsort(s->groups, cfg->account.ngroups, sizeof *s->groups, gid_cmp);
	}
	s->cfg.session_id = s->session_id;
	s->cfg.workspace = s->workspace;
	s->cfg.account.name = s->acct_name;
	s->cfg.account.home = s->acct_home;
	s->cfg.account.groups = s->groups;
	return oom ? -ENOMEM : 0;
}

static struct enforce_session *session_alloc(void)
{
	struct enforce_session *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->cg.dirfd = -1;
	s->landlock_fd = -1;
	s->watch_fd = -1;
	return s;
}

/* Who may run as whom: root may start a session for any account (like sudo -u);
 * without privilege only our own uid is possible, and the session is degraded. */
static int check_account(struct enforce_session *s)
{
	const struct enforce_account *a = &s->cfg.account;
	s->privileged = geteuid() == 0;
	if (a->uid == 0 || a->gid == 0)
		return enf_fail(s, -EPERM, "refusing to run the session's commands as root (uid %u gid %u%s%s): "
				"use an unprivileged account (agentsh --user NAME)", (unsigned)a->uid,
				(unsigned)a->gid, a->name ? ", account " : "", a->name ? a->name : "");
	if (!s->privileged && (a->uid != getuid() || a->uid != geteuid()))
		return enf_fail(s, -EPERM, "agentsh is not running as root, so it cannot run commands as uid %u; "
				"install it as described in docs/install.md", (unsigned)a->uid);
	return 0;
}

int enforce_session_new(const struct enforce_config *cfg, struct enforce_session **out)
{
	*out = NULL;
	if (!cfg)
		return -EINVAL;
	struct enforce_session *s = session_alloc();
	if (!s)
		return -ENOMEM;
	int rc = copy_config(s, cfg);
	if (rc < 0) {
		enf_fail(s, rc, "invalid session configuration (account groups)");
		goto out;
	}
	if (enf_cg_valid_id(s->session_id) < 0) {
		rc = enf_fail(s, -EINVAL, "invalid session id '%s': use 1-64 letters, digits, '-', '_' or '.'",
			      s->session_id ? s->session_id : "(null)");
		goto out;
	}
	if ((rc = check_account(s)) < 0)
		goto out;
	/* nothing of the session may read our memory or attach to us */
	if (s->privileged && prctl(PR_SET_DUMPABLE, 0) < 0) {
		rc = enf_fail(s, -errno, "cannot make the supervisor non-dumpable: %s", strerror(errno));
		goto out;
	}
	if ((rc = enf_cg_create(s)) < 0) {
		if (s->privileged)
			goto out;
		rc = enf_degrade(s, rc, "no session cgroup (%.800s): processes that leave the delegate are not contained, limited or killed with the session", s->err);
		if (rc < 0)
			goto out;
	}
	if ((rc = enf_layers_prepare(s)) < 0)
		goto out;
	/* after the limits: the watchdog must know every cgroup (v1 limits too) it
	 * has to remove; it only makes raw syscalls, so forking now is safe.
	 * Before the BPF guard, so the fork overlaps its load (layers.c). */
	if (s->cg.dirfd >= 0 && (rc = enf_watchdog_start(s)) < 0)
		goto out;
	if ((rc = enf_layers_finish(s)) < 0)
		goto out;
	if (s->degraded[0] && s->cfg.audit) {
		struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_DEGRADED);
		ev.operation = "session";
		ev.message = s->degraded;
		ev.session_id = s->session_id;
		audit_emit(s->cfg.audit, &ev);
	}
	*out = s;
	return 0;
out:
	/* keep the message for the caller: hand back a session that only reports */
	enf_session_teardown(s);
	*out = s;
	return rc;
}

int enforce_session_signal(struct enforce_session *s, int sig)
{
	if (!s)
		return -EINVAL;
	if (s->cg.dirfd < 0)
		return enf_fail(s, -ESRCH, "session has no cgroup to signal");
	int rc = enf_cg_signal(&s->cg, sig);
	if (rc < 0)
		return enf_fail(s, rc, "cannot send signal %d to session %s: %s", sig, s->session_id,
				strerror(-rc));
	return 0;
}

/* Tear down every kernel object but keep the struct and its message. */
void enf_session_teardown(struct enforce_session *s)
{
	/* the tree dies first, so no notified syscall is left half-answered */
	if (s->cg.dirfd >= 0 && enf_cg_kill(&s->cg) == 0)
		enf_cg_wait_empty(&s->cg, 5000);
	enf_layers_release(s);
	enf_cg_destroy(&s->cg);
	enf_watchdog_stop(s);
}

void enforce_session_free(struct enforce_session *s)
{
	if (!s)
		return;
	enf_session_teardown(s);
	free(s->session_id);
	free(s->workspace);
	free(s->acct_name);
	free(s->acct_home);
	free(s->groups);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

const char *enforce_strerror(const struct enforce_session *s)
{
	if (!s)
		return "no enforcement session (out of memory?)";
	return s->err[0] ? s->err : "no error";
}

bool enforce_session_degraded(const struct enforce_session *s, const char **why)
{
	if (why)
		*why = s && s->degraded[0] ? s->degraded : NULL;
	return s && s->degraded[0];
}

bool enforce_session_timed_out(const struct enforce_session *s)
{
	return s && s->timed_out;
}
