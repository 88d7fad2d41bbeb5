/* writemode.c — may write-class syscalls stay in the kernel?
 *
 * seccomp cannot look at paths, so the notify filter can only stop notifying
 * a write-class syscall for EVERY path.  That is sound only when, for every
 * path x and every operation Landlock governs (write, create, delete, rename,
 * link, symlink, mkdir, rmdir, truncate, mknod — the set W below), the kernel
 * answers exactly what the policy's first-match evaluation answers, and the
 * audit trail loses nothing the policy asks for.  The kernel's answer is:
 *
 *     allowed(x) = x is beneath a Landlock grant  AND  x is not at or below a
 *                  trap cover (mountfloor.c) in the delegate's namespace.
 *
 * Proof obligations, each checked below (any doubt: notify, with the reason):
 *
 *  O1  No rule that can match a W operation needs user space: its decision is
 *      allow or deny (audit, approve, redirect, soft_delete, absorb need the
 *      supervisor), and audit.log_allowed is off (plain allows are unrecorded).
 *  O2  Landlock grants == the policy's allow set.  Every non-deny rule with
 *      any non-read operation (landlock.c grants its prefix every write right,
 *      even for a chmod-only rule) is an allow of all of W (Landlock cannot grant part of it per tree);
 *      each glob is "<dir>/" + "**" (Landlock grants exactly "beneath dir"), or the
 *      literal dir itself when that tree is granted too; <dir> exists at
 *      session start and is its own realpath (a symlink would make Landlock
 *      grant the target, which the policy names differently; a missing dir
 *      would be refused where the policy allows).  Every device Landlock always
 *      grants lies in such a tree.  Unmatched writes default to deny.
 *  O3  Every deny rule with a W operation either cannot meet any grant (its
 *      static prefix is disjoint from every granted tree: Landlock refuses, the
 *      policy refuses), or is held exactly by a trap cover:
 *        - the glob is a literal file or "<path>/" + "**", covered (it existed, it is
 *          its own realpath, it is in the floor list);
 *        - the rule denies all of W and reads (the trap refuses everything);
 *        - no earlier non-deny rule can match inside or around it (first match
 *          would allow what the trap refuses);
 *        - its grandparent is not beneath any grant: the cover itself cannot be
 *          renamed, replaced or unlinked (EBUSY on a mount point), but a
 *          renamable ancestor would carry the cover away and leave the policy's
 *          path free to create.  With the parent at most a grant root, every
 *          ancestor's parent is outside every grant, so Landlock refuses to
 *          move it.
 *      A glob deny that can match inside a granted tree ("**" "/.env", "*.pem")
 *      can never be held: a file created later at any depth must be refused.
 *  O4  Refusals: writes outside every grant are refused by Landlock and never
 *      reach the audit store.  So when the grants are bounded (not "/"),
 *      audit.log_denied must be off.  Trap refusals are audited (trap.c).
 *  O5  Landlock ABI >= 3: REFER (cross-directory link/rename keep the source's
 *      limits, so a hard link cannot give an outside file a writable name) and
 *      TRUNCATE (open with O_TRUNC, truncate(2)).
 *
 * Still notified in this mode: chmod/chown/xattr/timestamps (Landlock does
 * not govern them), ftruncate (an inherited fd was opened before Landlock), openat2 (its
 * flags are in memory), and everything that is not a file write.
 *
 * Known differences in errno only: a write to a covered path fails with EROFS
 * (the cover mount is read-only) or EBUSY (rename/unlink of the mount point)
 * instead of EACCES; a refusal outside the grants is EACCES (Landlock) or
 * EXDEV (cross-tree link/rename) — the decision is the same. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

#define OPB POLICY_FILE_OP_BIT
#define W_OPS (OPB(POLICY_FILE_WRITE) | OPB(POLICY_FILE_CREATE) | OPB(POLICY_FILE_DELETE) |      \
	       OPB(POLICY_FILE_RENAME) | OPB(POLICY_FILE_LINK) | OPB(POLICY_FILE_SYMLINK) |       \
	       OPB(POLICY_FILE_MKDIR) | OPB(POLICY_FILE_RMDIR) | OPB(POLICY_FILE_TRUNCATE) |      \
	       OPB(POLICY_FILE_MKNOD))
/* What landlock.c grants a rule's prefix for: any operation that is not a read
 * (chmod/chown/xattr included), whatever the decision except deny. */
#define LL_OPS (~(uint32_t)POLICY_FILE_READ_OPS)
#define MAX_TREES 64

struct wm {
	const struct policy *p;
	char trees[MAX_TREES][PATH_MAX];    /* granted trees (allow rules' dirs) */
	size_t ntrees;
	bool unbounded;
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 2, 3)))
static bool no(struct wm *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return false;
}

/* a is p or an ancestor of p (lexically, on '/' boundaries) */
static bool beneath(const char *a, const char *p)
{
	size_t n = strlen(a);
	if (n == 1 && a[0] == '/')
		return true;
	return strncmp(a, p, n) == 0 && (p[n] == 0 || p[n] == '/');
}

static bool in_tree(const struct wm *w, const char *path)
{
	for (size_t i = 0; i < w->ntrees; i++)
		if (beneath(w->trees[i], path))
			return true;
	return false;
}

static bool canonical_dir(const char *path)
{
	char real[PATH_MAX];
	struct stat st;
	return realpath(path, real) && strcmp(real, path) == 0 && stat(real, &st) == 0 && S_ISDIR(st.st_mode);
}

/* a tree glob (dir followed by slash-star-star; "/" alone for the root) -> dir */
static bool tree_glob(const char *glob, char *dir, size_t n)
{
	bool literal;
	if (policy_glob_static_prefix(glob, dir, n, &literal) < 0 || dir[0] != '/' || literal)
		return false;
	size_t l = strlen(dir);
	const char *rest = glob + l;
	if (strncmp(glob, dir, l) != 0)
		return false;
	return strcmp(rest, "/**") == 0 || (l == 1 && strcmp(rest, "**") == 0);
}

/* O2: collect the granted trees from the allow rules. */
static bool collect_trees(struct wm *w, size_t nrules)
{
	for (size_t i = 0; i < nrules; i++) {
		struct policy_file_rule_info r;
		if (policy_file_rule_get(w->p, i, &r) < 0)
			return no(w, "file rule %zu cannot be read", i);
		if (!(r.ops & LL_OPS) || r.decision != POLICY_ALLOW)
			continue;
		/* Landlock grants this rule's prefix every write right */
		if ((r.ops & W_OPS) != W_OPS)
			return no(w, "rule %s allows only some write operations (Landlock grants all of them "
				  "per tree)", r.name);
		for (size_t g = 0; g < r.nglobs; g++) {
			char dir[PATH_MAX];
			bool literal;
			if (!tree_glob(r.globs[g], dir, sizeof dir)) {
				/* the literal dir of a tree granted anyway is subsumed (checked later) */
				if (policy_glob_static_prefix(r.globs[g], dir, sizeof dir, &literal) >= 0 && literal)
					continue;
				return no(w, "rule %s allows writes to %s, which Landlock cannot grant exactly "
					  "(only whole trees, \"<dir>/**\")", r.name, r.globs[g]);
			}
			if (!canonical_dir(dir))
				return no(w, "rule %s: %s is missing or not its own real path at session start",
					  r.name, dir);
			if (w->ntrees >= MAX_TREES)
				return no(w, "more than %d writable trees", MAX_TREES);
			snprintf(w->trees[w->ntrees++], PATH_MAX, "%s", dir);
			if (strcmp(dir, "/") == 0)
				w->unbounded = true;
		}
	}
	/* literal allow globs: only a dir that lies in a granted tree anyway */
	for (size_t i = 0; i < nrules; i++) {
		struct policy_file_rule_info r;
		if (policy_file_rule_get(w->p, i, &r) < 0 || !(r.ops & LL_OPS) || r.decision != POLICY_ALLOW)
			continue;
		for (size_t g = 0; g < r.nglobs; g++) {
			char dir[PATH_MAX];
			bool literal;
			if (policy_glob_static_prefix(r.globs[g], dir, sizeof dir, &literal) >= 0 && literal &&
			    !(canonical_dir(dir) && in_tree(w, dir)))
				return no(w, "rule %s allows writes to the single path %s (Landlock grants trees)",
					  r.name, dir);
		}
	}
	for (size_t i = 0; enf_landlock_always_writable[i]; i++) {
		struct stat st;
		if (stat(enf_landlock_always_writable[i], &st) == 0 && !in_tree(w, enf_landlock_always_writable[i]))
			return no(w, "Landlock always grants writes to %s, which no allow tree of the policy covers",
				  enf_landlock_always_writable[i]);
	}
	return true;
}

static const struct enf_floor *covered(const char *path, const struct enf_floor *floor, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(floor[i].path, path) == 0)
			return &floor[i];
	return NULL;
}

/* O3 first-match: an earlier non-deny rule that could match in or around path */
static bool earlier_overlap(const struct wm *w, size_t upto, const char *path)
{
	for (size_t j = 0; j < upto; j++) {
		struct policy_file_rule_info r;
		if (policy_file_rule_get(w->p, j, &r) < 0)
			return true;
		if (r.decision == POLICY_DENY)
			continue;
		for (size_t g = 0; g < r.nglobs; g++) {
			char pre[PATH_MAX];
			bool lit;
			if (policy_glob_static_prefix(r.globs[g], pre, sizeof pre, &lit) < 0 || pre[0] != '/' ||
			    beneath(pre, path) || beneath(path, pre))
				return true;
		}
	}
	return false;
}

static bool deny_glob_held(struct wm *w, size_t i, const struct policy_file_rule_info *r, const char *glob,
			   const struct enf_floor *floor, size_t nfloor)
{
	char pre[PATH_MAX];
	bool literal;
	if (policy_glob_static_prefix(glob, pre, sizeof pre, &literal) < 0 || pre[0] != '/')
		return no(w, "rule %s denies writes to %s, which can match anywhere (also inside the writable "
			  "trees): only the supervisor can refuse files created later", r->name, glob);
	bool meets = in_tree(w, pre);
	for (size_t t = 0; t < w->ntrees && !meets; t++)
		meets = beneath(pre, w->trees[t]);
	if (!meets)
		return true;            /* Landlock refuses all of it, as does the policy */
	char dir[PATH_MAX];
	if (!literal && !(tree_glob(glob, dir, sizeof dir) && strcmp(dir, pre) == 0))
		return no(w, "rule %s denies writes to the glob %s inside a writable tree: a cover mount cannot "
			  "hold files created later", r->name, glob);
	const struct enf_floor *f = covered(pre, floor, nfloor);
	if (!f)
		return no(w, "rule %s: %s is inside a writable tree but has no cover mount (missing at session "
			  "start, not its real path, no FUSE, or an earlier rule overlaps it)", r->name, pre);
	if (literal && f->is_dir)
		return no(w, "rule %s names the directory %s alone, but its cover hides everything below it",
			  r->name, pre);
	if (!literal && !f->is_dir)
		return no(w, "rule %s denies below %s, which is a file the policy leaves writable but its cover "
			  "would refuse", r->name, pre);
	if ((r->ops & (W_OPS | POLICY_FILE_READ_OPS)) != (W_OPS | POLICY_FILE_READ_OPS))
		return no(w, "rule %s does not deny every operation on %s, but its cover refuses them all",
			  r->name, pre);
	if (earlier_overlap(w, i, pre))
		return no(w, "an earlier rule may allow something at or below %s, which rule %s's cover "
			  "would refuse", pre, r->name);
	char gp[PATH_MAX];
	snprintf(gp, sizeof gp, "%s", pre);
	for (int k = 0; k < 2; k++) {
		char *sl = strrchr(gp, '/');
		if (!sl)
			break;
		if (sl == gp)
			sl[1] = 0;
		else
			*sl = 0;
	}
	if (in_tree(w, gp))
		return no(w, "rule %s: a parent of %s can be renamed inside a writable tree, carrying the cover "
			  "away and freeing the path", r->name, pre);
	return true;
}

bool enf_writemode_kernel(const struct policy *p, int abi, const struct enf_floor *floor, size_t nfloor,
			  char *why, size_t whylen)
{
	struct wm *w = calloc(1, sizeof *w);
	char dummy[8];
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof dummy;
	}
	if (!w) {
		snprintf(why, whylen, "out of memory deciding the write mode");
		return false;
	}
	w->p = p;
	w->why = why;
	w->whylen = whylen;
	bool ok = false;
	struct policy_default_decisions d;
	size_t n = p ? policy_file_rule_count(p) : 0;
	const struct policy_audit_settings *a = p ? policy_audit(p) : NULL;
	if (!p)
		no(w, "no policy");
	else if (abi < 3)
		no(w, "Landlock ABI %d lacks REFER/TRUNCATE (needs 3)", abi);
	else if ((policy_defaults(p, &d), d.file_write != POLICY_DENY))
		no(w, "unmatched writes default to %s, not deny", policy_decision_name(d.file_write));
	else if (collect_trees(w, n)) {
		ok = true;
		for (size_t i = 0; i < n && ok; i++) {
			struct policy_file_rule_info r;
			if (policy_file_rule_get(p, i, &r) < 0) {
				ok = no(w, "file rule %zu cannot be read", i);
				break;
			}
			if (!(r.ops & LL_OPS) || r.decision == POLICY_ALLOW)
				continue;
			if (r.decision != POLICY_DENY) {   /* O1 (and Landlock grants its prefix) */
				ok = no(w, "rule %s decides writes with %s, which needs the supervisor", r.name,
					policy_decision_name(r.decision));
				break;
			}
			for (size_t g = 0; (r.ops & W_OPS) && g < r.nglobs && ok; g++)
				ok = deny_glob_held(w, i, &r, r.globs[g], floor, nfloor);
		}
		if (ok && (!a || a->log_allowed))            /* O1 */
			ok = no(w, "audit.log_allowed records every allowed write");
		if (ok && !w->unbounded && a->log_denied)   /* O4 */
			ok = no(w, "audit.log_denied asks for every refused write, and Landlock's refusals outside "
				"the writable trees reach no audit record");
		if (ok)
			snprintf(why, whylen, "every write rule is a plain allow of whole trees or a deny held by "
				 "Landlock or a cover mount (%zu writable tree%s)", w->ntrees, w->ntrees == 1 ? "" : "s");
	}
	free(w);
	return ok;
}

/* What a session started now with policy p would choose (doctor --policy):
 * the same floor computation as a session, on a throw-away session. */
bool enf_writemode_preview(const struct policy *p, char *why, size_t whylen)
{
	struct enforce_session *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	s->cfg.policy = p;
	s->landlock_fd = -1;
	s->privileged = geteuid() == 0;
	int abi = enf_landlock_abi();
	bool k = false;
	if (enf_mountfloor_prepare(s) < 0)
		snprintf(why, whylen, "the read floor could not be prepared");
	else
		k = enf_writemode_kernel(p, abi < 0 ? 0 : abi, s->floor, s->nfloor, why, whylen);
	enf_mountfloor_release(s);
	free(s);
	return k;
}

bool enforce_session_kernel_writes(const struct enforce_session *s, const char **why)
{
	if (why)
		*why = s ? s->write_mode_why : "no session";
	return s && s->kernel_writes;
}
