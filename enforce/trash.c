/* trash.c — soft delete and `agentsh trash list|restore|purge`.
 *
 * A soft-deleted object is renamed (never copied) into a root-owned trash on
 * its own filesystem, so the move is atomic and costs nothing:
 *   - the main trash, NOTIFY_TRASH_DIR (/var/lib/agentsh/trash), when the
 *     object lives on the same filesystem: payload in <main>/payload/<token>;
 *   - otherwise <mount root>/.agentsh-trash/<token> on the object's filesystem.
 * The manifest always lives in <main>/<token>.json, so `trash list` finds
 * every entry in one place.  All directories are root-owned 0700: the agent
 * can neither read nor tamper with what it deleted; restore goes through
 * agentsh (setuid root), which checks that the caller owns the entry and may
 * write where it goes back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"
#include "pty/pty.h"

#define TRASH_SUBDIR ".agentsh-trash"

static int mkdir_root(int dirfd, const char *name)
{
	struct stat st;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* Someone else's directory (or a symlink) must never be our trash. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

static int mkdir_p_root(const char *path)
{
	char buf[PATH_MAX];
	int rc;

	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return -ENAMETOOLONG;
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if ((rc = mkdir_root(AT_FDCWD, buf)) < 0)
		return rc;
	return 0;
}

/* The mount root of the filesystem dirfd is on: go up while st_dev stays. */
static int fs_root(int dirfd, int *out)
{
	struct stat st, up;
	int cur = dup(dirfd);

	if (cur < 0 || fstat(cur, &st) < 0)
		return -errno;
	for (int i = 0; i < 4096; i++) {
		int p = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (p < 0) {
			int e = errno;
			close(cur);
			return -e;
		}
		if (fstat(p, &up) < 0 || up.st_dev != st.st_dev ||
		    (up.st_ino == st.st_ino)) {
			close(p);
			*out = cur;
			return 0;
		}
		close(cur);
		cur = p;
		st = up;
	}
	close(cur);
	return -ELOOP;
}

/* rename(2) only works within one mount (vfsmount), and the target may live
 * in its own mount namespace: compare mount ids, not just devices. */
static bool same_mount(int a, int b)
{
	struct statx sa, sb;

	return statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) == 0 &&
	       statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &sb) == 0 &&
	       (sa.stx_mask & STATX_MNT_ID) && (sb.stx_mask & STATX_MNT_ID) &&
	       sa.stx_mnt_id == sb.stx_mnt_id;
}

static int payload_dir(const char *main, int parentfd, char *dir, size_t len, int *dfd)
{
	struct stat pst, mst;
	char p[PATH_MAX];
	int rc;

	if (fstat(parentfd, &pst) < 0)
		return -errno;
	if ((rc = mkdir_p_root(main)) < 0)
		return rc;
	snprintf(p, sizeof p, "%s/payload", main);
	int mfd = open(main, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	rc = mkdir_root(mfd, "payload");
	close(mfd);
	if (rc < 0)
		return rc;
	if (stat(p, &mst) == 0 && mst.st_dev == pst.st_dev) {
		*dfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*dfd >= 0 && same_mount(*dfd, parentfd)) {
			snprintf(dir, len, "%s", p);
			return 0;
		}
		if (*dfd >= 0)
			close(*dfd);
		*dfd = -1;
	}
	int root = -1;
	if ((rc = fs_root(parentfd, &root)) < 0)
		return rc;
	rc = mkdir_root(root, TRASH_SUBDIR);
	if (rc == 0) {
		char rp[PATH_MAX];
		if ((rc = np_fd_path(root, rp, sizeof rp)) == 0) {
			int w = snprintf(dir, len, "%s%s" TRASH_SUBDIR, rp, strcmp(rp, "/") ? "/" : "");
			if (w < 0 || (size_t)w >= len) {
				close(root);
				return -ENAMETOOLONG;
			}
			*dfd = openat(root, TRASH_SUBDIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = *dfd < 0 ? -errno : 0;
		}
	}
	close(root);
	return rc;
}

static const char *kind_name(mode_t m)
{
	return S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : S_ISREG(m) ? "file" : "other";
}

int trash_divert(struct notify *n, int parentfd, const char *name, const char *abs,
		 uid_t uid, pid_t pid, char *token, size_t toklen)
{
	char dir[PATH_MAX], mpath[PATH_MAX], stamp[32];
	struct stat st;
	int dfd = -1, rc;
	time_t now = time(NULL);
	struct tm tm;
	unsigned seq;

	nc_root();
	if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	/* one sequence for the process: it may run several supervisors (one
	 * per session), and the token must not repeat within a second */
	static _Atomic unsigned next_seq;
	seq = ++next_seq;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(token, toklen, "%s-%d-%u", stamp, (int)getpid(), seq);

	if ((rc = payload_dir(n->trash_dir, parentfd, dir, sizeof dir, &dfd)) < 0)
		return rc;
	/* Manifest first: a crash between the two leaves a manifest without
	 * payload (visible in list), never an object nobody knows about. */
	json_t *m = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:I}",
			      "token", token, "original_path", abs, "trash_path", dir,
			      "uid", (json_int_t)uid,
			      "account", n->cfg.account.name ? n->cfg.account.name : "",
			      "owner_uid", (json_int_t)st.st_uid,
			      "mode", (json_int_t)(st.st_mode & 07777), "size", (json_int_t)st.st_size,
			      "type", kind_name(st.st_mode),
			      "session", n->cfg.session_id ? n->cfg.session_id : "",
			      "pid", (json_int_t)pid, "deleted_at", stamp, "time", (json_int_t)now);
	if (!m) {
		close(dfd);
		return -ENOMEM;
	}
	snprintf(mpath, sizeof mpath, "%s/%s.json", n->trash_dir, token);
	int mfd = open(mpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (mfd < 0 || json_dumpfd(m, mfd, JSON_INDENT(2)) < 0) {
		rc = mfd < 0 ? -errno : -EIO;
		if (mfd >= 0) {
			close(mfd);
			unlink(mpath);
		}
		json_decref(m);
		close(dfd);
		return rc;
	}
	close(mfd);
	json_decref(m);
	if (renameat2(parentfd, name, dfd, token, RENAME_NOREPLACE) < 0) {
		rc = -errno;
		unlink(mpath);
		close(dfd);
		return rc;
	}
	close(dfd);
	return 0;
}

/* ---------------------------------------------------------------- CLI */

struct entry {
	char token[128];
	char original[PATH_MAX];
	char trash[PATH_MAX];
	char session[128];
	char type[16];
	char deleted[32];
	char account[64];               /* "" in manifests older than the field */
	uid_t uid;
	long long size, time;
};

static int load_entry(const char *main, const char *file, struct entry *e)
{
	char p[PATH_MAX];
	json_error_t err;
	const char *tok = NULL, *orig = NULL, *tp = NULL, *ses = "", *type = "", *del = "", *acct = "";
	json_int_t uid = -1, size = 0, t = 0;

	snprintf(p, sizeof p, "%s/%s", main, file);
	/* only a manifest agentsh wrote counts: it names what root moves */
	struct stat st;
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	json_t *m = json_loadfd(fd, 0, &err);
	close(fd);
	if (!m)
		return -EINVAL;
	int rc = json_unpack(m, "{s:s, s:s, s:s, s:I, s?:I, s?:s, s?:s, s?:s, s?:I, s?:s}", "token", &tok,
			     "original_path", &orig, "trash_path", &tp, "uid", &uid, "size", &size,
			     "session", &ses, "type", &type, "deleted_at", &del, "time", &t,
			     "account", &acct);
	if (rc == 0) {
		snprintf(e->token, sizeof e->token, "%s", tok);
		snprintf(e->original, sizeof e->original, "%s", orig);
		snprintf(e->trash, sizeof e->trash, "%s", tp);
		snprintf(e->session, sizeof e->session, "%s", ses);
		snprintf(e->type, sizeof e->type, "%s", type);
		snprintf(e->deleted, sizeof e->deleted, "%s", del);
		snprintf(e->account, sizeof e->account, "%s", acct);
		e->uid = (uid_t)uid;
		e->size = size;
		e->time = t;
	}
	json_decref(m);
	/* the token is used in paths: it must be what we generate */
	if (rc == 0 && (strchr(e->token, '/') || e->token[0] == '.'))
		return -EINVAL;
	return rc == 0 ? 0 : -EINVAL;
}

/* The account a trash command acts for: the caller of `agentsh trash`, or the
 * session's account for the built-in.  Never getuid(): installed setuid, the
 * privilege split has made the real uid 0 (enforce_privilege_init). */
static const struct enforce_account *caller;

/* By uid and, where the manifest names it, by account name: a uid freed by
 * userdel and given to a new account must not hand it the old one's files. */
static bool mine(const struct entry *e)
{
	if (caller->uid == 0)
		return true;
	return e->uid == caller->uid &&
	       (!e->account[0] || (caller->name && !strcmp(e->account, caller->name)));
}

static const char *opt_val(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static bool has_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

typedef int (*entry_fn)(const char *main, const struct entry *e, void *ctx);

static int for_each(const char *main, const char *session, entry_fn fn, void *ctx)
{
	DIR *d = opendir(main);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct entry e;
		if (l < 6 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		if (load_entry(main, de->d_name, &e) < 0 || !mine(&e))
			continue;
		if (session && strcmp(session, e.session))
			continue;
		if ((rc = fn(main, &e, ctx)) < 0)
			break;
	}
	closedir(d);
	return rc;
}

/* The original path as the terminal may show it: the agent chose the name,
 * and the person listing the trash must not get its escape sequences. */
static void print_inert(const char *path)
{
	char *safe = pty_inert(path);

	fputs(safe ? safe : "(out of memory)", stdout);
	free(safe);
}

static int print_entry(const char *main, const struct entry *e, void *ctx)
{
	json_t *arr = ctx;

	(void)main;
	if (arr) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s}",
			"token", e->token, "original_path", e->original, "type", e->type,
			"session", e->session, "uid", (json_int_t)e->uid, "account", e->account,
			"size", (json_int_t)e->size, "deleted_at", e->deleted));
	} else {
		printf("%-36s %-9s %10lld  %s  ", e->token, e->type, e->size, e->deleted);
		print_inert(e->original);
		putchar('\n');
	}
	return 0;
}

static int rm_tree_at(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		struct dirent *de;
		int rc = 0;
		while ((de = readdir(d)) && rc == 0)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rc = rm_tree_at(dirfd(d), de->d_name);
		closedir(d);
		if (rc < 0)
			return rc;
		return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

/* The payload directory of an entry, if it is one agentsh made: root's, 0700. */
static int open_payload_dir(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static int purge_one(const char *main, const struct entry *e, void *ctx)
{
	long long older = ctx ? *(long long *)ctx : -1;
	char mp[PATH_MAX];

	if (older >= 0 && e->time > (long long)time(NULL) - older)
		return 0;
	int tfd = open_payload_dir(e->trash);
	if (tfd == -EPERM) {
		fprintf(stderr, "agentsh trash: %s: %s is not a trash directory agentsh made (not root's, "
			"or open to others); left alone\n", e->token, e->trash);
		return 0;
	}
	if (tfd >= 0) {
		int rc = rm_tree_at(tfd, e->token);
		close(tfd);
		if (rc < 0) {
			fprintf(stderr, "agentsh trash: purging %s failed: %s\n", e->token, strerror(-rc));
			return 0;
		}
	}
	snprintf(mp, sizeof mp, "%s/%s.json", main, e->token);
	unlink(mp);
	printf("purged %s (", e->token);
	print_inert(e->original);
	puts(")");
	return 0;
}

/* The directory a restore puts the entry back into, as an fd, so that what
 * is checked is what is written to.  The original path was recorded resolved
 * (no symbolic link on it); a link there now was put there since, and root
 * must not follow it: an agent that turns ws/d into a link to /etc/profile.d
 * would have its deleted file restored into a directory root's login shell
 * reads.  -ELOOP then. */
static int open_parent(const char *parent, int *pfd)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(__NR_openat2, AT_FDCWD, parent, &how, sizeof how);

	if (fd < 0)
		return -errno;
	*pfd = fd;
	return 0;
}

/* Does the caller have write and search permission on the directory pfd?
 * Asked of the kernel by a child that takes the caller's ids (ACLs and
 * groups count as for the caller's own rename), on the directory itself:
 * a path can be swapped between a check and the rename, the fd cannot. */
static int caller_may_write(int pfd)
{
	if (caller->uid == 0)
		return 0;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* raw calls: the interactive shell's process has other threads */
		if (syscall(SYS_setgroups, caller->ngroups, caller->groups) < 0 ||
		    syscall(SYS_setresgid, caller->gid, caller->gid, caller->gid) < 0 ||
		    syscall(SYS_setresuid, caller->uid, caller->uid, caller->uid) < 0)
			_exit(EPERM);
		_exit(faccessat(pfd, "", W_OK | X_OK, AT_EMPTY_PATH) < 0 ? errno : 0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? -WEXITSTATUS(st) : -EPERM;
}

/* May the caller put base into the directory pfd, as rename(2) would let it?
 * --force replacing an existing object obeys the sticky bit (/tmp), which
 * root's own rename would ignore. */
static int may_place(int pfd, const char *base, bool force)
{
	struct stat d, t;
	int rc = caller_may_write(pfd);

	if (rc < 0 || !force || caller->uid == 0)
		return rc;
	if (fstat(pfd, &d) < 0)
		return -errno;
	if (fstatat(pfd, base, &t, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if ((d.st_mode & S_ISVTX) && t.st_uid != caller->uid && d.st_uid != caller->uid)
		return -EPERM;
	return 0;
}

static int restore(const char *main, const char *token, bool force)
{
	char file[PATH_MAX], mp[PATH_MAX], parent[PATH_MAX];
	struct entry e;

	if (strchr(token, '/') || token[0] == '.') {
		fprintf(stderr, "agentsh trash: '%s' is not a trash token (see 'agentsh trash list')\n", token);
		return 2;
	}
	snprintf(file, sizeof file, "%s.json", token);
	if (load_entry(main, file, &e) < 0 || !mine(&e)) {
		fprintf(stderr, "agentsh trash: no trash entry '%s' of yours (see 'agentsh trash list')\n",
			token);
		return 1;
	}
	snprintf(parent, sizeof parent, "%s", e.original);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		snprintf(parent, sizeof parent, "/");
	else
		*slash = 0;
	int tfd = open_payload_dir(e.trash);
	int pfd = -1;
	const char *base = strrchr(e.original, '/') ? strrchr(e.original, '/') + 1 : e.original;
	int rc = tfd < 0 ? tfd : open_parent(parent, &pfd);
	if (rc == 0)
		rc = may_place(pfd, base, force);
	if (rc == 0 && renameat2(tfd, e.token, pfd, base, force ? 0 : RENAME_NOREPLACE) < 0)
		rc = -errno;
	if (tfd >= 0)
		close(tfd);
	if (pfd >= 0)
		close(pfd);
	if (rc < 0) {
		char *safe = pty_inert(e.original);
		fprintf(stderr, "agentsh trash: restoring %s to %s failed: %s%s\n", e.token,
			safe ? safe : "(out of memory)", strerror(-rc),
			rc == -EEXIST ? " (it exists; use --force to replace it)"
			: rc == -ELOOP ? " (a directory on its path is now a symbolic link; restore it once the"
					 " path is a real directory again)"
			: rc == -EACCES ? " (you may not write to that directory)"
				       : "");
		free(safe);
		return 1;
	}
	snprintf(mp, sizeof mp, "%s/%s.json", main, e.token);
	unlink(mp);
	fputs("restored ", stdout);
	print_inert(e.original);
	putchar('\n');
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: agentsh trash list [--json] [--session ID]\n"
		"       agentsh trash restore TOKEN [--force]\n"
		"       agentsh trash purge (TOKEN... | --all | --older-than DAYS) [--session ID]\n"
		"  (--trash-dir DIR selects another trash; default " NOTIFY_TRASH_DIR ")\n");
}

int enforce_trash_run(int argc, char **argv, const struct enforce_account *who)
{
	const char *main = opt_val(argc, argv, "--trash-dir");
	const char *session = opt_val(argc, argv, "--session");

	fflush(stdout);
	caller = who;
	/* another trash names other payloads and manifests: root's choice only */
	if (main && who->uid != 0) {
		fprintf(stderr, "agentsh trash: --trash-dir is for root only\n");
		return 2;
	}
	if (!main)
		main = NOTIFY_TRASH_DIR;
	if (argc < 2 || has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
		usage();
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "list")) {
		json_t *arr = has_flag(argc, argv, "--json") ? json_array() : NULL;
		int rc = for_each(main, session, print_entry, arr);
		if (rc < 0) {
			fprintf(stderr, "agentsh trash: reading %s failed: %s\n", main, strerror(-rc));
			json_decref(arr);
			return 1;
		}
		if (arr) {
			json_dumpf(arr, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(arr);
		}
		return 0;
	}
	if (!strcmp(argv[1], "restore")) {
		if (argc < 3 || argv[2][0] == '-') {
			usage();
			return 2;
		}
		return restore(main, argv[2], has_flag(argc, argv, "--force"));
	}
	if (!strcmp(argv[1], "purge")) {
		const char *older = opt_val(argc, argv, "--older-than");
		if (has_flag(argc, argv, "--all") || older) {
			long long secs = older ? atoll(older) * 86400LL : -1;
			return for_each(main, session, purge_one, older ? &secs : NULL) < 0;
		}
		int status = 0, any = 0;
		for (int i = 2; i < argc; i++) {
			if (argv[i][0] == '-') {
				if (!strcmp(argv[i], "--session") || !strcmp(argv[i], "--trash-dir"))
					i++;
				continue;
			}
			struct entry e;
			char file[PATH_MAX];
			any = 1;
			snprintf(file, sizeof file, "%s.json", argv[i]);
			if (strchr(argv[i], '/') || load_entry(main, file, &e) < 0 || !mine(&e)) {
				fprintf(stderr, "agentsh trash: no trash entry '%s' of yours\n", argv[i]);
				status = 1;
				continue;
			}
			purge_one(main, &e, NULL);
		}
		if (!any) {
			usage();
			return 2;
		}
		return status;
	}
	usage();
	return 2;
}
