/* mountfloor.c — read denies of literal paths, held by the kernel at zero cost
 * per open and even if the supervisor dies: each delegate gets a private mount
 * namespace in which every such path is covered by an empty, mode-000,
 * read-only tmpfs (directories) or a root-owned mode-000 empty file (files).
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
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

#define EMPTY_DIR "/run/agentsh"
#define EMPTY_FILE EMPTY_DIR "/deny-empty"

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

static int add_cover(struct enforce_session *s, const char *path)
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
	char *d = strdup(real);
	if (!d)
		return -ENOMEM;
	s->floor[s->nfloor].path = d;
	s->floor[s->nfloor].is_dir = S_ISDIR(st.st_mode);
	s->nfloor++;
	return 1;
}

static int empty_file(struct enforce_session *s)
{
	if (mkdir(EMPTY_DIR, 0700) < 0 && errno != EEXIST)
		return enf_fail(s, -errno, "cannot create %s: %s", EMPTY_DIR, strerror(errno));
	int fd = open(EMPTY_FILE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		return enf_fail(s, -errno, "cannot create %s: %s", EMPTY_FILE, strerror(errno));
	int rc = fchown(fd, 0, 0) < 0 || fchmod(fd, 0) < 0 || ftruncate(fd, 0) < 0 ? -errno : 0;
	close(fd);
	return rc < 0 ? enf_fail(s, rc, "cannot prepare %s: %s", EMPTY_FILE, strerror(-rc)) : 0;
}

int enf_mountfloor_prepare(struct enforce_session *s)
{
	const struct policy *p = s->cfg.policy;
	s->floor_covers_reads = false;
	if (!p || !s->privileged)
		return 0;
	bool all = true, files = false;
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
			    overlaps_earlier(p, i, path) || (rc = add_cover(s, path)) <= 0) {
				if (rc < 0 && rc != -E2BIG)
					return enf_fail(s, rc, "read floor for %s: %s", ri.globs[g], strerror(-rc));
				all = false;
				continue;
			}
			files |= !s->floor[s->nfloor - 1].is_dir;
		}
	}
	s->floor_covers_reads = all;
	return files ? empty_file(s) : 0;
}

void enf_mountfloor_release(struct enforce_session *s)
{
	for (size_t i = 0; i < s->nfloor; i++)
		free(s->floor[i].path);
	s->nfloor = 0;
}

/* Child, still root, before the credential switch: raw syscalls only. */
int enf_mountfloor_apply_child(struct enforce_session *s)
{
	if (!s->nfloor)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return errno;
	/* nothing we mount may propagate back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return errno;
	for (size_t i = 0; i < s->nfloor; i++) {
		const struct enf_floor *f = &s->floor[i];
		int r = f->is_dir ? mount("agentsh-deny", f->path, "tmpfs",
					  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k")
				  : mount(EMPTY_FILE, f->path, NULL, MS_BIND, NULL);
		if (r < 0)
			return errno;
		if (!f->is_dir && mount(NULL, f->path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID |
					MS_NODEV | MS_NOEXEC, NULL) < 0)
			return errno;
	}
	return 0;
}
