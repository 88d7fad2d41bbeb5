/* notify_signal.c — kill/tkill/tgkill/pidfd_send_signal/rt_(tg)sigqueueinfo.
 *
 * The target is classified relative to the sender (self, children,
 * descendants, siblings, session = the session's cgroup, parent = the
 * supervisor and its helpers, system = pid 1 / kernel threads / other uids,
 * external = the rest) and signal_rules decide.  Signals to the supervisor
 * are refused whatever the policy says.
 *
 * Answers: allow → CONTINUE for the calls whose arguments are plain integers
 * (nothing in the target's memory to swap; the residual risk is pid reuse
 * between the check and the kernel's delivery, which needs the target to die
 * and its pid to be recycled within microseconds); pidfd_send_signal is
 * emulated (its pidfd could be swapped in the fd table), as are `redirect`
 * (the replacement signal is sent with pidfd_send_signal and success is
 * returned) and `absorb` (success, nothing sent).  deny → EPERM. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_SIGNAL_THREAD
#define PIDFD_SIGNAL_THREAD (1UL << 0)
#endif
#define PF_KTHREAD 0x00200000

bool nh_is_signal(int nr)
{
	return nr == __NR_kill || nr == __NR_tkill || nr == __NR_tgkill ||
	       nr == __NR_pidfd_send_signal || nr == __NR_rt_sigqueueinfo ||
	       nr == __NR_rt_tgsigqueueinfo;
}

struct pinfo {
	pid_t pid, ppid, pgrp;
	unsigned long flags;
	uid_t uid, suid;
	char comm[32];
};

static int read_pinfo(pid_t pid, struct pinfo *pi)
{
	char buf[1024], v[128], *f;
	int rc;

	memset(pi, 0, sizeof *pi);
	pi->pid = pid;
	if ((rc = nc_proc_stat(pid, buf, sizeof buf, &f)) < 0)
		return rc;
	char *lp = strchr(buf, '(');
	snprintf(pi->comm, sizeof pi->comm, "%.*s", (int)(f - 2 - lp - 1), lp + 1);
	/* state ppid pgrp session tty_nr tpgid flags */
	char st;
	int ppid, pgrp, sess, tty, tpgid;
	if (sscanf(f, "%c %d %d %d %d %d %lu", &st, &ppid, &pgrp, &sess, &tty, &tpgid,
		   &pi->flags) != 7)
		return -EIO;
	pi->ppid = ppid;
	pi->pgrp = pgrp;
	if ((rc = nc_status_field(pid, "Uid", v, sizeof v)) < 0)
		return rc;
	unsigned ru, eu, su;
	if (sscanf(v, "%u %u %u", &ru, &eu, &su) != 3)
		return -EIO;
	pi->uid = ru;
	pi->suid = su;
	return 0;
}

static bool is_protected(struct notify *n, pid_t tgid)
{
	if (tgid == n->self)
		return true;
	for (size_t i = 0; i < n->cfg.nprotected; i++)
		if (n->cfg.protected_pids[i] == tgid)
			return true;
	return false;
}

static bool alive(pid_t tgid)
{
	char p[32];

	snprintf(p, sizeof p, "/proc/%d", (int)tgid);
	return tgid > 0 && (access(p, F_OK) == 0 || errno != ENOENT);
}

/* Classify the process tgid relative to the sender. */
static enum policy_signal_target classify(struct nreq *r, pid_t tgid, struct pinfo *ti)
{
	struct notify *n = r->n;
	pid_t s = r->tgid;

	if (tgid == s)
		return POLICY_SIG_SELF;
	if (is_protected(n, tgid))
		return POLICY_SIG_PARENT;
	if (tgid <= 2 || read_pinfo(tgid, ti) < 0 || (ti->flags & PF_KTHREAD) || ti->ppid == 2)
		return POLICY_SIG_SYSTEM;
	if (ti->uid != n->cfg.account.uid && ti->suid != n->cfg.account.uid)
		return POLICY_SIG_SYSTEM;
	if (ti->ppid == s)
		return POLICY_SIG_CHILDREN;
	struct pinfo up = *ti;
	for (int i = 0; i < 128 && up.ppid > 1; i++) {
		if (up.ppid == s)
			return POLICY_SIG_DESCENDANTS;
		if (read_pinfo(up.ppid, &up) < 0)
			break;
	}
	if (nc_in_session(n, tgid)) {
		struct pinfo me;
		if (read_pinfo(s, &me) == 0 && me.ppid == ti->ppid)
			return POLICY_SIG_SIBLINGS;
		return POLICY_SIG_SESSION;
	}
	return POLICY_SIG_EXTERNAL;
}

static int rank(enum policy_signal_target t)
{
	static const int rk[] = {
		[POLICY_SIG_SELF] = 0, [POLICY_SIG_CHILDREN] = 1, [POLICY_SIG_DESCENDANTS] = 2,
		[POLICY_SIG_SIBLINGS] = 3, [POLICY_SIG_SESSION] = 4, [POLICY_SIG_EXTERNAL] = 5,
		[POLICY_SIG_SYSTEM] = 6, [POLICY_SIG_PARENT] = 7,
	};
	return rk[t];
}

/* A process group: the widest class among its members. */
static enum policy_signal_target classify_group(struct nreq *r, pid_t pgrp, int *members)
{
	enum policy_signal_target worst = POLICY_SIG_SELF;
	DIR *d = opendir("/proc");
	struct dirent *de;

	*members = 0;
	if (!d)
		return POLICY_SIG_SYSTEM;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct pinfo pi, ti;
		if (*end || pid <= 0 || read_pinfo((pid_t)pid, &pi) < 0 || pi.pgrp != pgrp)
			continue;
		(*members)++;
		enum policy_signal_target t = classify(r, (pid_t)pid, &ti);
		if (rank(t) > rank(worst))
			worst = t;
	}
	closedir(d);
	return worst;
}

struct sig {
	int sig;
	pid_t tgid;             /* process (or thread's process); 0 for groups */
	pid_t tid;              /* thread-directed: the thread */
	pid_t pgrp;             /* group-directed (kill 0 / -pgrp) */
	bool all;               /* kill(-1) */
	bool emulate;           /* pidfd_send_signal */
	int pidfd_copy;         /* our dup of the target's pidfd */
	uint64_t info_addr;
	unsigned flags;
};

static bool may_signal_pid(struct nreq *r, pid_t tgid, int sig);

static int deliver(struct nreq *r, const struct sig *s, int sig)
{
	siginfo_t info, *ip = NULL;
	int pfd, rc = 0;

	if (s->info_addr && sig == s->sig) {
		if (nm_read(r, s->info_addr, &info, sizeof info) < 0)
			return -EFAULT;
		ip = &info;
	}
	if (s->pidfd_copy >= 0) {
		pfd = dup(s->pidfd_copy);
	} else if (s->tid) {
		pfd = (int)syscall(__NR_pidfd_open, s->tid, PIDFD_THREAD);
	} else if (s->tgid) {
		pfd = (int)syscall(__NR_pidfd_open, s->tgid, 0);
	} else {
		return -EPERM;  /* groups are only ever CONTINUEd or refused */
	}
	if (pfd < 0)
		return -errno;
	/* the kill permission is ours to lend, after may_signal_pid() said the
	 * account has it: our real uid is root's, so it takes CAP_KILL */
	nc_root();
	if (syscall(__NR_pidfd_send_signal, pfd, sig, ip,
		    s->tid || (s->flags & PIDFD_SIGNAL_THREAD) ? PIDFD_SIGNAL_THREAD : 0) < 0)
		rc = -errno;
	close(pfd);
	return rc;
}

static void discard_signal(void *arg)
{
	struct sig *s = arg;

	close(s->pidfd_copy);
	free(s);
}

static void resume_signal(struct nreq *r, void *arg)
{
	struct sig *s = arg;
	int rc = may_signal_pid(r, s->tgid, s->sig) ? deliver(r, s, s->sig) : -EPERM;

	if (rc < 0)
		nr_error(r, -rc);
	else
		nr_value(r, 0);
	close(s->pidfd_copy);
	free(s);
}

/* The kernel's kill permission, checked for the sender (the account). */
static bool may_signal_pid(struct nreq *r, pid_t tgid, int sig)
{
	struct pinfo ti;
	uid_t u = r->n->cfg.account.uid;

	if (read_pinfo(tgid, &ti) < 0)
		return false;
	if (u == 0 || ti.uid == u || ti.suid == u)
		return true;
	return sig == SIGCONT && getsid(tgid) == getsid(r->tgid);
}

static const char *tname(enum policy_signal_target t)
{
	const char *n = policy_signal_target_name(t);
	return n ? n : "?";
}

static void act_signal(struct nreq *r, struct sig *s, struct ndecision *d)
{
	int rc;

	switch (d->res.decision) {
	case POLICY_ALLOW:
	case POLICY_AUDIT:
		nd_report(r, d, true, 0, NULL);
		if (!s->emulate) {
			nr_continue(r);
			return;
		}
		rc = s->tgid && !may_signal_pid(r, s->tgid, s->sig) ? -EPERM : deliver(r, s, s->sig);
		if (rc < 0)
			nr_error(r, -rc);
		else
			nr_value(r, 0);
		return;
	case POLICY_ABSORB:
		nd_report(r, d, true, 0, "the signal was not delivered");
		nr_value(r, 0);
		return;
	case POLICY_REDIRECT: {
		int to = d->res.redirect_signal;
		char note[96];
		if (to <= 0 || to >= 65 || (!s->tgid && !s->tid && s->pidfd_copy < 0)) {
			nd_report(r, d, false, EPERM, "the redirect cannot be delivered");
			nr_error(r, EPERM);
			return;
		}
		if (s->tgid && !may_signal_pid(r, s->tgid, to)) {
			nd_report(r, d, false, EPERM, "not permitted to signal that process");
			nr_error(r, EPERM);
			return;
		}
		rc = deliver(r, s, to);
		snprintf(note, sizeof note, "delivered %s instead",
			 policy_signal_name(to) ? policy_signal_name(to) : "another signal");
		nd_report(r, d, rc == 0, rc < 0 ? -rc : 0, note);
		if (rc < 0)
			nr_error(r, -rc);
		else
			nr_value(r, 0);
		return;
	}
	case POLICY_APPROVE: {
		/* Held while a human decides; then sent by us through a pidfd
		 * taken now, so a pid recycled meanwhile is never hit. */
		struct sig *h;
		if ((!s->tgid && !s->tid) || !(h = malloc(sizeof *h))) {
			nd_report(r, d, false, EPERM, "group signals cannot be approved; refused");
			nr_error(r, EPERM);
			return;
		}
		*h = *s;
		if (h->pidfd_copy >= 0)
			h->pidfd_copy = dup(s->pidfd_copy);
		else
			h->pidfd_copy = (int)syscall(__NR_pidfd_open, s->tid ? s->tid : s->tgid,
						     s->tid ? PIDFD_THREAD : 0);
		if (h->pidfd_copy < 0) {
			free(h);
			nr_error(r, ESRCH);
			return;
		}
		if (nd_approve(r, d, EPERM, resume_signal, h, discard_signal) < 0 || !r->n->cfg.approvals) {
			close(h->pidfd_copy);
			free(h);
		}
		return;
	}
	default:
		nd_report(r, d, false, EPERM, NULL);
		nr_error(r, EPERM);
		return;
	}
}

static void decide_and_act(struct nreq *r, struct sig *s, enum policy_signal_target t,
			   const struct pinfo *ti)
{
	struct policy_signal_info info = {
		.rel = t, .pid = s->tgid, .comm = ti && ti->comm[0] ? ti->comm : NULL,
		.same_user = ti && ti->uid == r->n->cfg.account.uid,
	};
	struct ndecision d;
	const char *signame = policy_signal_name(s->sig);

	r->opname = "signal";
	if (s->all)
		snprintf(r->target, sizeof r->target, "%s -> all processes (%s)",
			 signame ? signame : "?", tname(t));
	else if (!s->tgid && !s->tid)
		snprintf(r->target, sizeof r->target, "%s -> process group %d (%s)",
			 signame ? signame : "?", (int)s->pgrp, tname(t));
	else
		snprintf(r->target, sizeof r->target, "%s -> %d%s%s (%s)", signame ? signame : "?",
			 (int)(s->tgid ? s->tgid : s->tid), ti && ti->comm[0] ? " " : "",
			 ti && ti->comm[0] ? ti->comm : "", tname(t));
	if (t == POLICY_SIG_PARENT) {
		/* Never, whatever the policy says. */
		d = (struct ndecision){ .kind = POLICY_KIND_SIGNAL };
		d.res.decision = POLICY_DENY;
		d.res.rule = "protect-supervisor";
		snprintf(d.res.message, sizeof d.res.message,
			 "the agentsh supervisor cannot be signalled from the sandbox");
		nd_report(r, &d, false, EPERM, NULL);
		nr_error(r, EPERM);
		return;
	}
	if (s->sig == 0 && !s->emulate) {
		/* existence probe: nothing is delivered */
		nr_continue(r);
		return;
	}
	nd_signal(r, s->sig, &info, &d);
	act_signal(r, s, &d);
}

void nh_signal(struct nreq *r)
{
	struct sig s = { .pidfd_copy = -1 };
	struct pinfo ti = { 0 };
	enum policy_signal_target t;
	int rc;

	if (!r->tgid && (rc = nc_tgid(r->pid, &r->tgid, NULL)) < 0) {
		nr_error(r, ESRCH);
		return;
	}
	switch (r->nr) {
	case __NR_kill:
	case __NR_rt_sigqueueinfo: {
		int pid = (int)(int32_t)r->a[0];
		s.sig = (int)r->a[1];
		if (r->nr == __NR_rt_sigqueueinfo)
			s.info_addr = r->a[2];
		if (pid > 0) {
			s.tgid = pid;
			break;
		}
		if (pid == -1) {
			s.all = true;
			t = r->n->cfg.account.uid == 0 ? POLICY_SIG_SYSTEM : POLICY_SIG_EXTERNAL;
			decide_and_act(r, &s, t, NULL);
			return;
		}
		struct pinfo me;
		s.pgrp = pid == 0 ? (read_pinfo(r->tgid, &me) == 0 ? me.pgrp : 0) : -pid;
		int members;
		t = classify_group(r, s.pgrp, &members);
		decide_and_act(r, &s, t, NULL);
		return;
	}
	case __NR_tkill:
		s.tid = (pid_t)r->a[0];
		s.sig = (int)r->a[1];
		if (nc_tgid(s.tid, &s.tgid, NULL) < 0) {
			nr_error(r, ESRCH);
			return;
		}
		break;
	case __NR_tgkill:
	case __NR_rt_tgsigqueueinfo: {
		pid_t owner = 0;
		s.tgid = (pid_t)r->a[0];
		s.tid = (pid_t)r->a[1];
		s.sig = (int)r->a[2];
		if (r->nr == __NR_rt_tgsigqueueinfo)
			s.info_addr = r->a[3];
		if (s.tgid <= 0 || s.tid <= 0 || nc_tgid(s.tid, &owner, NULL) < 0 || owner != s.tgid) {
			nr_error(r, s.tgid <= 0 || s.tid <= 0 ? EINVAL : ESRCH);
			return;
		}
		break;
	}
	default: { /* pidfd_send_signal(pidfd, sig, info, flags) */
		char v[32];
		s.emulate = true;
		s.sig = (int)r->a[1];
		s.info_addr = r->a[2];
		s.flags = (unsigned)r->a[3];
		if ((rc = np_getfd(r, (int)(int32_t)r->a[0], &s.pidfd_copy)) < 0) {
			nr_error(r, -rc);
			return;
		}
		/* The process behind our copy: fdinfo's "Pid:" (-1 when it exited). */
		char fi[64];
		snprintf(fi, sizeof fi, "fdinfo/%d", s.pidfd_copy);
		int pid = -1;
		{
			char path[80], buf[512];
			snprintf(path, sizeof path, "/proc/self/%s", fi);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
			if (fd >= 0)
				close(fd);
			if (k > 0) {
				buf[k] = 0;
				char *pl = strstr(buf, "\nPid:");
				if (pl && sscanf(pl + 5, "%31s", v) == 1)
					pid = atoi(v);
			}
		}
		if (pid <= 0) {
			close(s.pidfd_copy);
			nr_error(r, pid == -1 ? ESRCH : EBADF);
			return;
		}
		if (nc_tgid(pid, &s.tgid, NULL) < 0)
			s.tgid = pid;
		if (s.tgid != pid)
			s.tid = pid;    /* a thread pidfd */
		break;
	}
	}
	if (!alive(s.tgid)) {
		/* what the kernel answers: no decision, no notice (tmux signals
		 * jobs that have just exited when its server stops) */
		if (s.pidfd_copy >= 0)
			close(s.pidfd_copy);
		nr_error(r, ESRCH);
		return;
	}
	t = classify(r, s.tgid, &ti);
	if (t != POLICY_SIG_SELF && !ti.comm[0])
		read_pinfo(s.tgid, &ti);
	decide_and_act(r, &s, t, &ti);
	if (s.pidfd_copy >= 0)
		close(s.pidfd_copy);
}
