/* notify_file.c — file operations, emulated.
 *
 * Never CONTINUE after checking a path read from the target's memory: another
 * thread can swap the string before the kernel reads it again.  So each
 * handler (1) reads the path once, (2) resolves it to file descriptors as the
 * target would (notify_path.c), (3) asks the policy about the canonical path
 * of what it resolved, and (4) performs the operation itself on those file
 * descriptors with the target's fsuid/fsgid/groups (and umask for creates).
 * Opens are answered with SECCOMP_IOCTL_NOTIF_ADDFD|SEND; everything else with
 * the operation's own result.  A string swap after step 1 changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif

/* The name an O_TMPFILE open is decided under, inside its directory. */
#define TMPFILE_NAME "#tmpfile"

enum fkind {
	F_OPEN, F_CREATE, F_TMPFILE, F_UNLINK, F_RENAME, F_LINK, F_SYMLINK, F_MKDIR,
	F_MKNOD, F_CHMOD, F_CHOWN, F_TRUNCATE, F_SETXATTR, F_RMXATTR, F_UTIMES,
};

/* Everything needed to perform a decided operation, possibly later (approval). */
struct fplan {
	enum fkind k;
	int fd1, fd2;                   /* O_PATH objects or parent directories */
	char name1[NAME_MAX + 2], name2[NAME_MAX + 2];
	int flags;
	unsigned rflags;                /* renameat2 / unlinkat / linkat flags */
	mode_t mode;
	dev_t dev;
	uid_t uid;
	gid_t gid;
	off_t len;
	bool cloexec;
	bool soft_delete;               /* unlink: divert to the trash instead */
	bool soft_delete_dest;          /* rename: the destination goes to the trash first */
	bool created;                   /* F_CREATE: the open made the file (not opened one) */
	bool no_wait;                   /* in the receive loop: never wait for a lease break */
	char abs1[PATH_MAX], abs2[PATH_MAX];
	struct timespec ts[2];          /* F_UTIMES: atime, mtime */
	bool ts_now;                    /* F_UTIMES: no times given (both "now") */
	char *str;                      /* symlink target / xattr name */
	void *val;                      /* xattr value */
	size_t vlen;
};

static void plan_init(struct fplan *p, enum fkind k)
{
	memset(p, 0, sizeof *p);
	p->k = k;
	p->fd1 = p->fd2 = -1;
}

static void plan_free(struct fplan *p)
{
	if (p->fd1 >= 0)
		close(p->fd1);
	if (p->fd2 >= 0)
		close(p->fd2);
	free(p->str);
	free(p->val);
	p->fd1 = p->fd2 = -1;
	p->str = p->val = NULL;
}

static int arg_fd(uint64_t v)
{
	return (int)(int32_t)v;
}

static void set_target(struct nreq *r, const char *op, const char *t1, const char *t2)
{
	r->opname = op;
	snprintf(r->target, sizeof r->target, "%s", t1 ? t1 : "");
	snprintf(r->target2, sizeof r->target2, "%s", t2 ? t2 : "");
}

/* Read a path argument; answer the target on failure. */
static int read_path(struct nreq *r, uint64_t addr, char *buf)
{
	int rc = nm_read_str(r, addr, buf, PATH_MAX);

	if (rc < 0) {
		nr_error(r, rc == -ENAMETOOLONG ? ENAMETOOLONG : EFAULT);
		return -1;
	}
	return 0;
}

static void magic(char *buf, size_t len, int fd)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* ---------------------------------------------------------------- performing */

static int umask_as_target(struct nreq *r)
{
	mode_t m;
	int rc = nc_umask(r->pid, &m);

	if (rc < 0)
		return rc;
	umask(m);
	return 0;
}

/* The soft RLIMIT_FSIZE of process pid.  prlimit() would take
 * CAP_SYS_RESOURCE, which the supervisor does not keep; /proc/PID/limits is
 * open to all. */
static int fsize_limit(pid_t pid, rlim_t *out)
{
	char buf[4096], soft[32];
	ssize_t n = nc_proc_read(pid, "limits", buf, sizeof buf);

	if (n < 0)
		return (int)n;
	const char *l = strstr(buf, "\nMax file size ");
	if (!l || sscanf(l + strlen("\nMax file size "), "%31s", soft) != 1)
		return -EIO;
	if (!strcmp(soft, "unlimited")) {
		*out = RLIM_INFINITY;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(soft, &end, 10);
	if (errno || *end)
		return -EIO;
	*out = (rlim_t)v;
	return 0;
}

/* Growing a file past the target's RLIMIT_FSIZE (ours is root's) is EFBIG
 * and SIGXFSZ to the calling thread, which the kernel delivers when the
 * syscall returns.  Leaves the thread with the supervisor's identity. */
static int fsize_as_target(struct nreq *r, int fd, off_t len)
{
	rlim_t lim;
	struct stat st;
	int rc;

	if (len < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (len <= st.st_size)
		return 0;
	nc_root();
	if (!r->tgid && (rc = nc_tgid(r->pid, &r->tgid, NULL)) < 0)
		return rc;
	if ((rc = fsize_limit(r->tgid, &lim)) < 0)
		return rc;
	if (lim != RLIM_INFINITY && (rlim_t)len > lim) {
		syscall(SYS_tgkill, r->tgid, r->pid, SIGXFSZ);
		return -EFBIG;
	}
	return 0;
}

/* ftruncate on the target's own open file, with the account's credentials
 * (with root's CAP_FSETID a set-user-ID bit survived the truncation). */
static int ftruncate_as_target(struct nreq *r, int fd, off_t len)
{
	struct ncreds_saved sv;
	int rc;

	if ((rc = fsize_as_target(r, fd, len)) < 0 || (rc = nc_enter(r->n, &sv)) < 0)
		return rc;
	return ftruncate(fd, len) < 0 ? -errno : 0;
}

/* Open an existing file for the target.  In the receive loop (no_wait) an
 * open that would wait for a lease holder (F_SETLEASE: up to
 * fs.lease-break-time, 45 s, per open, and a session can take leases on its
 * own files) must not wait there: it is tried with O_NONBLOCK, which makes
 * the kernel answer EWOULDBLOCK instead, and the caller moves it to a worker.
 * O_NONBLOCK is taken off the file again unless the target asked for it. */
static int open_existing(bool no_wait, int dirfd, const char *name, int flags, mode_t mode)
{
	bool added = no_wait && !(flags & O_NONBLOCK);
	int fd = openat(dirfd, name, flags | (added ? O_NONBLOCK : 0), mode);

	if (fd < 0)
		return added && errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
	if (added) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
			close(fd);
			return -EIO;
		}
	}
	return fd;
}

/* Returns >= 0 (a new fd for opens, 0 otherwise) or -errno. Runs as the target. */
static int perform(struct nreq *r, struct fplan *p)
{
	char mp[64];
	int rc = 0, fd;

	switch (p->k) {
	case F_OPEN:
		if ((rc = np_final_caps(r, p->fd1)) < 0)
			return rc;
		magic(mp, sizeof mp, p->fd1);
		return open_existing(p->no_wait, AT_FDCWD, mp,
				     (p->flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_TMPFILE)) |
					     O_CLOEXEC | O_NOCTTY, 0);
	case F_CREATE:
		if ((rc = umask_as_target(r)) < 0)
			return rc;
		/* O_EXCL first, to know whether this open made the file (a file
		 * someone made meanwhile is then opened, as O_CREAT alone would) */
		fd = openat(p->fd1, p->name1, p->flags | O_EXCL | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW,
			    p->mode);
		p->created = fd >= 0;
		if (fd < 0 && errno == EEXIST && !(p->flags & O_EXCL))
			return open_existing(p->no_wait, p->fd1, p->name1,
					     p->flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, p->mode);
		return fd < 0 ? -errno : fd;
	case F_TMPFILE:
		if ((rc = umask_as_target(r)) < 0)
			return rc;
		fd = openat(p->fd1, ".", p->flags | O_CLOEXEC | O_NOCTTY, p->mode);
		return fd < 0 ? -errno : fd;
	case F_UNLINK:
		return unlinkat(p->fd1, p->name1, (int)p->rflags) < 0 ? -errno : 0;
	case F_RENAME:
		return renameat2(p->fd1, p->name1, p->fd2, p->name2, p->rflags) < 0 ? -errno : 0;
	case F_LINK:
		magic(mp, sizeof mp, p->fd1);
		return linkat(AT_FDCWD, mp, p->fd2, p->name2, AT_SYMLINK_FOLLOW) < 0 ? -errno : 0;
	case F_SYMLINK:
		return symlinkat(p->str, p->fd1, p->name1) < 0 ? -errno : 0;
	case F_MKDIR:
		if ((rc = umask_as_target(r)) < 0)
			return rc;
		return mkdirat(p->fd1, p->name1, p->mode) < 0 ? -errno : 0;
	case F_MKNOD:
		if ((rc = umask_as_target(r)) < 0)
			return rc;
		return mknodat(p->fd1, p->name1, p->mode, p->dev) < 0 ? -errno : 0;
	case F_CHMOD:
		return syscall(__NR_fchmodat2, p->fd1, "", p->mode, AT_EMPTY_PATH) < 0 ? -errno : 0;
	case F_CHOWN:
		return fchownat(p->fd1, "", p->uid, p->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0
			       ? -errno : 0;
	case F_TRUNCATE:
		if ((rc = np_final_caps(r, p->fd1)) < 0)
			return rc;
		magic(mp, sizeof mp, p->fd1);
		/* O_NONBLOCK: a FIFO or device is not waited for (truncate
		 * refuses them anyway); a regular file's lease is, in a worker */
		struct stat ts;
		if (fstat(p->fd1, &ts) < 0)
			return -errno;
		if (S_ISREG(ts.st_mode))
			fd = open_existing(p->no_wait, AT_FDCWD, mp, O_WRONLY | O_CLOEXEC | O_NOCTTY, 0);
		else if ((fd = open(mp, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			fd = -errno;
		if (fd < 0)
			return fd;
		rc = ftruncate_as_target(r, fd, p->len);
		close(fd);
		return rc;
	case F_SETXATTR:
		magic(mp, sizeof mp, p->fd1);
		return setxattr(mp, p->str, p->val, p->vlen, p->flags) < 0 ? -errno : 0;
	case F_RMXATTR:
		magic(mp, sizeof mp, p->fd1);
		return removexattr(mp, p->str) < 0 ? -errno : 0;
	case F_UTIMES:
		/* fd1 is the object itself (O_PATH, or the target's own file) */
		return utimensat(p->fd1, "", p->ts_now ? NULL : p->ts,
				 AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	}
	return -ENOSYS;
}

static bool is_open(enum fkind k)
{
	return k == F_OPEN || k == F_CREATE || k == F_TMPFILE;
}

/* 1 when directory name in dirfd has an entry besides . and .., 0 when it is
 * empty, -errno when it cannot be read. */
static int dir_has_entries(int dirfd, const char *name)
{
	int dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char buf[4096];
	long n;
	int entries = 0;

	if (dfd < 0)
		return -errno;
	n = syscall(SYS_getdents64, dfd, buf, sizeof buf);
	for (long off = 0; n > 0 && off < n;) {
		unsigned short reclen = *(unsigned short *)(buf + off + 16);
		const char *nm = buf + off + 19;
		if (strcmp(nm, ".") && strcmp(nm, ".."))
			entries++;
		off += reclen;
	}
	close(dfd);
	return n < 0 ? -EIO : entries > 0;
}

/* Soft delete: the user must be allowed to delete it (checked as the user),
 * then root moves it into the trash on the same filesystem. */
static int soft_delete(struct nreq *r, struct fplan *p, int dirfd, const char *name,
		       const char *abs, bool rmdir_, char *token, size_t toklen)
{
	struct ncreds_saved sv;
	struct stat dst, st;
	int rc;

	if ((rc = nc_enter(r->n, &sv)) < 0)
		return rc;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	else if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) < 0)
		rc = -errno;
	else if (fstat(dirfd, &dst) < 0)
		rc = -errno;
	else if ((dst.st_mode & S_ISVTX) && st.st_uid != r->n->cfg.account.uid &&
		 dst.st_uid != r->n->cfg.account.uid)
		rc = -EPERM;
	else if (rmdir_ && !S_ISDIR(st.st_mode))
		rc = -ENOTDIR;
	else if (!rmdir_ && S_ISDIR(st.st_mode) && p->k == F_UNLINK)
		rc = -EISDIR;
	nc_leave(r->n, &sv);
	if (rc < 0)
		return rc;
	if (rmdir_) {
		/* rmdir of a non-empty directory fails; keep that meaning. */
		rc = dir_has_entries(dirfd, name);
		if (rc != 0)
			return rc > 0 ? -ENOTEMPTY : rc;
	}
	return trash_divert(r->n, dirfd, name, abs, r->n->cfg.account.uid,
			    r->tgid ? r->tgid : r->pid, token, toklen);
}

static bool defer_waiting(struct nreq *r, struct fplan *p, const struct ndecision *d);

/* Perform p and answer.  d: the decision, for the report. */
static void finish(struct nreq *r, struct fplan *p, const struct ndecision *d)
{
	struct ncreds_saved sv;
	char token[96] = "", note[160];
	int rc;

	/* Something the session made itself held nothing before it: no trash
	 * (notify_made.c).  Reported as the plain delete it then is. */
	struct ndecision plain;
	bool took = (p->soft_delete || p->soft_delete_dest) &&
		    made_take(r->n, p->soft_delete_dest ? p->fd2 : p->fd1,
			      p->soft_delete_dest ? p->name2 : p->name1);
	if (took) {
		plain = *d;
		plain.res.decision = POLICY_ALLOW;
		d = &plain;
		p->soft_delete = p->soft_delete_dest = false;
	}
	if (p->soft_delete || p->soft_delete_dest) {
		bool dest = p->soft_delete_dest;
		rc = soft_delete(r, p, dest ? p->fd2 : p->fd1, dest ? p->name2 : p->name1,
				 dest ? p->abs2 : p->abs1, !dest && p->rflags == AT_REMOVEDIR,
				 token, sizeof token);
		if (rc < 0) {
			nd_report(r, d, false, -rc, "moving it to the trash failed");
			nr_error(r, -rc);
			return;
		}
		snprintf(note, sizeof note, "restore with: agentsh trash restore %s", token);
		if (!dest) {
			nd_report(r, d, true, 0, note);
			nr_value(r, 0);
			return;
		}
		nd_report(r, d, true, 0, note);
	}
	if ((rc = nc_enter(r->n, &sv)) < 0) {
		nd_report_plain(r, "supervisor-error", EACCES, "could not take the target's identity");
		nr_error(r, EACCES);
		return;
	}
	rc = perform(r, p);
	if (rc == -EWOULDBLOCK && p->no_wait && defer_waiting(r, p, d))
		return;
	if (rc >= 0 && (p->k == F_CREATE ? p->created
				      : p->k == F_MKDIR || p->k == F_MKNOD || p->k == F_SYMLINK))
		made_record(r->n, p->k == F_CREATE ? rc : p->fd1, p->k == F_CREATE ? "" : p->name1);
	/* still there (EBUSY, EPERM...): still the session's own */
	if (rc < 0 && took)
		made_record(r->n, p->k == F_RENAME ? p->fd2 : p->fd1,
			    p->k == F_RENAME ? p->name2 : p->name1);
	nc_leave(r->n, &sv);
	/* The policy allowed it; a failure now is the kernel's own answer
	 * (permissions, ENOENT...), recorded with its errno. */
	if (!p->soft_delete_dest)
		nd_report(r, d, true, rc < 0 ? -rc : 0, NULL);
	if (rc < 0)
		nr_error(r, -rc);
	else if (is_open(p->k))
		nr_addfd(r, rc, p->cloexec);
	else
		nr_value(r, 0);
}

/* Deferred execution (blocking opens, approvals). */
static void finish_deferred(struct nreq *r, void *arg)
{
	struct { struct fplan p; struct ndecision d; } *x = arg;

	/* an approved operation was reported when the human answered */
	if (x->d.res.decision == POLICY_APPROVE)
		x->d.res.decision = POLICY_ALLOW;
	finish(r, &x->p, &x->d);
	plan_free(&x->p);
	free(x);
}

static void discard_box(void *arg)
{
	struct { struct fplan p; struct ndecision d; } *x = arg;

	plan_free(&x->p);
	free(x);
}

static void *boxed(const struct fplan *p, const struct ndecision *d)
{
	struct { struct fplan p; struct ndecision d; } *x = malloc(sizeof *x);

	if (x) {
		x->p = *p;
		x->d = *d;
	}
	return x;
}

/* chmod and chown are the owner's (CAP_FOWNER and CAP_CHOWN aside, which no
 * process of a session has unless the account is root): the kernel answers
 * anyone else EPERM, except for a chown that changes nothing (-1, -1).  bash
 * chowns its history file to its owner, even when it is /dev/null. */
static int owner_refuses(struct nreq *r, const struct fplan *p)
{
	struct stat st;
	uid_t uid = r->n->cfg.account.uid;

	if (uid == 0 || p->fd1 < 0 || fstat(p->fd1, &st) < 0)
		return 0;
	if (p->k == F_CHOWN && p->uid == (uid_t)-1 && p->gid == (gid_t)-1)
		return 0;
	return st.st_uid != uid ? EPERM : 0;
}

/* Would the kernel refuse this to the account anyway, and with which errno?
 * Asked as the target, of the object an open uses or of the directories a
 * change writes (sticky bits aside: only EACCES from the plain permission
 * counts), or of the owner for chmod and chown.  A policy denial there
 * changes nothing the account sees: reading root's /proc/1/environ (`ps aux`
 * tries every process), creating in /etc, chown of /dev/null.  It is still
 * recorded, without a notice, not reported as blocked, and answered with the
 * kernel's own errno. */
static int kernel_refuses(struct nreq *r, const struct fplan *p)
{
	struct ncreds_saved sv;
	int mode, acc = p->flags & O_ACCMODE;

	switch (p->k) {
	case F_CHMOD: case F_CHOWN:
		return owner_refuses(r, p);
	case F_OPEN:
		mode = (acc == O_RDONLY ? R_OK : acc == O_WRONLY ? W_OK : R_OK | W_OK) |
		       (p->flags & O_TRUNC ? W_OK : 0);
		break;
	case F_CREATE: case F_TMPFILE: case F_MKDIR: case F_MKNOD: case F_SYMLINK: case F_UNLINK:
	case F_RENAME:
		mode = W_OK | X_OK;
		break;
	default:
		return 0;
	}
	if (p->fd1 < 0 || nc_enter(r->n, &sv) < 0)
		return 0;
	bool refused = faccessat(p->fd1, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0 && errno == EACCES;
	if (!refused && p->k == F_RENAME && p->fd2 >= 0)
		refused = faccessat(p->fd2, "", mode, AT_EMPTY_PATH | AT_EACCESS) < 0 && errno == EACCES;
	nc_leave(r->n, &sv);
	return refused ? EACCES : 0;
}

/* A read of /proc/N/environ (or /proc/N/task/T/environ) where N is one of
 * the session's own processes: `ps` tries it for every process, and the
 * session's own bash and ps answered each `ps` with two denial notices.  The
 * read stays refused (a redirect rule's environment may hold a secret). */
static bool own_session_environ(struct nreq *r, const struct fplan *p)
{
	const char *s = p->abs1;
	char *end;

	if (p->k != F_OPEN || strncmp(s, "/proc/", 6))
		return false;
	long pid = strtol(s + 6, &end, 10);
	if (end == s + 6 || pid <= 0)
		return false;
	if (!strncmp(end, "/task/", 6)) {
		const char *t = end + 6;
		strtol(t, &end, 10);
		if (end == t)
			return false;
	}
	return !strcmp(end, "/environ") && nc_in_session(r->n, (pid_t)pid);
}

/* Apply the decision d to plan p (consumed). */
static void act(struct nreq *r, struct fplan *p, struct ndecision *d, bool may_block)
{
	void *box;

	switch (d->res.decision) {
	case POLICY_ALLOW:
	case POLICY_AUDIT:
	case POLICY_SOFT_DELETE:        /* callers set soft_delete where it applies */
		break;
	case POLICY_APPROVE:
		if (!(box = boxed(p, d))) {
			nd_report(r, d, false, EACCES, "out of memory");
			nr_error(r, EACCES);
			plan_free(p);
			return;
		}
		if (nd_approve(r, d, EACCES, finish_deferred, box, discard_box) < 0 || !r->n->cfg.approvals) {
			plan_free(p);
			free(box);
		}
		return;
	case POLICY_REDIRECT:
		nd_report(r, d, false, EACCES, "redirect applies to opens only; refused");
		nr_error(r, EACCES);
		plan_free(p);
		return;
	default: {
		int err = kernel_refuses(r, p);

		r->quiet = err ? "kernel_refuses" : own_session_environ(r, p) ? "own_session" : NULL;
		nd_report(r, d, false, err ? err : EACCES, NULL);
		nr_error(r, err ? err : EACCES);
		plan_free(p);
		return;
	}
	}
	if (may_block && (box = boxed(p, d))) {
		notify_defer(r, finish_deferred, box);
		return;
	}
	p->no_wait = true;
	finish(r, p, d);
	plan_free(p);
}

/* An operation that would wait (see open_existing) goes to a worker, which
 * owns the plan from here on.  true: deferred (p is emptied). */
static bool defer_waiting(struct nreq *r, struct fplan *p, const struct ndecision *d)
{
	void *box;

	p->no_wait = false;
	if (!(box = boxed(p, d)))
		return false;
	p->fd1 = p->fd2 = -1;
	p->str = p->val = NULL;
	notify_defer(r, finish_deferred, box);
	return true;
}

/* ---------------------------------------------------------------- opens */

static enum policy_file_op open_op(int flags)
{
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))
		return POLICY_FILE_WRITE;
	return POLICY_FILE_READ;
}

static bool blocking_type(mode_t m)
{
	return S_ISFIFO(m) || S_ISCHR(m) || S_ISBLK(m) || S_ISSOCK(m);
}

static void open_redirect(struct nreq *r, struct fplan *p, const struct ndecision *d);

/* /dev/tty is the opener's controlling terminal.  Opened here it would be the
 * supervisor's: the human's terminal, unfiltered.  So *fd (the /dev/tty node)
 * becomes the target's own terminal: a pty (agentsh's for the command, or
 * one the command made); none is ENXIO, as from the kernel. */
static int target_ctty(struct nreq *r, int *fd, struct stat *st)
{
	char path[64], abs[PATH_MAX];
	struct stat nst;
	dev_t tty;
	int rc, nfd = -1;

	if ((rc = nc_ctty(r->pid, &tty)) < 0)
		return rc;
	if (!tty || !notify_pts_path(tty, path, sizeof path))
		return -ENXIO;
	if ((rc = np_object(r, AT_FDCWD, path, true, &nfd, abs)) < 0)
		return rc == -ENOENT ? -ENXIO : rc;
	if (fstat(nfd, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != tty) {
		close(nfd);
		return -ENXIO;
	}
	close(*fd);
	*fd = nfd;
	*st = nst;
	return 0;
}

/* Refuse (and report) any operation on one of the human's terminals: its
 * node under any name, or the floor's cover at its path.  true: answered. */
static bool refuse_held_tty(struct nreq *r, struct fplan *p, const char *abs, const struct stat *st)
{
	const struct notify *n = r->n;

	for (size_t i = 0; i < n->cfg.nheld_tty; i++) {
		const struct notify_tty *t = &n->cfg.held_tty[i];
		bool by_path = t->path[0] && !strcmp(abs, t->path);
		bool by_dev = S_ISCHR(st->st_mode) && st->st_rdev == t->rdev && (!t->dev || st->st_dev == t->dev);
		if (!by_path && !by_dev)
			continue;
		nd_report_plain(r, "agentsh-terminal", EACCES, "this is the terminal agentsh holds for "
				"the human; commands get a pty of their own");
		plan_free(p);
		nr_error(r, EACCES);
		return true;
	}
	return false;
}

/* The core of open/creat/openat/openat2 after the arguments were read. */
static void do_open(struct nreq *r, int dfd, const char *path, int flags, mode_t mode,
		    uint64_t resolve)
{
	struct fplan p;
	struct ndecision d;
	struct stat st;
	char abs[PATH_MAX];
	int rc;

	set_target(r, "open", path, NULL);
	if (flags & O_PATH) {
		/* An O_PATH fd cannot be injected (ADDFD takes no O_PATH files)
		 * and grants no access by itself: the kernel ignores every flag
		 * but O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC, and each later use
		 * (openat on it, /proc/self/fd/N, exec, link) is notified and
		 * decided on the object it names. */
		nr_continue(r);
		return;
	}
	plan_init(&p, F_OPEN);
	p.flags = flags;
	p.mode = mode;
	p.cloexec = flags & O_CLOEXEC;

	if ((flags & O_TMPFILE) == O_TMPFILE) {
		p.k = F_TMPFILE;
		rc = resolve ? np_resolve2(r, dfd, path, resolve, true, false, &p.fd1, NULL)
			     : np_object(r, dfd, path, true, &p.fd1, abs);
		if (rc == 0 && resolve)
			rc = np_fd_path(p.fd1, abs, sizeof abs);
		if (rc < 0)
			goto fail;
		/* An unnamed file in the directory: decided as a new entry in
		 * it, under a name no rule singles out (the kernel shows such
		 * files as "#ino" in fd links), so a rule for everything beneath
		 * the directory allows it like any other scratch file.  Naming
		 * it later (linkat) is decided on the name it gets. */
		if (np_join(p.abs1, sizeof p.abs1, abs, TMPFILE_NAME) < 0) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		set_target(r, "create", p.abs1, NULL);
		nd_file(r, POLICY_FILE_CREATE, p.abs1, &d);
		act(r, &p, &d, false);
		return;
	}

	rc = resolve ? np_resolve2(r, dfd, path, resolve, !(flags & O_NOFOLLOW), false, &p.fd1, NULL)
		     : np_object(r, dfd, path, !(flags & O_NOFOLLOW), &p.fd1, abs);
	if (rc == 0 && resolve)
		rc = np_fd_path(p.fd1, abs, sizeof abs);
	if (rc == -ENOENT && p.fd1 >= 0) {
		/* Reached through a magic link but has no path (pipe, socket,
		 * deleted file, memfd): nothing a path rule can protect. */
		rc = 0;
		snprintf(abs, sizeof abs, "%s", "");
	}
	if (rc == -ENOENT && (flags & O_CREAT)) {
		struct npath np;
		if (resolve) {
			np_init(&np);
			rc = np_resolve2(r, dfd, path, resolve, true, true, &np.dirfd, np.name);
			if (rc == 0) {
				char dir[PATH_MAX];
				rc = np_fd_path(np.dirfd, dir, sizeof dir);
				if (rc == 0)
					rc = np_join(np.abs, sizeof np.abs, dir, np.name);
			}
		} else {
			rc = np_parent(r, dfd, path, &np);
		}
		if (rc < 0) {
			np_free(&np);
			goto fail;
		}
		if (np.trailing_slash || !strcmp(np.name, ".") || !strcmp(np.name, "..")) {
			np_free(&np);
			rc = -EISDIR;
			goto fail;
		}
		/* Still absent?  A dangling symlink there would make the kernel
		 * create its target: refuse instead of guessing. */
		if (fstatat(np.dirfd, np.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			np_free(&np);
			rc = S_ISLNK(st.st_mode) ? -EACCES : -EAGAIN;
			if (rc == -EACCES) {
				nd_report_plain(r, "dangling-symlink", EACCES,
						"creating a file through a dangling symlink is refused");
				nr_error(r, EACCES);
				return;
			}
			goto fail;
		}
		p.k = F_CREATE;
		p.fd1 = np.dirfd;
		np.dirfd = -1;
		snprintf(p.name1, sizeof p.name1, "%s", np.name);
		snprintf(p.abs1, sizeof p.abs1, "%s", np.abs);
		set_target(r, "create", p.abs1, NULL);
		nd_file(r, POLICY_FILE_CREATE, p.abs1, &d);
		if (d.res.decision == POLICY_REDIRECT) {
			open_redirect(r, &p, &d);
			return;
		}
		act(r, &p, &d, false);
		return;
	}
	if (rc < 0)
		goto fail;
	if (fstat(p.fd1, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISLNK(st.st_mode) && !(flags & O_PATH)) {
		rc = -ELOOP;
		goto fail;
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(5, 0) && (rc = target_ctty(r, &p.fd1, &st)) < 0)
		goto fail;
	set_target(r, open_op(flags) == POLICY_FILE_WRITE ? "write" : "open", abs[0] ? abs : path, NULL);
	if (refuse_held_tty(r, &p, abs, &st))
		return;
	if ((flags & O_CREAT) && (flags & O_EXCL)) {
		rc = -EEXIST;
		goto fail;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode)) {
		rc = -ENOTDIR;
		goto fail;
	}
	snprintf(p.abs1, sizeof p.abs1, "%s", abs);
	if (!abs[0]) {
		d = (struct ndecision){ .kind = POLICY_KIND_FILE };
		d.res.decision = POLICY_ALLOW;
		d.res.rule = "no-path-object";
	} else {
		nd_file(r, open_op(flags), abs, &d);
	}
	if (d.res.decision == POLICY_REDIRECT) {
		open_redirect(r, &p, &d);
		return;
	}
	act(r, &p, &d, blocking_type(st.st_mode));
	return;
fail:
	plan_free(&p);
	nr_error(r, -rc);
}

/* Where a redirect really leads.  The policy chose `to`, but the directory
 * it names may be the agent's to fill: a symbolic link placed there (or a
 * directory on the way swapped for one) would make the redirected write land
 * on whatever it points to, past the rules that protect that file.  So when
 * the object reached is not at `to` itself, the policy decides on where it
 * is.  0, or -EACCES with note set. */
static int redirect_reaches(struct nreq *r, const char *to, const char *real,
			    enum policy_file_op op, char *note, size_t notelen)
{
	struct ndecision rd;

	if (!strcmp(real, to))
		return 0;
	if (nd_file(r, op, real, &rd) < 0 ||
	    (rd.res.decision != POLICY_ALLOW && rd.res.decision != POLICY_AUDIT)) {
		snprintf(note, notelen, "the redirect target leads to %s, which rule %s does not allow",
			 real, rd.res.rule ? rd.res.rule : "(none)");
		return -EACCES;
	}
	return 0;
}

/* A file `redirect`: open the rule's target instead, with the same flags, as
 * the target, and report.  The target is resolved like any path of the
 * target's (its root, no symbolic link followed blindly) and a target that
 * turns out to be elsewhere is decided there (redirect_reaches).  The
 * redirect directory is the agent's: a FIFO or a leased file put there must
 * not hold the receive loop, so an open that would wait fails instead
 * (ENXIO, EWOULDBLOCK). */
static void open_redirect(struct nreq *r, struct fplan *p, const struct ndecision *d)
{
	const char *to = d->res.redirect_path;
	struct ncreds_saved sv;
	struct npath np;
	char real[PATH_MAX], mp[64], note[PATH_MAX + 96] = "";
	int rc, obj = -1, flags = p->flags;
	mode_t mode = p->mode ? p->mode : 0600;
	bool cloexec = p->cloexec;

	plan_free(p);
	np_init(&np);
	snprintf(r->target2, sizeof r->target2, "%s", to ? to : "");
	if (!to || to[0] != '/') {
		rc = -EACCES;
		goto out;
	}
	rc = np_object(r, AT_FDCWD, to, true, &obj, real);
	if (rc == 0) {
		if ((flags & O_CREAT) && (flags & O_EXCL))
			rc = -EEXIST;
		else if ((rc = redirect_reaches(r, to, real, open_op(flags), note, sizeof note)) == 0 &&
			 (rc = nc_enter(r->n, &sv)) == 0) {
			magic(mp, sizeof mp, obj);
			rc = open_existing(true, AT_FDCWD, mp,
					   (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW | O_TMPFILE)) |
						   O_CLOEXEC | O_NOCTTY, 0);
		}
	} else if (rc == -ENOENT && (flags & O_CREAT)) {
		/* a dangling link there is refused by O_NOFOLLOW (ELOOP) */
		if ((rc = np_parent(r, AT_FDCWD, to, &np)) == 0 &&
		    (rc = redirect_reaches(r, to, np.abs, POLICY_FILE_CREATE, note, sizeof note)) == 0 &&
		    (rc = nc_enter(r->n, &sv)) == 0 && (rc = umask_as_target(r)) == 0) {
			rc = open_existing(true, np.dirfd, np.name,
					   (flags & ~O_TMPFILE) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
		}
	}
out:
	if (obj >= 0)
		close(obj);
	np_free(&np);
	if (rc >= 0 && (rc = nr_addfd(r, rc, cloexec)) >= 0) {
		nd_report(r, d, true, 0, NULL);
		return;
	}
	if (rc == -EALREADY)
		return;
	nd_report(r, d, !note[0], note[0] ? EACCES : -rc, note[0] ? note : NULL);
	nr_error(r, -rc);
}

static void h_open(struct nreq *r)
{
	char path[PATH_MAX];
	int dfd = AT_FDCWD, flags;
	mode_t mode;
	uint64_t resolve = 0;

	switch (r->nr) {
	case __NR_open:
		if (read_path(r, r->a[0], path) < 0)
			return;
		flags = (int)r->a[1];
		mode = (mode_t)r->a[2];
		break;
	case __NR_creat:
		if (read_path(r, r->a[0], path) < 0)
			return;
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		mode = (mode_t)r->a[1];
		break;
	case __NR_openat:
		dfd = arg_fd(r->a[0]);
		if (read_path(r, r->a[1], path) < 0)
			return;
		flags = (int)r->a[2];
		mode = (mode_t)r->a[3];
		break;
	default: { /* openat2 */
		struct open_how how = { 0 };
		size_t sz = (size_t)r->a[3];
		dfd = arg_fd(r->a[0]);
		if (sz < sizeof how) {
			nr_error(r, EINVAL);
			return;
		}
		if (read_path(r, r->a[1], path) < 0)
			return;
		if (nm_read(r, r->a[2], &how, sizeof how) < 0) {
			nr_error(r, EFAULT);
			return;
		}
		if (how.flags >> 32 || how.resolve & ~0x3fULL) {
			nr_error(r, EINVAL);
			return;
		}
		flags = (int)how.flags;
		mode = (mode_t)how.mode;
		resolve = how.resolve & ~(uint64_t)RESOLVE_CACHED;
		if (how.resolve & RESOLVE_CACHED) {
			nr_error(r, EAGAIN);    /* the caller retries without it */
			return;
		}
		break;
	}
	}
	if (!nr_valid(r))
		return;
	do_open(r, dfd, path, flags, mode & 07777, resolve);
}

/* ---------------------------------------------------------------- namespace ops */

static int parent_of(struct nreq *r, int dfd, uint64_t addr, struct npath *np)
{
	char path[PATH_MAX];
	int rc;

	np_init(np);
	if (read_path(r, addr, path) < 0)
		return -1;
	if (!nr_valid(r))
		return -1;
	rc = np_parent(r, dfd, path, np);
	if (rc < 0) {
		nr_error(r, -rc);
		return -1;
	}
	return 0;
}

/* Some answers the kernel gives from the name alone, before it checks any
 * permission: EEXIST for creating a name that exists (mkdir, mknod, symlink,
 * link), ENOENT for removing or moving one that does not (unlink, rmdir, a
 * rename's source).  They are no policy question: `mkdir -p /work/a/b` tries
 * every ancestor, git unlinks MERGE_HEAD and friends whether or not they are
 * there, and "denied mkdir /tmp" or an approval prompt for nothing would send
 * an agent after a policy change for a command that works.  Answered as the
 * kernel would, without a decision or a record; lstat tells the same.  The
 * name is looked up as the target, and only a plain answer counts: beneath a
 * cover mount the lookup is refused (EACCES) and the decision is taken. */
static bool answered_by_name(struct nreq *r, const struct npath *np, bool creating)
{
	struct ncreds_saved sv;
	struct stat st;

	if (!np->name[0] || nc_enter(r->n, &sv) < 0)
		return false;
	int err = fstatat(np->dirfd, np->name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? EEXIST
		  : errno == ENOENT ? ENOENT : 0;
	if (err != (creating ? EEXIST : ENOENT))
		return false;
	nr_error(r, err);
	return true;
}

/* rmdir of a directory that has entries fails with ENOTEMPTY; git tries
 * rmdir(".git") and its parents after removing a file, expecting exactly
 * that.  Under a soft_delete or approve decision that is answered at once,
 * without a notice, an approval prompt or a trash attempt (and the session's
 * own directory stays recorded as its own).  Only where the agent could learn
 * it anyway: the policy lets it list the directory, and the listing is done
 * as the target (beneath a cover mount it is refused); a denial of the rmdir
 * stays EACCES. */
static bool answered_not_empty(struct nreq *r, const struct npath *np)
{
	struct ncreds_saved sv;
	struct ndecision rd;

	/* only a directory the agent may list anyway: one bit is one bit */
	if (!np->name[0] || nd_file(r, POLICY_FILE_READ, np->abs, &rd) < 0 ||
	    (rd.res.decision != POLICY_ALLOW && rd.res.decision != POLICY_AUDIT) ||
	    nc_enter(r->n, &sv) < 0)
		return false;
	int full = dir_has_entries(np->dirfd, np->name);
	nc_leave(r->n, &sv);
	if (full <= 0)
		return false;
	nr_error(r, ENOTEMPTY);
	return true;
}

static void h_unlink(struct nreq *r)
{
	struct fplan p;
	struct npath np;
	struct ndecision d;
	int dfd = AT_FDCWD;
	uint64_t addr = r->a[0];
	unsigned fl = 0;

	if (r->nr == __NR_unlinkat) {
		dfd = arg_fd(r->a[0]);
		addr = r->a[1];
		fl = (unsigned)r->a[2];
		if (fl & ~(unsigned)AT_REMOVEDIR) {
			nr_error(r, EINVAL);
			return;
		}
	} else if (r->nr == __NR_rmdir) {
		fl = AT_REMOVEDIR;
	}
	if (parent_of(r, dfd, addr, &np) < 0)
		return;
	if (answered_by_name(r, &np, false)) {
		np_free(&np);
		return;
	}
	plan_init(&p, F_UNLINK);
	p.fd1 = np.dirfd;
	p.rflags = fl;
	snprintf(p.name1, sizeof p.name1, "%s", np.name);
	snprintf(p.abs1, sizeof p.abs1, "%s", np.abs);
	set_target(r, fl ? "rmdir" : "unlink", np.abs, NULL);
	nd_file(r, fl ? POLICY_FILE_RMDIR : POLICY_FILE_DELETE, np.abs, &d);
	if (fl && (d.res.decision == POLICY_SOFT_DELETE || d.res.decision == POLICY_APPROVE) &&
	    answered_not_empty(r, &np)) {
		plan_free(&p);
		return;
	}
	if (d.res.decision == POLICY_SOFT_DELETE) {
		if (!strcmp(p.name1, ".") || !strcmp(p.name1, "..")) {
			d.res.decision = POLICY_DENY;
		} else {
			p.name1[strcspn(p.name1, "/")] = 0;
			p.soft_delete = true;
		}
	}
	act(r, &p, &d, false);
}

static void h_rename(struct nreq *r)
{
	struct fplan p;
	struct npath a, b;
	struct ndecision d, d2;
	int odfd = AT_FDCWD, ndfd = AT_FDCWD;
	uint64_t oa = r->a[0], na = r->a[1];
	unsigned fl = 0;
	struct stat st;

	if (r->nr == __NR_renameat || r->nr == __NR_renameat2) {
		odfd = arg_fd(r->a[0]);
		oa = r->a[1];
		ndfd = arg_fd(r->a[2]);
		na = r->a[3];
		if (r->nr == __NR_renameat2)
			fl = (unsigned)r->a[4];
	}
	if (parent_of(r, odfd, oa, &a) < 0)
		return;
	if (answered_by_name(r, &a, false)) {
		np_free(&a);
		return;
	}
	if (parent_of(r, ndfd, na, &b) < 0) {
		np_free(&a);
		return;
	}
	plan_init(&p, F_RENAME);
	p.fd1 = a.dirfd;
	p.fd2 = b.dirfd;
	p.rflags = fl;
	snprintf(p.name1, sizeof p.name1, "%s", a.name);
	snprintf(p.name2, sizeof p.name2, "%s", b.name);
	snprintf(p.abs1, sizeof p.abs1, "%s", a.abs);
	snprintf(p.abs2, sizeof p.abs2, "%s", b.abs);
	set_target(r, "rename", a.abs, b.abs);
	/* Moving an object away is removing it from its old path; the new path
	 * is written (created or replaced). */
	nd_file(r, POLICY_FILE_RENAME, a.abs, &d);
	nd_file(r, POLICY_FILE_RENAME, b.abs, &d2);
	nd_merge(&d, &d2);
	/* A directory carries its subtree: rules protecting paths below it
	 * would be dodged by moving an ancestor (mv ~/.ssh ~/x), or by moving a
	 * tree made elsewhere to where protected paths live (mv staging
	 * ~/.config/systemd).  A symbolic link moved there decides what those
	 * paths hold just the same. */
	struct stat sst;
	if (fstatat(p.fd1, p.name1, &sst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (S_ISDIR(sst.st_mode) || S_ISLNK(sst.st_mode))) {
		if (S_ISDIR(sst.st_mode)) {
			nd_subtree(r, a.abs, ND_MOVED_AWAY, &d2);
			nd_merge(&d, &d2);
		}
		nd_subtree(r, b.abs, ND_PLACED_AT, &d2);
		nd_merge(&d, &d2);
	}
	if ((fl & RENAME_EXCHANGE) && fstatat(p.fd2, p.name2, &sst, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sst.st_mode)) {
		nd_subtree(r, b.abs, ND_MOVED_AWAY, &d2);
		nd_merge(&d, &d2);
	}
	if (!(fl & RENAME_NOREPLACE) && fstatat(p.fd2, p.name2, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* An existing destination is replaced (or, with EXCHANGE, moved).  A
		 * replaced file is new content at its path, as a write with O_TRUNC
		 * would make it: `write` decides (editors, sed -i and git save by
		 * renaming a temporary file over the old one), except that a
		 * `soft_delete` for deleting it still keeps the old one in the trash.
		 * A replaced (empty) directory is removed: `rmdir`. */
		struct ndecision d3;
		bool file = !(fl & RENAME_EXCHANGE) && !S_ISDIR(st.st_mode);
		nd_file(r, (fl & RENAME_EXCHANGE) ? POLICY_FILE_RENAME
			   : S_ISDIR(st.st_mode) ? POLICY_FILE_RMDIR : POLICY_FILE_DELETE, b.abs, &d3);
		if (file && d3.res.decision == POLICY_SOFT_DELETE && d.res.decision != POLICY_DENY) {
			p.soft_delete_dest = true;
			d3.res.decision = POLICY_ALLOW;
		} else if (file) {
			nd_file(r, POLICY_FILE_WRITE, b.abs, &d3);
		}
		nd_merge(&d, &d3);
	}
	act(r, &p, &d, false);
}

static void h_link(struct nreq *r)
{
	struct fplan p;
	struct npath b;
	struct ndecision d, d2;
	char old[PATH_MAX], abs[PATH_MAX] = "";
	int odfd = AT_FDCWD, ndfd = AT_FDCWD, fl = 0, rc;
	uint64_t oa = r->a[0], na = r->a[1];

	if (r->nr == __NR_linkat) {
		odfd = arg_fd(r->a[0]);
		oa = r->a[1];
		ndfd = arg_fd(r->a[2]);
		na = r->a[3];
		fl = (int)r->a[4];
		if (fl & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
			nr_error(r, EINVAL);
			return;
		}
	}
	if (read_path(r, oa, old) < 0)
		return;
	plan_init(&p, F_LINK);
	if (!old[0] && (fl & AT_EMPTY_PATH))
		rc = np_target_fd(r, odfd, &p.fd1);
	else
		rc = np_object(r, odfd, old, fl & AT_SYMLINK_FOLLOW, &p.fd1, NULL);
	if (rc < 0) {
		nr_error(r, -rc);
		plan_free(&p);
		return;
	}
	bool has_path = np_fd_path(p.fd1, abs, sizeof abs) == 0;
	if (parent_of(r, ndfd, na, &b) < 0) {
		plan_free(&p);
		return;
	}
	if (answered_by_name(r, &b, true)) {
		np_free(&b);
		plan_free(&p);
		return;
	}
	p.fd2 = b.dirfd;
	snprintf(p.name2, sizeof p.name2, "%s", b.name);
	snprintf(p.abs2, sizeof p.abs2, "%s", b.abs);
	set_target(r, "link", has_path ? abs : "(anonymous file)", b.abs);
	/* A hard link is a second name for the same inode: whoever may write
	 * through the new name writes the old file, so the old path must be
	 * writable too. */
	nd_file(r, POLICY_FILE_LINK, b.abs, &d);
	if (has_path) {
		nd_file(r, POLICY_FILE_WRITE, abs, &d2);
		nd_merge(&d, &d2);
	} else {
		nd_file(r, POLICY_FILE_CREATE, b.abs, &d2);
		nd_merge(&d, &d2);
	}
	act(r, &p, &d, false);
}

static void h_symlink(struct nreq *r)
{
	struct fplan p;
	struct npath np;
	struct ndecision d;
	char target[PATH_MAX];
	int dfd = AT_FDCWD;
	uint64_t na = r->a[1];

	if (r->nr == __NR_symlinkat) {
		dfd = arg_fd(r->a[1]);
		na = r->a[2];
	}
	if (read_path(r, r->a[0], target) < 0)
		return;
	if (parent_of(r, dfd, na, &np) < 0)
		return;
	if (answered_by_name(r, &np, true)) {
		np_free(&np);
		return;
	}
	plan_init(&p, F_SYMLINK);
	p.fd1 = np.dirfd;
	snprintf(p.name1, sizeof p.name1, "%s", np.name);
	p.str = strdup(target);
	if (!p.str) {
		plan_free(&p);
		nr_error(r, ENOMEM);
		return;
	}
	set_target(r, "symlink", np.abs, target);
	nd_file(r, POLICY_FILE_SYMLINK, np.abs, &d);
	/* a link at a path that protected paths live below decides what they hold */
	struct ndecision d2;
	nd_subtree(r, np.abs, ND_PLACED_AT, &d2);
	nd_merge(&d, &d2);
	act(r, &p, &d, false);
}

static void h_mkdir_mknod(struct nreq *r)
{
	struct fplan p;
	struct npath np;
	struct ndecision d;
	int dfd = AT_FDCWD;
	uint64_t pa = r->a[0];
	unsigned ai = 1;
	bool nod = r->nr == __NR_mknod || r->nr == __NR_mknodat;

	if (r->nr == __NR_mkdirat || r->nr == __NR_mknodat) {
		dfd = arg_fd(r->a[0]);
		pa = r->a[1];
		ai = 2;
	}
	if (parent_of(r, dfd, pa, &np) < 0)
		return;
	if (answered_by_name(r, &np, true)) {
		np_free(&np);
		return;
	}
	plan_init(&p, nod ? F_MKNOD : F_MKDIR);
	p.fd1 = np.dirfd;
	snprintf(p.name1, sizeof p.name1, "%s", np.name);
	p.mode = (mode_t)r->a[ai];
	if (nod)
		p.dev = (dev_t)r->a[ai + 1];
	set_target(r, nod ? "mknod" : "mkdir", np.abs, NULL);
	nd_file(r, !nod ? POLICY_FILE_MKDIR
		    : (S_ISREG(p.mode) || !(p.mode & S_IFMT)) ? POLICY_FILE_CREATE : POLICY_FILE_MKNOD,
		np.abs, &d);
	act(r, &p, &d, false);
}

/* chmod/chown/truncate/xattr on a path: the object, followed or not. */
static int object_of(struct nreq *r, int dfd, uint64_t addr, bool follow, bool empty_ok,
		     struct fplan *p)
{
	char path[PATH_MAX];
	int rc;

	if (read_path(r, addr, path) < 0)
		return -1;
	if (!nr_valid(r))
		return -1;
	if (!path[0] && empty_ok)
		rc = np_target_fd(r, dfd, &p->fd1);
	else
		rc = np_object(r, dfd, path, follow, &p->fd1, NULL);
	if (rc < 0) {
		nr_error(r, -rc);
		return -1;
	}
	if (np_fd_path(p->fd1, p->abs1, sizeof p->abs1) < 0)
		snprintf(p->abs1, sizeof p->abs1, "%s", "");
	return 0;
}

static void decide_object(struct nreq *r, struct fplan *p, enum policy_file_op op,
			  const char *opname)
{
	struct ndecision d;
	struct stat st;

	set_target(r, opname, p->abs1[0] ? p->abs1 : "(anonymous file)", NULL);
	if (fstat(p->fd1, &st) == 0 && refuse_held_tty(r, p, p->abs1, &st))
		return;
	if (!p->abs1[0]) {
		/* no path: deleted or anonymous; only its holders can reach it */
		d = (struct ndecision){ .kind = POLICY_KIND_FILE };
		d.res.decision = POLICY_ALLOW;
		d.res.rule = "no-path-object";
	} else {
		nd_file(r, op, p->abs1, &d);
	}
	if (d.res.decision == POLICY_SOFT_DELETE)
		d.res.decision = POLICY_ALLOW;
	act(r, p, &d, false);
}

static void h_chmod(struct nreq *r)
{
	struct fplan p;
	int dfd = AT_FDCWD, fl = 0;
	uint64_t pa = r->a[0];
	unsigned mi = 1;

	plan_init(&p, F_CHMOD);
	if (r->nr == __NR_fchmodat || r->nr == __NR_fchmodat2) {
		dfd = arg_fd(r->a[0]);
		pa = r->a[1];
		mi = 2;
		if (r->nr == __NR_fchmodat2)
			fl = (int)r->a[3];
		if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			nr_error(r, EINVAL);
			return;
		}
	}
	p.mode = (mode_t)r->a[mi] & 07777;
	if (object_of(r, dfd, pa, !(fl & AT_SYMLINK_NOFOLLOW), fl & AT_EMPTY_PATH, &p) < 0)
		{ plan_free(&p); return; }
	decide_object(r, &p, POLICY_FILE_CHMOD, "chmod");
}

static void h_chown(struct nreq *r)
{
	struct fplan p;
	int dfd = AT_FDCWD, fl = 0;
	uint64_t pa = r->a[0];
	unsigned ui = 1;

	plan_init(&p, F_CHOWN);
	if (r->nr == __NR_fchownat) {
		dfd = arg_fd(r->a[0]);
		pa = r->a[1];
		ui = 2;
		fl = (int)r->a[4];
		if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			nr_error(r, EINVAL);
			return;
		}
	} else if (r->nr == __NR_lchown) {
		fl = AT_SYMLINK_NOFOLLOW;
	}
	p.uid = (uid_t)r->a[ui];
	p.gid = (gid_t)r->a[ui + 1];
	if (object_of(r, dfd, pa, !(fl & AT_SYMLINK_NOFOLLOW), fl & AT_EMPTY_PATH, &p) < 0)
		{ plan_free(&p); return; }
	decide_object(r, &p, POLICY_FILE_CHOWN, "chown");
}

static void h_truncate(struct nreq *r)
{
	struct fplan p;

	plan_init(&p, F_TRUNCATE);
	p.len = (off_t)r->a[1];
	if (p.len < 0) {
		nr_error(r, EINVAL);
		return;
	}
	if (object_of(r, AT_FDCWD, r->a[0], true, false, &p) < 0)
		{ plan_free(&p); return; }
	decide_object(r, &p, POLICY_FILE_TRUNCATE, "truncate");
}

/* Only the user.* and system.posix_acl_* namespaces are writable without
 * privilege; the supervisor must not lend CAP_SYS_ADMIN for trusted.* or
 * security.*. */
static bool xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "system.posix_acl_", 17);
}

static int xattr_args(struct nreq *r, uint64_t name_addr, uint64_t val_addr, size_t size,
		      bool set, struct fplan *p)
{
	char name[XATTR_NAME_MAX + 1];
	int rc = nm_read_str(r, name_addr, name, sizeof name);

	if (rc < 0) {
		nr_error(r, rc == -ENAMETOOLONG ? ERANGE : EFAULT);
		return -1;
	}
	if (!xattr_name_ok(name)) {
		nr_error(r, EPERM);
		return -1;
	}
	if (set) {
		if (size > XATTR_SIZE_MAX) {
			nr_error(r, E2BIG);
			return -1;
		}
		p->val = malloc(size ? size : 1);
		if (!p->val || (size && nm_read(r, val_addr, p->val, size) < 0)) {
			nr_error(r, p->val ? EFAULT : ENOMEM);
			return -1;
		}
		p->vlen = size;
	}
	p->str = strdup(name);
	if (!p->str) {
		nr_error(r, ENOMEM);
		return -1;
	}
	return 0;
}

static void h_xattr(struct nreq *r)
{
	struct fplan p;
	bool set = r->nr == __NR_setxattr || r->nr == __NR_lsetxattr || r->nr == __NR_fsetxattr;
	bool fdbased = r->nr == __NR_fsetxattr || r->nr == __NR_fremovexattr;
	bool follow = r->nr == __NR_setxattr || r->nr == __NR_removexattr;

	plan_init(&p, set ? F_SETXATTR : F_RMXATTR);
	if (set)
		p.flags = (int)r->a[4];
	if (xattr_args(r, r->a[1], set ? r->a[2] : 0, set ? (size_t)r->a[3] : 0, set, &p) < 0)
		{ plan_free(&p); return; }
	if (fdbased) {
		int rc = np_target_fd(r, arg_fd(r->a[0]), &p.fd1);
		if (rc < 0) {
			nr_error(r, -rc);
			{ plan_free(&p); return; }
		}
		if (np_fd_path(p.fd1, p.abs1, sizeof p.abs1) < 0)
			p.abs1[0] = 0;
	} else if (object_of(r, AT_FDCWD, r->a[0], follow, false, &p) < 0) {
		{ plan_free(&p); return; }
	}
	decide_object(r, &p, POLICY_FILE_XATTR, set ? "setxattr" : "removexattr");
}

/* Timestamps (utimensat, utimes, futimesat, utime) change the file, which
 * Landlock does not govern: the policy decides them as a write.  Each call's
 * times become utimensat's timespec pair; no times means "now". */
enum tform { T_TIMESPEC, T_TIMEVAL, T_UTIMBUF };

static int read_times(struct nreq *r, uint64_t addr, enum tform form, struct fplan *p)
{
	if (!addr) {
		p->ts_now = true;
		return 0;
	}
	if (form == T_TIMESPEC)
		return nm_read(r, addr, p->ts, sizeof p->ts) < 0 ? -EFAULT : 0;
	if (form == T_UTIMBUF) {
		int64_t ub[2];          /* struct utimbuf: actime, modtime */
		if (nm_read(r, addr, ub, sizeof ub) < 0)
			return -EFAULT;
		p->ts[0] = (struct timespec){ .tv_sec = ub[0] };
		p->ts[1] = (struct timespec){ .tv_sec = ub[1] };
		return 0;
	}
	int64_t tv[4];                  /* struct timeval[2] */
	if (nm_read(r, addr, tv, sizeof tv) < 0)
		return -EFAULT;
	for (int i = 0; i < 2; i++) {
		if (tv[2 * i + 1] < 0 || tv[2 * i + 1] >= 1000000)
			return -EINVAL;
		p->ts[i] = (struct timespec){ .tv_sec = tv[2 * i], .tv_nsec = tv[2 * i + 1] * 1000 };
	}
	return 0;
}

/* futimens(fd) / futimesat(fd, NULL): the target's own open file.  The kernel
 * refuses an O_PATH descriptor there (EBADF), and so do we. */
static int times_fd_object(struct nreq *r, int tfd, struct fplan *p)
{
	int rc = np_getfd(r, tfd, &p->fd1);

	if (rc < 0)
		return rc;
	if (fcntl(p->fd1, F_GETFL) & O_PATH)
		return -EBADF;
	if (np_fd_path(p->fd1, p->abs1, sizeof p->abs1) < 0)
		p->abs1[0] = 0;
	return 0;
}

static void h_utimes(struct nreq *r)
{
	struct fplan p;
	int dfd = AT_FDCWD, fl = 0, rc;
	uint64_t pa = r->a[0], ta = r->a[1];
	enum tform form = T_TIMEVAL;

	plan_init(&p, F_UTIMES);
	switch (r->nr) {
	case __NR_utimensat:
		fl = (int)r->a[3];
		form = T_TIMESPEC;
		/* fallthrough */
	case __NR_futimesat:
		dfd = arg_fd(r->a[0]);
		pa = r->a[1];
		ta = r->a[2];
		break;
	case __NR_utime:
		form = T_UTIMBUF;
		break;
	}
	if ((rc = read_times(r, ta, form, &p)) < 0) {
		nr_error(r, -rc);
		return;
	}
	if (!pa && dfd != AT_FDCWD) {
		/* the kernel takes no flags with a descriptor and no path */
		rc = fl ? -EINVAL : times_fd_object(r, dfd, &p);
		if (rc < 0) {
			nr_error(r, -rc);
			plan_free(&p);
			return;
		}
	} else {
		if (fl & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) {
			nr_error(r, EINVAL);
			return;
		}
		if (object_of(r, dfd, pa, !(fl & AT_SYMLINK_NOFOLLOW), fl & AT_EMPTY_PATH, &p) < 0)
			{ plan_free(&p); return; }
	}
	decide_object(r, &p, POLICY_FILE_WRITE, "utimes");
}

/* ---------------------------------------------------------------- fd-based */

void nh_file_fd(struct nreq *r)
{
	struct fplan p;
	int rc;

	if (r->nr == __NR_fsetxattr || r->nr == __NR_fremovexattr) {
		h_xattr(r);
		return;
	}
	plan_init(&p, r->nr == __NR_fchmod ? F_CHMOD : r->nr == __NR_fchown ? F_CHOWN : F_TRUNCATE);
	rc = np_target_fd(r, arg_fd(r->a[0]), &p.fd1);
	if (rc < 0) {
		nr_error(r, -rc);
		return;
	}
	if (np_fd_path(p.fd1, p.abs1, sizeof p.abs1) < 0)
		p.abs1[0] = 0;
	switch (p.k) {
	case F_CHMOD:
		p.mode = (mode_t)r->a[1] & 07777;
		decide_object(r, &p, POLICY_FILE_CHMOD, "chmod");
		return;
	case F_CHOWN:
		p.uid = (uid_t)r->a[1];
		p.gid = (gid_t)r->a[2];
		decide_object(r, &p, POLICY_FILE_CHOWN, "chown");
		return;
	default: {
		/* ftruncate acts on the open file itself (it must be open for
		 * writing): use the target's own open file description. */
		int real;
		p.len = (off_t)r->a[1];
		if ((rc = np_getfd(r, arg_fd(r->a[0]), &real)) < 0) {
			nr_error(r, -rc);
			plan_free(&p);
			return;
		}
		struct ndecision d;
		set_target(r, "truncate", p.abs1[0] ? p.abs1 : "(anonymous file)", NULL);
		if (p.abs1[0])
			nd_file(r, POLICY_FILE_TRUNCATE, p.abs1, &d);
		else
			d = (struct ndecision){ .kind = POLICY_KIND_FILE,
						.res = { .decision = POLICY_ALLOW, .rule = "no-path-object" } };
		if (d.res.decision == POLICY_ALLOW || d.res.decision == POLICY_AUDIT ||
		    d.res.decision == POLICY_SOFT_DELETE) {
			rc = ftruncate_as_target(r, real, p.len);
			close(real);
			/* allowed; a failure is the kernel's answer (EFBIG), no denial */
			nd_report(r, &d, true, -rc, NULL);
			if (rc < 0)
				nr_error(r, -rc);
			else
				nr_value(r, 0);
			plan_free(&p);
			return;
		}
		close(real);
		act(r, &p, &d, false);
		return;
	}
	}
}

/* ---------------------------------------------------------------- dispatch */

bool nh_is_file(int nr)
{
	switch (nr) {
	case __NR_open: case __NR_creat: case __NR_openat: case __NR_openat2:
	case __NR_unlink: case __NR_unlinkat: case __NR_rmdir:
	case __NR_rename: case __NR_renameat: case __NR_renameat2:
	case __NR_link: case __NR_linkat: case __NR_symlink: case __NR_symlinkat:
	case __NR_mkdir: case __NR_mkdirat: case __NR_mknod: case __NR_mknodat:
	case __NR_chmod: case __NR_fchmodat: case __NR_fchmodat2:
	case __NR_chown: case __NR_lchown: case __NR_fchownat:
	case __NR_truncate:
	case __NR_setxattr: case __NR_lsetxattr: case __NR_removexattr: case __NR_lremovexattr:
	case __NR_setxattrat: case __NR_removexattrat:
	case __NR_utimensat: case __NR_utimes: case __NR_futimesat: case __NR_utime:
		return true;
	}
	return false;
}

bool nh_is_file_fd(int nr)
{
	return nr == __NR_fchmod || nr == __NR_fchown || nr == __NR_ftruncate ||
	       nr == __NR_fsetxattr || nr == __NR_fremovexattr;
}

void nh_file(struct nreq *r)
{
	switch (r->nr) {
	case __NR_open: case __NR_creat: case __NR_openat: case __NR_openat2:
		h_open(r); return;
	case __NR_unlink: case __NR_unlinkat: case __NR_rmdir:
		h_unlink(r); return;
	case __NR_rename: case __NR_renameat: case __NR_renameat2:
		h_rename(r); return;
	case __NR_link: case __NR_linkat:
		h_link(r); return;
	case __NR_symlink: case __NR_symlinkat:
		h_symlink(r); return;
	case __NR_mkdir: case __NR_mkdirat: case __NR_mknod: case __NR_mknodat:
		h_mkdir_mknod(r); return;
	case __NR_chmod: case __NR_fchmodat: case __NR_fchmodat2:
		h_chmod(r); return;
	case __NR_chown: case __NR_lchown: case __NR_fchownat:
		h_chown(r); return;
	case __NR_truncate:
		h_truncate(r); return;
	case __NR_setxattr: case __NR_lsetxattr: case __NR_removexattr: case __NR_lremovexattr:
		h_xattr(r); return;
	case __NR_utimensat: case __NR_utimes: case __NR_futimesat: case __NR_utime:
		h_utimes(r); return;
	default:
		/* setxattrat/removexattrat (6.13+): glibc does not use them; callers
		 * fall back to the classic calls on ENOSYS. */
		nr_error(r, ENOSYS);
	}
}
