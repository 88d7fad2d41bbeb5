/* mountfloor.c — read denies of literal paths, held by the kernel at zero cost
 * per unrelated open and even if the supervisor dies: each delegate gets a
 * private mount namespace in which every such path is covered by a node of the
 * supervisor's refusing FUSE filesystem (trap.c), so each attempt is refused
 * with EACCES *and* audited.  If the supervisor dies the FUSE connection
 * aborts and the covers answer ENOTCONN: still closed.
 *
 * Why not Landlock: Landlock only grants, so denying ~/.ssh means granting every
 * sibling of every ancestor, and files created later next to them would be
 * unreadable.  A cover mount denies exactly the path.
 *
 * Only what first-match order allows is covered: a deny rule's path is skipped
 * when an earlier non-deny rule that allows reads could match inside it (or
 * around it); the notify supervisor decides those.  When every read-gating
 * rule is covered here, read-only opens need no notification at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

#define RUN_DIR "/run/agentsh"
#define STAGE_DIR RUN_DIR "/stage"     /* where the child mounts the trap first */
#define FLOOR_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* a is p or an ancestor of p (lexically, on '/' boundaries) */
static bool is_prefix(const char *a, const char *p)
{
	size_t n = strlen(a);
	if (n == 1 && a[0] == '/')
		return true;
	return strncmp(a, p, n) == 0 && (p[n] == 0 || p[n] == '/');
}

/* "<literal>/<**>" or a literal path -> the path to cover. */
static bool coverable(const char *glob, char *out, size_t n)
{
	bool literal;
	if (policy_glob_static_prefix(glob, out, n, &literal) < 0 || out[0] != '/')
		return false;
	if (literal)
		return true;
	size_t l = strlen(out);
	return strncmp(glob, out, l) == 0 && strcmp(glob + l, "/**") == 0;
}

static bool overlaps_earlier(const struct policy *p, size_t upto, const char *path)
{
	for (size_t j = 0; j < upto; j++) {
		struct policy_file_rule_info rj;
		if (policy_file_rule_get(p, j, &rj) < 0)
			return true;
		if (rj.decision == POLICY_DENY || !(rj.ops & POLICY_FILE_READ_OPS))
			continue;
		for (size_t g = 0; g < rj.nglobs; g++) {
			char pre[PATH_MAX];
			bool lit;
			if (policy_glob_static_prefix(rj.globs[g], pre, sizeof pre, &lit) < 0 || pre[0] != '/')
				return true;    /* cannot tell: leave it to the supervisor */
			if (is_prefix(pre, path) || is_prefix(path, pre))
				return true;
		}
	}
	return false;
}

static int add_cover(struct enforce_session *s, const char *path, const char *rule, bool device)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(path, real) || stat(real, &st) < 0)
		return 0;               /* not there (yet): the supervisor decides */
	if (strcmp(real, "/") == 0 || s->nfloor >= ENF_MAX_FLOOR)
		return -E2BIG;
	for (size_t i = 0; i < s->nfloor; i++)
		if (strcmp(s->floor[i].path, real) == 0)
			return 1;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !(device && S_ISCHR(st.st_mode)))
		return 0;               /* devices, sockets: the supervisor decides */
	struct enf_floor *f = &s->floor[s->nfloor];
	f->msg = NULL;
	f->path = strdup(real);
	if (!f->path || asprintf(&f->src, STAGE_DIR "/%zu", s->nfloor) < 0) {
		free(f->path);
		return -ENOMEM;
	}
	f->is_dir = S_ISDIR(st.st_mode);
	f->rule = rule;
	s->nfloor++;
	return 1;
}

/* The terminals agentsh holds (its stdio's, and its controlling terminal)
 * are the human's.  Commands get a pty of their own and a new session, and
 * what they print reaches the human through the output filter; opened by its
 * name (/dev/pts/N is the account's own after an ssh login), the terminal
 * would take anything written to it unfiltered — a fake approval prompt, a
 * clipboard write — and hand over what the human types.  Each is covered like
 * a denied path, whatever the policy says of /dev/pts. */
static const char TERMINAL_RULE[] = "agentsh-terminal";
static const char TERMINAL_MSG[] = "this is the terminal agentsh holds for the human; commands "
				   "get a pty of their own";

/* The name of the terminal behind fd, if it is one (TIOCGDEV: also through
 * /dev/tty, whose own node is 5:0): a pty's /dev/pts name, else the name fd
 * was opened with (a console, a serial line), else udev's /dev/char link. */
static void held_tty_fd(struct enforce_session *s, int fd)
{
	unsigned int dev;
	char names[3][64], real[PATH_MAX];
	struct stat st;
	size_t n = 0;

	if (ioctl(fd, TIOCGDEV, &dev) < 0 || s->nheld_tty >= NOTIFY_MAX_TTYS)
		return;
	if (notify_pts_path(dev, names[n], sizeof names[n]))
		n++;
	if (ttyname_r(fd, names[n], sizeof names[n]) == 0)
		n++;
	snprintf(names[n++], sizeof names[0], "/dev/char/%u:%u", major(dev), minor(dev));
	struct notify_tty *t = &s->held_tty[s->nheld_tty];
	*t = (struct notify_tty){ .rdev = dev };        /* no name found: refused by device */
	for (size_t i = 0; i < n; i++)
		if (realpath(names[i], real) && strlen(real) < sizeof t->path && stat(real, &st) == 0 &&
		    S_ISCHR(st.st_mode) && st.st_rdev == (dev_t)dev) {
			memcpy(t->path, real, strlen(real) + 1);        /* its length was checked */
			t->dev = st.st_dev;
			break;
		}
	for (size_t j = 0; j < s->nheld_tty; j++)
		if (s->held_tty[j].rdev == t->rdev && !strcmp(s->held_tty[j].path, t->path))
			return;
	s->nheld_tty++;
}

/* agentsh's stdio terminals, and its controlling terminal */
static void find_held_ttys(struct enforce_session *s)
{
	int fd;

	s->nheld_tty = 0;
	for (fd = 0; fd <= 2; fd++)
		if (isatty(fd))
			held_tty_fd(s, fd);
	if ((fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) >= 0) {
		held_tty_fd(s, fd);
		close(fd);
	}
}

static int cover_terminals(struct enforce_session *s)
{
	for (size_t i = 0; i < s->nheld_tty; i++) {
		int rc = s->held_tty[i].path[0] ? add_cover(s, s->held_tty[i].path, TERMINAL_RULE, true) : 0;
		if (rc < 0)
			return enf_fail(s, rc, "cannot cover the terminal %s that agentsh holds: %s",
					s->held_tty[i].path, strerror(-rc));
	}
	for (size_t i = 0; i < s->nfloor; i++)
		if (s->floor[i].rule == TERMINAL_RULE)
			s->floor[i].msg = TERMINAL_MSG;
	return 0;
}

bool enf_mountfloor_ttys_covered(const struct enforce_session *s)
{
	size_t covered = 0;

	for (size_t i = 0; i < s->nfloor; i++)
		covered += s->floor[i].rule == TERMINAL_RULE;
	return covered == s->nheld_tty;
}

int enf_mountfloor_stage(struct enforce_session *s)
{
	if ((mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST) || (mkdir(STAGE_DIR, 0700) < 0 && errno != EEXIST))
		return enf_fail(s, -errno, "cannot create %s: %s", STAGE_DIR, strerror(errno));
	return 0;
}

int enf_mountfloor_prepare(struct enforce_session *s)
{
	const struct policy *p = s->cfg.policy;
	s->floor_covers_reads = false;
	find_held_ttys(s);
	/* without FUSE the supervisor decides every read (slower, not weaker) */
	if (!p || !s->privileged || access("/dev/fuse", R_OK | W_OK) < 0)
		return 0;
	bool all = true;
	size_t n = policy_file_rule_count(p);
	for (size_t i = 0; i < n; i++) {
		struct policy_file_rule_info ri;
		if (policy_file_rule_get(p, i, &ri) < 0)
			return enf_fail(s, -EINVAL, "file rule %zu cannot be read from the policy", i);
		if (!(ri.ops & POLICY_FILE_READ_OPS) || ri.decision == POLICY_ALLOW || ri.decision == POLICY_AUDIT)
			continue;
		for (size_t g = 0; g < ri.nglobs; g++) {
			char path[PATH_MAX];
			int rc = 0;
			if (ri.decision != POLICY_DENY || !coverable(ri.globs[g], path, sizeof path) ||
			    overlaps_earlier(p, i, path) || (rc = add_cover(s, path, ri.name, false)) <= 0) {
				if (rc < 0 && rc != -E2BIG)
					return enf_fail(s, rc, "read floor for %s: %s", ri.globs[g], strerror(-rc));
				all = false;
			}
		}
	}
	int rc = cover_terminals(s);
	if (rc < 0)
		return rc;
	/* a terminal without its cover is refused by the supervisor: it must
	 * see every open */
	s->floor_covers_reads = all && enf_mountfloor_ttys_covered(s);
	return s->nfloor ? enf_mountfloor_stage(s) : 0;
}

void enf_mountfloor_release(struct enforce_session *s)
{
	enf_trap_stop_all(s);
	for (size_t i = 0; i < s->nfloor; i++) {
		free(s->floor[i].path);
		free(s->floor[i].src);
	}
	s->nfloor = 0;
}

/* Child, still root, before the credential switch: raw syscalls only.  Step
 * one: a private mount namespace and the trap on the staging directory (opts is
 * "fd=N,rootmode=40000,..." for this spawn's connection).  The caller then tells
 * the parent, whose trap server can only start reading once the connection is
 * mounted, and calls step two. */
int enf_mountfloor_mount_child(struct enforce_session *s, const char *opts)
{
	if (!s->nfloor)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return errno;
	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	unsigned long fl = s->kernel_writes ? FLOOR_FLAGS & ~(unsigned long)MS_RDONLY : FLOOR_FLAGS;
	if (mount("agentsh-floor", STAGE_DIR, "fuse.agentsh-floor", fl, opts) < 0)
		return errno;
	return 0;
}

/* Step two: every covered path gets its node; the trap's root disappears. */
int enf_mountfloor_bind_child(struct enforce_session *s)
{
	/* When writes are not notified (writemode.c), a write to a cover must
	 * reach the trap, which refuses it with EACCES and records it as the
	 * supervisor would; a read-only cover would answer EROFS unrecorded.  The
	 * trap implements no operation that modifies anything (libfuse answers
	 * ENOSYS to those), so the cover stays unwritable either way. */
	unsigned long fl = s->kernel_writes ? FLOOR_FLAGS & ~(unsigned long)MS_RDONLY : FLOOR_FLAGS;
	for (size_t i = 0; i < s->nfloor; i++) {
		const struct enf_floor *f = &s->floor[i];
		if (mount(f->src, f->path, NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, f->path, NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0)
			return errno;
	}
	if (s->nfloor && umount2(STAGE_DIR, MNT_DETACH) < 0)
		return errno;
	return 0;
}
