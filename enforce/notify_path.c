/* notify_path.c — resolving a path the way the kernel will for the target.
 *
 * The walk starts at the target's root (/proc/TID/root) or cwd/dirfd
 * (/proc/TID/cwd, /proc/TID/fd/N) and goes one component at a time with
 * O_PATH|O_NOFOLLOW, as the target's file-system identity (nc_enter by the
 * caller), so search permissions are the target's.  Symlinks are read and
 * spliced in; ".." stops at the target's root; in procfs "self" and
 * "thread-self" name the target (not the supervisor) and per-process magic
 * links (fd/N, cwd, root, exe) are followed by the kernel itself, so they jump
 * to the object the target would reach.  The result is an fd: the operation
 * is then performed on exactly the object the decision was made for. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

#define MAX_LINKS 40
#define PROC_ROOT_INO 1

void np_init(struct npath *p)
{
	p->dirfd = -1;
	p->name[0] = 0;
	p->abs[0] = 0;
	p->trailing_slash = false;
}

void np_free(struct npath *p)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	p->dirfd = -1;
}

/* Opened with the supervisor's own credentials: a process may always reach its
 * own cwd/fds even when it is not dumpable. */
static int proc_opath(pid_t pid, const char *what, int *out)
{
	char p[64];
	int fd;

	/* as ourselves: a non-dumpable target's /proc/PID/fd is root's 0500
	 * directory, which the target's fsuid (fs capabilities dropped) cannot
	 * search, while the target itself always may */
	nc_root();
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, what);
	fd = open(p, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -EBADF : -errno;
	*out = fd;
	return 0;
}

int np_dirfd(struct nreq *r, int dfd, int *out)
{
	char what[32];

	if (dfd == AT_FDCWD)
		return proc_opath(r->pid, "cwd", out);
	if (dfd < 0)
		return -EBADF;
	snprintf(what, sizeof what, "fd/%d", dfd);
	return proc_opath(r->pid, what, out);
}

int np_target_fd(struct nreq *r, int tfd, int *out)
{
	return np_dirfd(r, tfd < 0 ? -1 : tfd, out);
}

int np_getfd(struct nreq *r, int tfd, int *out)
{
	int pfd, fd, rc;

	if (!r->tgid && (rc = nc_tgid(r->pid, &r->tgid, NULL)) < 0)
		return rc;
	nc_need_caps();
	/* A pidfd of the thread's process (pidfd_getfd takes any pidfd of it). */
	pfd = (int)syscall(__NR_pidfd_open, r->tgid, 0);
	if (pfd < 0)
		return -errno;
	fd = (int)syscall(__NR_pidfd_getfd, pfd, tfd, 0);
	int err = errno;
	close(pfd);
	if (fd < 0)
		return err == EBADF ? -EBADF : -err;
	*out = fd;
	return 0;
}

int np_fd_path(int fd, char *abs, size_t len)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	n = readlink(p, abs, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	abs[n] = 0;
	if (abs[0] != '/')
		return -ENOENT;         /* pipe:, socket:, anon_inode: */
	if (n > 10 && !strcmp(abs + n - 10, " (deleted)"))
		return -ENOENT;
	if (!strncmp(abs, "/memfd:", 7))
		return -ENOENT;
	return 0;
}

struct walk {
	struct nreq *r;
	int root;               /* the target's root, O_PATH */
	struct stat rootst;
	int links;
	struct ncreds_saved *sv;        /* the walk's target identity */
	char rest[2 * PATH_MAX];
};

/* fd's path, if it is /proc/<id>[/rest]: id, and rest ("" for the pid's
 * directory itself). */
static bool proc_pid_path(int fd, char *buf, size_t len, long *id, const char **rest)
{
	char *end;

	if (np_fd_path(fd, buf, len) < 0 || strncmp(buf, "/proc/", 6))
		return false;
	*id = strtol(buf + 6, &end, 10);
	if (end == buf + 6 || (*end && *end != '/'))
		return false;
	*rest = *end ? end + 1 : end;
	return true;
}

/* Is fd a directory of the target's own /proc/<tgid>/ tree?  A process may
 * always follow its own magic links, even when it is not dumpable (the
 * kernel's ptrace_may_access() allows the same thread group), while the
 * supervisor acting as its uid would be refused. */
static bool own_proc_entry(struct nreq *r, int fd)
{
	char p[PATH_MAX];
	const char *rest;
	long id;

	if (!proc_pid_path(fd, p, sizeof p, &id, &rest))
		return false;
	if (!r->tgid && nc_tgid(r->pid, &r->tgid, NULL) < 0)
		return false;
	return id == r->tgid;
}

static bool own_proc_dir(struct walk *w, int fd)
{
	return own_proc_entry(w->r, fd);
}

static bool on_proc(int fd);

/* Before the final open (or truncate) of an object the walk resolved: the
 * capabilities the target itself would have there.  On procfs the target's
 * own /proc/<tgid> tree keeps CAP_SYS_PTRACE, since a process may open its
 * own environ, maps or mem even when it is not dumpable; any other process's
 * entries get no capability (CAP_SYS_PTRACE would open a non-dumpable
 * process's memory).  Needed after a deferral too: an approved open runs in
 * a worker thread that starts from root's identity.  0, or -EACCES when the
 * identity cannot be set. */
int np_final_caps(struct nreq *r, int fd)
{
	struct ncreds_saved sv;
	struct stat st;

	/* every emulated open passes here: procfs is told by its device alone
	 * (on_proc would ask fstatfs about every tmpfs file) */
	if (fstat(fd, &st) < 0)
		return -errno;
	if (r->n->proc_dev ? st.st_dev != r->n->proc_dev : !on_proc(fd))
		return 0;
	if (own_proc_entry(r, fd)) {
		nc_need_caps();
		return nc_enter(r->n, &sv) < 0 ? -EACCES : 0;
	}
	return nc_drop_caps() < 0 ? -EACCES : 0;
}

/* Is process id a live one whose every uid is the account's?  Otherwise the
 * kernel refuses the account its ptrace-class entries anyway, or (a zombie:
 * `ps` after a server was killed) they hold nothing. */
static bool account_process(struct notify *n, long id)
{
	char v[128];
	unsigned u[4];
	uid_t a = n->cfg.account.uid;

	if (nc_status_field((pid_t)id, "State", v, sizeof v) < 0 || v[0] == 'Z' || v[0] == 'X')
		return false;
	return nc_status_field((pid_t)id, "Uid", v, sizeof v) == 0 &&
	       sscanf(v, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) == 4 &&
	       u[0] == a && u[1] == a && u[2] == a && u[3] == a;
}

/* One notice and one audit record: an account's own process outside agentsh
 * (a tmux server, the human's shell) is worth naming.  A process of another
 * uid, which the kernel would refuse the account anyway (`ps aux` tries
 * every process's environ), is recorded without a notice.  Quiet for this
 * record only: a later decision of the same syscall is reported as usual. */
static void report_outside_proc(struct nreq *r, const char *path, long id)
{
	const char *quiet = r->quiet;
	char msg[160];

	if (!r->target[0])
		snprintf(r->target, sizeof r->target, "%s", path);
	r->quiet = account_process(r->n, id) ? NULL : "kernel_refuses";
	snprintf(msg, sizeof msg, "process %ld is outside this session: only its stat, status, "
		 "cmdline, comm and statm are open to the session", id);
	nd_report_plain(r, "outside-process", EACCES, msg);
	r->quiet = quiet;
}

/* rest (what follows /proc/<pid>/) needs no ptrace access: the pid directory,
 * its task list, a task directory, and the world-readable entries. */
static bool open_to_all(const char *rest)
{
	static const char *const entries[] = { "stat", "status", "cmdline", "comm", "statm" };
	char *end;

	if (!strncmp(rest, "task", 4) && (!rest[4] || rest[4] == '/')) {
		if (!rest[4])
			return true;
		strtol(rest + 5, &end, 10);
		if (end == rest + 5 || (*end && *end != '/'))
			return false;
		rest = *end ? end + 1 : end;
	}
	if (!*rest)
		return true;
	for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
		if (!strcmp(rest, entries[i]))
			return true;
	return false;
}

/* Is fd (just opened by the walk) in the /proc/<pid> tree of a process
 * outside the session, beyond what any process may read there?  The walk runs
 * in the supervisor, which is in no Landlock domain: where the kernel would
 * refuse the target (Landlock denies ptrace-mode access, i.e. fd/, cwd, root,
 * exe, maps, mem, environ..., towards processes outside its domain), the
 * supervisor acting with the target's uid would be let in.  An account's
 * process outside agentsh (a tmux server, the human's login shell) would hand
 * the session its descriptors, cwd and memory layout, and the supervisor's own
 * tree (the kernel lets a process into its own entries whatever their mode)
 * would hand it the human's terminal.  Outside the session the walk gives
 * what open_to_all() lists, and EACCES for the rest.  Inside the session the
 * kernel decides as it would for the target.  Asked of every component of
 * every walk: anything but procfs is let go by its device number alone, and
 * what is open to all by its name, before any lookup (`ps` reads three
 * entries of every process). */
static bool outside_proc_refused(struct walk *w, int fd, const struct stat *st)
{
	struct nreq *r = w->r;
	struct notify *n = r->n;
	char p[PATH_MAX];
	const char *rest;
	long id;

	if (n->proc_dev ? st->st_dev != n->proc_dev : !on_proc(fd))
		return false;
	if (!proc_pid_path(fd, p, sizeof p, &id, &rest) || open_to_all(rest))
		return false;
	if (!r->tgid && nc_tgid(r->pid, &r->tgid, NULL) < 0)
		return true;
	/* The id is checked after its directory was opened: if the process has
	 * died since, a recycled id may be misjudged, but the opened directory
	 * is then dead and yields nothing. */
	if (id != n->self && (id == r->tgid || nc_in_session(n, (pid_t)id)))
		return false;
	report_outside_proc(r, p, id);
	return true;
}

static bool is_proc_root(int fd)
{
	struct statfs sf;
	struct stat st;

	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC &&
	       fstat(fd, &st) == 0 && st.st_ino == PROC_ROOT_INO;
}

static bool on_proc(int fd)
{
	struct statfs sf;
	struct stat st;

	/* procfs has an anonymous device (major 0); fstatfs is costly on
	 * ext4, so only ask it about anonymous-device filesystems. */
	if (fstat(fd, &st) < 0 || major(st.st_dev) != 0)
		return false;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static bool same_file(int fd, const struct stat *b)
{
	struct stat a;

	return fstat(fd, &a) == 0 && a.st_dev == b->st_dev && a.st_ino == b->st_ino;
}

/* The last number of an NSpid/NStgid line: the id in the innermost pid
 * namespace, which is the one the target's /proc shows. */
static int ns_id(pid_t pid, const char *key, char *out, size_t len)
{
	char v[128];
	int rc = nc_status_field(pid, key, v, sizeof v);

	if (rc < 0)
		return rc;
	char *last = strrchr(v, '\t');
	last = last ? last + 1 : v;
	last += strspn(last, " ");
	snprintf(out, len, "%s", last);
	return 0;
}

/* rest := prefix + "/" + tail (tail may be empty). */
/* openat in the walk: with the target's identity, except inside the target's
 * own /proc/<tgid> tree (see own_proc_dir). */
static int walk_openat(struct walk *w, int dir, const char *comp, int flags)
{
	bool proc = on_proc(dir);
	bool own = proc && !is_proc_root(dir) && own_proc_dir(w, dir);
	int fd, e;

	if (own)
		nc_root();
	else if (proc && nc_drop_caps() < 0) {
		errno = EACCES;
		return -1;
	}
	fd = openat(dir, comp, flags);
	e = errno;
	if (own && (nc_enter(w->r->n, w->sv) < 0 || nc_drop_caps() < 0)) {
		if (fd >= 0)
			close(fd);
		errno = EACCES;
		return -1;
	}
	errno = e;
	return fd;
}

static int path_splice(struct walk *w, const char *prefix, const char *tail)
{
	char tmp[2 * PATH_MAX];
	int n = snprintf(tmp, sizeof tmp, "%s%s%s", prefix, *tail ? "/" : "", tail);

	if (n < 0 || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(w->rest, tmp, (size_t)n + 1);
	return 0;
}

/* Walk w->rest from *cur (owned).  want_parent: stop before the last
 * component and return it in p->name.  Otherwise follow (per `follow`) and
 * return the object in *cur. */
static int walk(struct walk *w, int *cur, bool want_parent, bool follow, struct npath *p)
{
	for (;;) {
		char *s = w->rest;
		if (*s == '/') {
			int fd = dup(w->root);
			if (fd < 0)
				return -errno;
			close(*cur);
			*cur = fd;
			s += strspn(s, "/");
		}
		if (!*s) {
			/* "/" or "": the object is *cur. */
			if (want_parent) {
				snprintf(p->name, sizeof p->name, ".");
			}
			return 0;
		}
		size_t cl = strcspn(s, "/");
		if (cl > NAME_MAX)
			return -ENAMETOOLONG;
		char comp[NAME_MAX + 1];
		memcpy(comp, s, cl);
		comp[cl] = 0;
		char *tail = s + cl;
		bool trailing = *tail == '/';
		tail += strspn(tail, "/");
		bool last = !*tail;

		if (last && want_parent) {
			snprintf(p->name, sizeof p->name, "%s%s", comp, trailing ? "/" : "");
			p->trailing_slash = trailing;
			return 0;
		}
		if (!strcmp(comp, ".")) {
			memmove(w->rest, tail, strlen(tail) + 1);
			continue;
		}
		if (!strcmp(comp, "..")) {
			if (!same_file(*cur, &w->rootst)) {
				int fd = openat(*cur, "..", O_PATH | O_NOFOLLOW | O_CLOEXEC);
				if (fd < 0)
					return -errno;
				close(*cur);
				*cur = fd;
			}
			memmove(w->rest, tail, strlen(tail) + 1);
			continue;
		}
		if ((!strcmp(comp, "self") || !strcmp(comp, "thread-self")) && is_proc_root(*cur)) {
			char tg[32], td[32], pre[96];
			int rc = ns_id(w->r->pid, "NStgid", tg, sizeof tg);
			if (rc < 0)
				return rc;
			if (comp[0] == 's') {
				snprintf(pre, sizeof pre, "%s", tg);
			} else {
				if ((rc = ns_id(w->r->pid, "NSpid", td, sizeof td)) < 0)
					return rc;
				snprintf(pre, sizeof pre, "%s/task/%s", tg, td);
			}
			if ((rc = path_splice(w, pre, tail)) < 0)
				return rc;
			if (trailing && last)
				strncat(w->rest, "/", sizeof w->rest - strlen(w->rest) - 1);
			continue;
		}
		int fd = walk_openat(w, *cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		struct stat st;
		if (fstat(fd, &st) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (outside_proc_refused(w, fd, &st)) {
			close(fd);
			return -EACCES;
		}
		if (S_ISLNK(st.st_mode) && (!last || follow || trailing)) {
			if (++w->links > MAX_LINKS) {
				close(fd);
				return -ELOOP;
			}
			if (on_proc(*cur) && !is_proc_root(*cur)) {
				/* A magic link (fd/N, cwd, root, exe, map_files/...):
				 * let the kernel jump, as it will for the target. */
				int mfd = walk_openat(w, *cur, comp, O_PATH | O_CLOEXEC);
				int e = errno;
				close(fd);
				if (mfd < 0)
					return -e;
				close(*cur);
				*cur = mfd;
				memmove(w->rest, tail, strlen(tail) + 1);
				if (last)
					return 0;
				continue;
			}
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
			int e = errno;
			close(fd);
			if (n < 0)
				return -e;
			target[n] = 0;
			char keep[2 * PATH_MAX];
			snprintf(keep, sizeof keep, "%s%s", tail, (trailing && last) ? "/" : "");
			int rc = path_splice(w, target, keep);
			if (rc < 0)
				return rc;
			if (last && !*keep && !trailing) {
				/* the link is the last component: keep "follow" semantics
				 * for the spliced target (it is now the last one). */
			}
			continue;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			close(fd);
			return -ENOTDIR;
		}
		close(*cur);
		*cur = fd;
		memmove(w->rest, tail, strlen(tail) + 1);
		if (last) {
			if (trailing && !S_ISDIR(st.st_mode))
				return -ENOTDIR;
			return 0;
		}
	}
}

static int walk_start(struct nreq *r, int dfd, const char *path, struct walk *w, int *cur)
{
	int rc;

	w->r = r;
	w->links = 0;
	w->root = -1;
	*cur = -1;
	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	snprintf(w->rest, sizeof w->rest, "%s", path);
	if ((rc = proc_opath(r->pid, "root", &w->root)) < 0)
		return rc;
	if (fstat(w->root, &w->rootst) < 0)
		return -errno;
	if (path[0] == '/')
		*cur = dup(w->root);
	else if ((rc = np_dirfd(r, dfd, cur)) < 0)
		return rc;
	if (*cur < 0)
		return -errno;
	if (path[0] != '/') {
		struct stat st;
		if (fstat(*cur, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
	}
	return 0;
}

/* The walk runs with the target's credentials; the starting points were
 * opened with ours (see proc_opath). */
static int walk_as_target(struct nreq *r, struct walk *w, int *cur, bool want_parent,
			  bool follow, struct npath *p)
{
	struct ncreds_saved sv;
	int rc = nc_enter(r->n, &sv);

	if (rc < 0)
		return rc;
	w->sv = &sv;
	rc = walk(w, cur, want_parent, follow, p);
	nc_leave(r->n, &sv);
	return rc;
}

int np_join(char *abs, size_t len, const char *dir, const char *name)
{
	char tmp[PATH_MAX];
	size_t nl = strcspn(name, "/");
	int n;

	if (!strcmp(name, ".") || !*name)
		n = snprintf(tmp, sizeof tmp, "%s", dir);
	else
		n = snprintf(tmp, sizeof tmp, "%s%s%.*s", dir, strcmp(dir, "/") ? "/" : "", (int)nl, name);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(abs, tmp, (size_t)n + 1);
	return 0;
}


/* ---------------------------------------------------------------- fast path */

/* Is the target's root our root (same mount, same directory)?  Then one
 * openat2() resolves a path exactly as the kernel will for the target, as long
 * as it crosses no magic link (refused by RESOLVE_NO_MAGICLINKS) and does not
 * end in procfs (where "self" would have meant the supervisor).  Cached per
 * supervisor: the sandbox cannot chroot, pivot_root or unshare. */
static bool same_root(struct nreq *r)
{
	struct notify *n = r->n;
	int v = atomic_load(&n->root_same);

	if (v)
		return v > 0;
	char p[64];
	struct statx a, b;
	snprintf(p, sizeof p, "/proc/%d/root", (int)r->pid);
	nc_need_caps();
	bool same = statx(AT_FDCWD, p, 0, STATX_INO | STATX_MNT_ID, &a) == 0 &&
		    statx(AT_FDCWD, "/", 0, STATX_INO | STATX_MNT_ID, &b) == 0 &&
		    (a.stx_mask & STATX_MNT_ID) && (b.stx_mask & STATX_MNT_ID) &&
		    a.stx_mnt_id == b.stx_mnt_id && a.stx_ino == b.stx_ino &&
		    a.stx_dev_major == b.stx_dev_major && a.stx_dev_minor == b.stx_dev_minor;
	atomic_store(&n->root_same, same ? 1 : -1);
	return same;
}

/* The targets' root, opened once through the first caller's /proc/TID/root
 * and shared by every handler thread (the caller must not close it).  Valid
 * for every process of this listener for the reason same_root() is cached:
 * none can chroot, pivot_root, unshare or setns (seccomp.c), so all share the
 * root of the delegate the listener was made for. */
static int target_root(struct nreq *r)
{
	struct notify *n = r->n;
	int fd = atomic_load(&n->root_fd), mine;

	if (fd >= 0)
		return fd;
	if (proc_opath(r->pid, "root", &mine) < 0)
		return -1;
	if (atomic_compare_exchange_strong(&n->root_fd, &fd, mine))
		return mine;
	close(mine);            /* another thread was first: fd holds its */
	return fd;
}

static bool result_on_proc(int fd)
{
	struct stat st;
	struct statfs sf;

	if (fstat(fd, &st) < 0)
		return true;
	if (major(st.st_dev) != 0)
		return false;
	return fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC;
}

/* 0 with *out; -ENOENT when the name is certainly missing for the target
 * (below); or -EAGAIN: take the careful walk (also for every other error, so
 * that the walk gives the authoritative one).
 *
 * A target in another root (the session's private mount namespace) is
 * resolved from its own root, opened through /proc/TID/root: an absolute path
 * with RESOLVE_IN_ROOT, where "/" and every ".." at the top stay at that root
 * and absolute symlinks restart there, exactly as the kernel does for the
 * target; a relative one with RESOLVE_BENEATH, which refuses (and so sends to
 * the walk) any ".." or absolute symlink that would leave the start
 * directory, because only the walk knows where the target's root is then. */
static int fast_resolve(struct nreq *r, int dfd, const char *path, bool follow, bool parent,
			int *out, char *name)
{
	char dir[PATH_MAX];
	const char *what = path;
	int start = AT_FDCWD, fd, rc;
	bool same = same_root(r);
	struct ncreds_saved sv;

	if (parent) {
		size_t l = strlen(path);
		const char *slash = strrchr(path, '/');
		const char *base = slash ? slash + 1 : path;
		if (!l || path[l - 1] == '/' || !*base || !strcmp(base, ".") || !strcmp(base, "..") ||
		    strlen(base) > NAME_MAX || l >= sizeof dir)
			return -EAGAIN;
		if (!slash)
			snprintf(dir, sizeof dir, ".");
		else if (slash == path)
			snprintf(dir, sizeof dir, "/");
		else
			snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		memcpy(name, base, strlen(base) + 1);
		what = dir;
	}
	if (what[0] != '/' && (rc = np_dirfd(r, dfd, &start)) < 0)
		return -EAGAIN;
	int root = what[0] == '/' && !same ? target_root(r) : AT_FDCWD;
	if (root == -1)
		return -EAGAIN;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (parent ? O_DIRECTORY : follow ? 0 : O_NOFOLLOW),
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (same ? 0 : what[0] == '/' ? RESOLVE_IN_ROOT : RESOLVE_BENEATH),
	};
	if ((rc = nc_enter(r->n, &sv)) < 0) {
		if (start >= 0)
			close(start);
		return -EAGAIN;
	}
	fd = (int)syscall(__NR_openat2, what[0] == '/' ? root : start, what, &how, sizeof how);
	if (fd < 0 && errno == ENOENT && !(start >= 0 && result_on_proc(start))) {
		/* Most notified opens that fail are a compiler or the dynamic
		 * loader probing search paths.  Without crossing a mount the
		 * lookup never entered procfs (where "self" would have meant the
		 * supervisor): then ENOENT is the kernel's answer for the target
		 * too, and the careful walk would only say it again, slower. */
		how.resolve |= RESOLVE_NO_XDEV;
		int again = (int)syscall(__NR_openat2, what[0] == '/' ? root : start, what, &how,
					 sizeof how);
		if (again < 0 && errno == ENOENT) {
			if (start >= 0)
				close(start);
			return -ENOENT;
		}
		if (again >= 0)
			close(again);   /* made meanwhile: let the walk look */
	}
	if (start >= 0)
		close(start);
	if (fd < 0)
		return -EAGAIN;
	if (result_on_proc(fd)) {
		close(fd);
		return -EAGAIN;
	}
	*out = fd;
	return 0;
}

/* An openat2() with RESOLVE_* flags, resolved by the kernel's own resolver
 * from the target's directory (or, for an absolute path, its root), as the
 * target.  A result on procfs is resolved again by the careful walk: the
 * kernel's pass ran in the supervisor, where "self" is the supervisor and no
 * Landlock domain keeps it out of other processes' fd/, maps and mem, while
 * the walk names the target and refuses what the kernel would refuse it
 * (outside_proc_refused).  The kernel's pass has already applied the flags
 * to the same components; only RESOLVE_IN_ROOT, whose "/" is the start
 * directory, cannot be walked again, and is refused there (EXDEV). */
int np_resolve2(struct nreq *r, int dfd, const char *path, uint64_t resolve, bool follow,
		bool parent, int *out, char *name)
{
	struct ncreds_saved sv;
	char buf[PATH_MAX];
	const char *what = path;
	int base = -1, rc;

	if (parent) {
		snprintf(buf, sizeof buf, "%s", path);
		char *slash = strrchr(buf, '/');
		if (slash && slash[1] == 0)
			return -EISDIR;
		const char *last = slash ? slash + 1 : buf;
		if (strlen(last) > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, last, strlen(last) + 1);
		if (slash == buf)
			snprintf(buf, sizeof buf, "/");
		else if (slash)
			*slash = 0;
		else
			snprintf(buf, sizeof buf, ".");
		what = buf;
	}
	/* An absolute path starts at the target's root, which is not ours
	 * when the session has a mount namespace of its own. */
	bool from_root = what[0] == '/' && !(resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) &&
			 !same_root(r);
	if (from_root) {
		int root = target_root(r);
		if (root < 0 || (base = dup(root)) < 0)
			return -EACCES;
	} else if ((rc = np_dirfd(r, dfd, &base)) < 0) {
		return rc;
	}
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | (follow || parent ? 0 : O_NOFOLLOW),
		.resolve = resolve | RESOLVE_NO_MAGICLINKS | (from_root ? RESOLVE_IN_ROOT : 0),
	};
	if ((rc = nc_enter(r->n, &sv)) < 0) {
		close(base);
		return rc;
	}
	int fd = (int)syscall(__NR_openat2, base, what, &how, sizeof how);
	rc = fd < 0 ? -errno : 0;
	nc_leave(r->n, &sv);
	close(base);
	if (rc < 0)
		return rc;
	if (!result_on_proc(fd)) {
		*out = fd;
		return 0;
	}
	close(fd);
	if (resolve & RESOLVE_IN_ROOT)
		return -EXDEV;
	if (!parent)
		return np_object(r, dfd, path, follow, out, NULL);
	struct npath np;
	if ((rc = np_parent(r, dfd, path, &np)) < 0)
		return rc;
	snprintf(name, NAME_MAX + 2, "%s", np.name);
	*out = np.dirfd;
	return 0;
}

int np_parent(struct nreq *r, int dfd, const char *path, struct npath *p)
{
	struct walk *w = malloc(sizeof *w);
	int cur = -1, rc = 0;
	char dir[PATH_MAX];

	if (!w)
		return -ENOMEM;
	np_init(p);
	w->root = -1;
	if (!*path) {
		rc = -ENOENT;
		goto out;
	}
	if ((rc = fast_resolve(r, dfd, path, false, true, &cur, p->name)) == -ENOENT)
		goto out;
	if (rc < 0) {
		if ((rc = walk_start(r, dfd, path, w, &cur)) < 0)
			goto out;
		if ((rc = walk_as_target(r, w, &cur, true, false, p)) < 0)
			goto out;
	}
	if ((rc = np_fd_path(cur, dir, sizeof dir)) < 0)
		goto out;
	if ((rc = np_join(p->abs, sizeof p->abs, dir, p->name)) < 0)
		goto out;
	p->dirfd = cur;
	cur = -1;
out:
	if (cur >= 0)
		close(cur);
	if (w->root >= 0)
		close(w->root);
	free(w);
	return rc;
}

int np_object(struct nreq *r, int dfd, const char *path, bool follow, int *fd, char *abs)
{
	struct walk *w = malloc(sizeof *w);
	struct npath dummy;
	int cur = -1, rc = 0;

	if (!w)
		return -ENOMEM;
	*fd = -1;
	np_init(&dummy);
	w->root = -1;
	if (!*path) {
		rc = -ENOENT;
		goto out;
	}
	if ((rc = fast_resolve(r, dfd, path, follow, false, &cur, NULL)) == -ENOENT)
		goto out;
	if (rc < 0) {
		if ((rc = walk_start(r, dfd, path, w, &cur)) < 0)
			goto out;
		if ((rc = walk_as_target(r, w, &cur, false, follow, &dummy)) < 0)
			goto out;
	}
	if (abs && (rc = np_fd_path(cur, abs, PATH_MAX)) < 0) {
		/* keep the fd: anonymous objects are the caller's call */
		*fd = cur;
		cur = -1;
		goto out;
	}
	*fd = cur;
	cur = -1;
out:
	if (cur >= 0)
		close(cur);
	if (w->root >= 0)
		close(w->root);
	free(w);
	return rc;
}
