/* landlock.c — the static floor that holds at zero per-call cost and even if the
 * supervisor dies: writes only beneath what the policy could ever allow for
 * writing (static prefixes of non-deny write rules), the terminal and the null
 * devices; and LANDLOCK_SCOPE_SIGNAL so no process of the session can signal
 * anything outside it (the supervisor, the watchdog, pid 1).
 *
 * The ruleset is built in the parent (it is an fd) and applied in the child with
 * one raw syscall.  The floor is an upper bound: the notify supervisor still
 * decides each write by the exact rule; Landlock catches what never reaches it
 * (io_uring if it were allowed, a notify fd that closed, ftruncate on an fd
 * opened read-only). */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)    /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)   /* ABI 5 */
#endif
#define LL_SCOPE_SIGNAL (1ULL << 1)                  /* ABI 6 */

struct ll_ruleset_attr {                             /* ABI 6 layout */
	uint64_t handled_access_fs, handled_access_net, scoped;
};

static uint64_t fs_write_rights(int abi)
{
	uint64_t r = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* Rights that make sense on a non-directory. */
static uint64_t file_rights(int abi)
{
	return fs_write_rights(abi) &
	       (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV);
}

int enf_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

/* Grant write rights beneath path; a missing path is skipped (nothing to write
 * there yet that the policy could allow without its parent). */
static int grant(struct enforce_session *s, const char *path, bool *any)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	struct landlock_path_beneath_attr pb = {
		.allowed_access = S_ISDIR(st.st_mode) ? fs_write_rights(s->landlock_abi)
						      : file_rights(s->landlock_abi),
		.parent_fd = fd,
	};
	long r = syscall(SYS_landlock_add_rule, s->landlock_fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	if (r < 0)
		return -e;
	*any = true;
	if (strcmp(path, "/") == 0)
		s->landlock_unbounded = true;
	return 0;
}

#define WRITE_OPS (~(uint32_t)POLICY_FILE_READ_OPS)

/* Static prefixes of every glob a non-deny rule could allow writes under. */
static int grant_policy(struct enforce_session *s, bool *any)
{
	const struct policy *p = s->cfg.policy;
	size_t n = policy_file_rule_count(p);
	for (size_t i = 0; i < n; i++) {
		struct policy_file_rule_info ri;
		if (policy_file_rule_get(p, i, &ri) < 0)
			return -EINVAL;
		if (ri.decision == POLICY_DENY || !(ri.ops & WRITE_OPS))
			continue;
		for (size_t g = 0; g < ri.nglobs; g++) {
			char pre[PATH_MAX];
			bool literal;
			if (policy_glob_static_prefix(ri.globs[g], pre, sizeof pre, &literal) < 0 || pre[0] != '/')
				continue;
			int rc = grant(s, pre, any);
			if (rc < 0)
				return enf_fail(s, rc, "landlock: cannot add the write rule for %s (rule %s): %s",
						pre, ri.name, strerror(-rc));
		}
	}
	return 0;
}

const char *const enf_landlock_always_writable[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts",
	"/dev/random", "/dev/urandom", NULL,
};
#define always_writable enf_landlock_always_writable

int enf_landlock_prepare(struct enforce_session *s)
{
	int abi = enf_landlock_abi();
	if (abi < 0)
		return enf_degrade(s, abi, "Landlock is not available (%s): no kernel floor for writes "
				   "and signals", strerror(-abi));
	s->landlock_abi = abi;
	struct ll_ruleset_attr ra = { .handled_access_fs = s->cfg.policy ? fs_write_rights(abi) : 0 };
	if (abi >= 6)
		ra.scoped = LL_SCOPE_SIGNAL;
	else if (enf_degrade(s, -ENOTSUP, "Landlock ABI %d has no signal scoping (needs 6): the session's "
			     "signals to outside processes rely on the notify supervisor alone", abi) < 0)
		return -ENOTSUP;
	if (!ra.handled_access_fs && !ra.scoped)
		return 0;
	size_t sz = abi >= 6 ? sizeof ra : 2 * sizeof(uint64_t);
	long fd = syscall(SYS_landlock_create_ruleset, &ra, sz, 0);
	if (fd < 0)
		return enf_fail(s, -errno, "landlock: cannot create a ruleset (ABI %d): %s", abi,
				strerror(errno));
	s->landlock_fd = (int)fd;
	if (!ra.handled_access_fs)
		return 0;
	bool any = false;
	for (size_t i = 0; always_writable[i]; i++) {
		int rc = grant(s, always_writable[i], &any);
		if (rc < 0)
			return enf_fail(s, rc, "landlock: cannot allow writes to %s: %s", always_writable[i],
					strerror(-rc));
	}
	return grant_policy(s, &any);
}

/* Child side: raw syscall only.  NNP is already set. */
int enf_landlock_apply_child(int ruleset_fd)
{
	if (ruleset_fd < 0)
		return 0;
	if (syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
		return errno;
	return 0;
}
