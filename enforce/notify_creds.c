/* notify_creds.c — acting with the target's identity.
 *
 * Emulated operations must not carry the supervisor's privilege into the
 * result.  Linux credentials are per thread at the syscall level, so a
 * supervisor thread switches its own groups and effective (hence
 * file-system) uid/gid with raw syscalls (the glibc wrappers would broadcast
 * to every thread) and keeps no effective capability but the one reading the
 * target needs (CAP_SYS_PTRACE, and none once a walk enters procfs).  The
 * real and saved ids stay root's and the permitted set is kept, so nc_root()
 * can restore everything. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

/* Effective capabilities := permitted & keep (keep: one bit per capability,
 * the first 64 only; ~0: all of them back). */
static int caps_effective(uint64_t keep)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < 2; i++)
		d[i].effective = d[i].permitted & (uint32_t)(keep >> (32 * i));
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

#define CAPS_ALL (~(uint64_t)0)
/* What acting as the target keeps: reading its memory and fds
 * (process_vm_readv, pidfd_getfd) and its /proc/TID links need
 * CAP_SYS_PTRACE, since our real uid is root's.  Nothing else: a capability
 * in effect at an open is lent to the target, at the open (CAP_SYSLOG opened
 * /dev/kmsg under dmesg_restrict) and for the life of the file, whose f_cred
 * later checks consult (file_ns_capable: CAP_SYS_ADMIN reads a PCI device's
 * whole config space). */
#define CAPS_ACTING ((uint64_t)1 << CAP_SYS_PTRACE)

/* The thread's identity is sticky for the rest of a notification: entering
 * twice costs nothing, and nc_leave() is a no-op; the handler's caller
 * (dispatch, worker) restores root with nc_root() once at the end, and
 * code that needs root in between calls nc_root() itself.  Each switch
 * costs several commit_creds() here, so a notification makes as few as it
 * can.
 *   nc_mode 0: the supervisor's own identity
 *           1: the target's euid/egid (fsuid/fsgid)/groups, and no effective
 *              capability but CAP_SYS_PTRACE (CAPS_ACTING)
 *           2: as 1, and every effective capability dropped — set as soon
 *              as a path walk enters procfs, where CAP_SYS_PTRACE would
 *              open other processes' fd/, cwd and root links. */
static __thread int nc_mode;
static __thread struct notify *nc_owner;

/* This thread acts as the account: groups, egid/fsgid, euid/fsuid.  The
 * effective ids too, not only the file-system ones: the kernel consults them
 * at some opens (a /proc/sys file opened with euid 0 gets its owner's
 * rights) and keeps them in the file's f_cred for later checks (cgroup v1
 * task moves).  The real and saved ids stay root's, so the way back stays
 * open and the account's processes still cannot signal or trace this
 * thread meanwhile.  0, or -errno with the ids possibly changed (the caller
 * restores with fs_root()); a silent failure would act with root's rights,
 * so the result is read back. */
static int fs_account(const struct enforce_account *a)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (syscall(SYS_setgroups, a->ngroups, a->groups) < 0 ||
	    syscall(SYS_setresgid, -1, a->gid, -1) < 0 || syscall(SYS_setresuid, -1, a->uid, -1) < 0)
		return -errno;
	/* (the kernel moves fsuid/fsgid with euid/egid) */
	if (syscall(SYS_getresuid, &ru, &eu, &su) < 0 || syscall(SYS_getresgid, &rg, &eg, &sg) < 0)
		return -errno;
	return eu == a->uid && eg == a->gid ? 0 : -EPERM;
}

/* Root's identity with these supplementary groups again.  euid 0 first: the
 * kernel then gives back every permitted capability as effective, which
 * setresgid and setgroups need. */
static void fs_root(const gid_t *groups, int ngroups)
{
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0 ||
	    syscall(SYS_setgroups, (size_t)(ngroups > 0 ? ngroups : 0), groups) < 0)
		abort();        /* a thread stuck with the account's ids would misbehave silently */
}

int nc_enter(struct notify *n, struct ncreds_saved *sv)
{
	int rc;

	sv->active = false;
	if (nc_mode || geteuid() != 0)
		return 0;       /* already the target (or an unprivileged supervisor) */
	nc_owner = n;
	nc_mode = 1;
	if ((rc = fs_account(&n->cfg.account)) < 0 || (rc = caps_effective(CAPS_ACTING)) < 0) {
		nc_root();
		return rc;
	}
	return 0;
}

void nc_leave(struct notify *n, struct ncreds_saved *sv)
{
	(void)n;
	(void)sv;
}

int nc_drop_caps(void)
{
	int rc;

	if (nc_mode != 1)
		return 0;
	if ((rc = caps_effective(0)) < 0)
		return rc;
	nc_mode = 2;
	return 0;
}

void nc_need_caps(void)
{
	if (nc_mode == 2)
		nc_root();
}

void nc_root(void)
{
	struct notify *n = nc_owner;

	if (!nc_mode)
		return;
	/* Order: capabilities first (setgroups needs CAP_SETGID). */
	if (caps_effective(CAPS_ALL) < 0)
		abort();        /* a thread stuck without privilege would misbehave silently */
	fs_root(n->sup_groups, n->nsup_groups);
	nc_mode = 0;
}

/* Full identity (euid/egid too) for socket operations: SO_PEERCRED and
 * SCM_CREDENTIALS carry the euid/egid of the task that connects or sends. */
int nc_enter_net(struct notify *n, struct ncreds_saved *sv)
{
	const struct enforce_account *a = &n->cfg.account;

	nc_root();
	sv->active = false;
	if (geteuid() != 0)
		return 0;
	if (syscall(SYS_setgroups, a->ngroups, a->groups) < 0)
		return -errno;
	if (syscall(SYS_setresgid, -1, a->gid, -1) < 0 || syscall(SYS_setresuid, -1, a->uid, -1) < 0) {
		syscall(SYS_setresgid, -1, 0, -1);
		syscall(SYS_setgroups, (size_t)(n->nsup_groups > 0 ? n->nsup_groups : 0), n->sup_groups);
		return -EPERM;
	}
	sv->active = true;
	return 0;
}

void nc_leave_net(struct notify *n, struct ncreds_saved *sv)
{
	if (!sv->active)
		return;
	/* euid 0 again: the kernel restores the effective capabilities. */
	if (syscall(SYS_setresuid, -1, 0, -1) < 0 || syscall(SYS_setresgid, -1, 0, -1) < 0)
		abort();
	if (syscall(SYS_setgroups, (size_t)(n->nsup_groups > 0 ? n->nsup_groups : 0),
		    n->sup_groups) < 0)
		abort();
	sv->active = false;
}

/* Send on a unix socket as the target, inside nc_enter_net().  Without
 * ancillary data the kernel would stamp the datagram with our *real* ids
 * (root's) and our pid for a receiver that asks (SO_PASSCRED: journald,
 * syslog daemons, D-Bus): a forged "uid 0".  So the credentials are given
 * explicitly: the account's uid/gid (our euid/egid now) and the target's
 * pid, which the kernel accepts from a sender with CAP_SYS_ADMIN, raised for
 * this one call.  Changing the real uid instead would make this thread
 * signalable by the account's processes meanwhile. */
long nc_send_unix(struct notify *n, struct ncreds_saved *sv, pid_t tgid, int sock,
		  const void *data, size_t len, int flags, const struct sockaddr *sa,
		  socklen_t alen)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { (void *)data, len };
	struct msghdr m = { .msg_name = (void *)sa, .msg_namelen = sa ? alen : 0,
			    .msg_iov = &iov, .msg_iovlen = 1 };
	const struct enforce_account *a = &n->cfg.account;
	long rc;

	if (!sv->active)        /* an unprivileged supervisor: its ids are the account's */
		return (rc = sendmsg(sock, &m, flags)) < 0 ? -errno : rc;
	memset(&ctl, 0, sizeof ctl);
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	struct ucred uc = { .pid = tgid, .uid = a->uid, .gid = a->gid };
	memcpy(CMSG_DATA(cm), &uc, sizeof uc);
	if ((rc = caps_effective((uint64_t)1 << CAP_SYS_ADMIN)) < 0)
		return rc;
	rc = sendmsg(sock, &m, flags);
	rc = rc < 0 ? -errno : rc;
	if (caps_effective(0) < 0)
		abort();        /* CAP_SYS_ADMIN left in effect while acting as the target */
	return rc;
}

/* Private cwd/root/umask for this thread, so an emulated create can use the
 * target's umask without touching the rest of the process. */
int nc_thread_init(void)
{
	return unshare(CLONE_FS) < 0 ? -errno : 0;
}

int enforce_access_as(const struct enforce_account *a, const char *path, int mode)
{
	gid_t saved[256];
	int nsaved, rc;

	if (geteuid() != 0)
		return faccessat(AT_FDCWD, path, mode, AT_EACCESS) < 0 ? -errno : 0;
	if ((nsaved = (int)syscall(SYS_getgroups, 256, saved)) < 0)
		return -errno;
	/* never checked with root's rights: a failed switch is the answer */
	if ((rc = fs_account(a)) == 0)
		rc = faccessat(AT_FDCWD, path, mode, AT_EACCESS) < 0 ? -errno : 0;
	fs_root(saved, nsaved);
	return rc;
}

ssize_t nc_proc_read(pid_t pid, const char *entry, char *buf, size_t len)
{
	char p[64];
	ssize_t got;
	int fd;

	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, entry);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	got = read(fd, buf, len - 1);
	close(fd);
	if (got <= 0)
		return -EIO;
	buf[got] = 0;
	return got;
}

int nc_status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char buf[4096];
	ssize_t got = nc_proc_read(pid, "status", buf, sizeof buf);

	if (got < 0)
		return (int)got;
	size_t kl = strlen(key);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, kl) && l[kl] == ':') {
			char *v = l + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = strcspn(v, "\n");
			if (vl >= len)
				vl = len - 1;
			memcpy(val, v, vl);
			val[vl] = 0;
			return 0;
		}
	}
	return -ENOENT;
}

int nc_proc_stat(pid_t pid, char *buf, size_t len, char **after_comm)
{
	if (nc_proc_read(pid, "stat", buf, len) < 0)
		return -ESRCH;
	/* the comm may hold anything, ')' too: the last one ends it */
	char *rp = strrchr(buf, ')');
	if (!rp || !strchr(buf, '(') || rp[1] != ' ')
		return -EIO;
	*after_comm = rp + 2;
	return 0;
}

int nc_ctty(pid_t pid, dev_t *out)
{
	char buf[1024], *f;
	int rc, tty;

	if ((rc = nc_proc_stat(pid, buf, sizeof buf, &f)) < 0)
		return rc;
	/* state ppid pgrp session tty_nr */
	if (sscanf(f, "%*c %*d %*d %*d %d", &tty) != 1)
		return -EIO;
	*out = (dev_t)(unsigned)tty;
	return 0;
}

int nc_umask(pid_t pid, mode_t *out)
{
	char v[32];
	int rc = nc_status_field(pid, "Umask", v, sizeof v);

	if (rc < 0)
		return rc;
	*out = (mode_t)strtoul(v, NULL, 8) & 0777;
	return 0;
}

int nc_tgid(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char v[32];
	int rc;

	if ((rc = nc_status_field(tid, "Tgid", v, sizeof v)) < 0)
		return rc;
	*tgid = (pid_t)atoi(v);
	if (ppid) {
		if ((rc = nc_status_field(tid, "PPid", v, sizeof v)) < 0)
			return rc;
		*ppid = (pid_t)atoi(v);
	}
	return 0;
}

/* Is pid one of this session's processes (in its cgroup v2 subtree)? */
bool nc_in_session(struct notify *n, pid_t pid)
{
	char buf[4096];
	const char *rel = n->cfg.cgroup_rel;

	if (!rel || !*rel || nc_proc_read(pid, "cgroup", buf, sizeof buf) < 0)
		return false;
	size_t rl = strlen(rel);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, "0::", 3))
			continue;
		char *path = l + 3;
		if (!strncmp(path, rel, rl) && (path[rl] == '\n' || path[rl] == '/' || !path[rl]))
			return true;
	}
	return false;
}
