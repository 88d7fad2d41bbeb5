/* File operations under the real seccomp supervisor: allowed ones happen with
 * the target's identity, denied ones fail with EACCES and leave the file
 * system untouched, whatever path trick is used. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/openat2.h>
#include <stdio.h>
#include <sys/xattr.h>

#include "enforce_notify_harness.h"

/* `agentsh trash` run by root: every entry, any trash directory */
static const struct enforce_account trash_root = { .uid = 0, .gid = 0, .name = "root", .home = "/root" };

static const char *POLICY =
	"version: 1\n"
	"name: notify-file-test\n"
	"file_rules:\n"
	"  - name: deny-secret\n"
	"    paths: [\"WS/secret\", \"WS/secret/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: deny\n"
	"    message: secrets are off limits\n"
	"  - name: trash-deletes\n"
	"    paths: [\"WS/trash/**\"]\n"
	"    operations: [delete, rmdir]\n"
	"    decision: soft_delete\n"
	"  - name: redirect-log\n"
	"    paths: [\"WS/redir.txt\"]\n"
	"    operations: [write, create]\n"
	"    decision: redirect\n"
	"    redirect_to: WS/redirected\n"
	"  - name: approve-me\n"
	"    paths: [\"WS/approve.txt\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: approve\n"
	"  - name: deny-rootonly\n"
	"    paths: [\"WS/ro/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: deny\n"
	"  - name: keep-deletes\n"
	"    paths: [\"WS/keep/**\"]\n"
	"    operations: [delete]\n"
	"    decision: approve\n"
	"  - name: workspace\n"
	"    paths: [\"WS\", \"WS/**\", \"/dev/**\", \"/proc/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n";

static char ws[256];
static char trash[300];
static struct policy *pol;

static void mkfile(const char *rel, const char *content, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", ws, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(p, mode);
}

static int cmkfile(const char *rel, const char *content, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", ws, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, content, strlen(content));
	close(fd);
	return w < 0 ? -1 : 0;
}

static bool content_is(const char *rel, const char *want)
{
	char p[512], buf[256] = "";
	snprintf(p, sizeof p, "%s/%s", ws, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	return !strcmp(buf, want);
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", ws, rel);
	return lstat(p, &st) == 0;
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: needs root (the supervisor switches to the target's uid)\n");
		return -1;
	}
	h_mkws(ws, sizeof ws, "file");
	snprintf(trash, sizeof trash, "%s-trash", ws);
	char p[512];
	const char *dirs[] = { "secret", "trash", "redirected", "sub", "keep" };
	for (size_t i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "%s/%s", ws, dirs[i]);
		mkdir(p, 0777);
		chmod(p, 0777);
	}
	mkfile("secret/key", "SECRET", 0666);
	char k[512];                                     /* the account's: chmod is the policy's to refuse */
	snprintf(k, sizeof k, "%s/secret/key", ws);
	assert_int_equal(chown(k, H_UID, H_GID), 0);
	mkfile("keep/file", "OLD", 0666);
	snprintf(p, sizeof p, "%s/ro", ws);               /* root's: the account can read nothing */
	mkdir(p, 0755);
	chmod(p, 0755);
	mkfile("ro/f", "ROOT", 0600);
	pol = h_policy(POLICY, ws);
	return pol ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	policy_free(pol);
	h_rmrf(ws);
	h_rmrf(trash);
	return 0;
}

#define FAIL(n) do { fprintf(stderr, "child: step %d: %s\n", n, strerror(errno)); return n; } while (0)
#define P(rel) (snprintf(pb, sizeof pb, "%s/%s", ws, rel), pb)
#define Q(rel) (snprintf(pb2, sizeof pb2, "%s/%s", ws, rel), pb2)

/* ---- children (run inside the sandbox as nobody) ---- */

static int c_create_allowed(void *a)
{
	char pb[512];
	(void)a;
	umask(027);
	int fd = open(P("new.txt"), O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
		FAIL(10);
	if (write(fd, "hello", 5) != 5)
		FAIL(11);
	close(fd);
	fd = openat(AT_FDCWD, P("new.txt"), O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		FAIL(12);
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		FAIL(13);
	if (write(fd, "!", 1) != 1)
		FAIL(14);
	close(fd);
	/* /dev/null and our own stdout via /proc/self: very common, must work */
	if ((fd = open("/dev/null", O_WRONLY)) < 0)
		FAIL(15);
	close(fd);
	/* /proc/self/fd/N of our own pipe (what /dev/stdout resolves to) */
	int pp[2];
	char fdp[64];
	if (pipe(pp) < 0)
		FAIL(16);
	snprintf(fdp, sizeof fdp, "/dev/fd/%d", pp[1]);
	if ((fd = open(fdp, O_WRONLY)) < 0)
		FAIL(17);
	if (write(fd, "x", 1) != 1)
		FAIL(18);
	close(fd);
	return 0;
}

static void t_create_allowed(void **s)
{
	(void)s;
	struct stat st;
	char p[512];
	assert_int_equal(h_code(h_run(pol, c_create_allowed, NULL, NULL)), 0);
	assert_true(content_is("new.txt", "hello!"));
	snprintf(p, sizeof p, "%s/new.txt", ws);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, H_UID);            /* the target's identity, not root's */
	assert_int_equal(st.st_gid, H_GID);
	assert_int_equal(st.st_mode & 0777, 0640);     /* the target's umask */
}

static int expect_err(int rc, int err)
{
	return rc < 0 && errno == err ? 0 : 1;
}

static int c_write_denied(void *a)
{
	char pb[512];
	(void)a;
	if (expect_err(open(P("secret/key"), O_WRONLY), EACCES))
		FAIL(10);
	if (expect_err(open(P("secret/key"), O_RDWR | O_TRUNC), EACCES))
		FAIL(11);
	if (expect_err(creat(P("secret/new"), 0644), EACCES))
		FAIL(12);
	if (expect_err(open(P("sub/../secret/key"), O_WRONLY), EACCES))
		FAIL(13);
	char cwdp[600];
	if (chdir(P("sub")) < 0)
		FAIL(14);
	if (expect_err(open("../secret/key", O_WRONLY | O_APPEND), EACCES))
		FAIL(15);
	snprintf(cwdp, sizeof cwdp, "/proc/self/root%s/secret/key", ws);
	if (expect_err(open(cwdp, O_WRONLY), EACCES))
		FAIL(16);
	if (expect_err(open("/proc/self/cwd/../secret/key", O_WRONLY), EACCES))
		FAIL(17);
	/* a symlink in an allowed place pointing at the secret */
	char tgt[512];
	snprintf(tgt, sizeof tgt, "%s/secret/key", ws);
	if (symlink(tgt, P("link-to-secret")) < 0)
		FAIL(18);
	if (expect_err(open(P("link-to-secret"), O_WRONLY), EACCES))
		FAIL(19);
	/* relative symlink chain */
	if (symlink("sub/../secret", P("dirlink")) < 0)
		FAIL(20);
	if (expect_err(open(P("dirlink/key"), O_WRONLY), EACCES))
		FAIL(21);
	/* the deny rule covers reads ("*"), so read-only opens are gated too */
	if (expect_err(open(P("secret"), O_RDONLY | O_DIRECTORY), EACCES))
		FAIL(22);
	if (expect_err(open(P("secret/key"), O_RDONLY), EACCES))
		FAIL(27);
	/* openat from a dirfd next to the denied dir, and through /proc/self/fd */
	int dfd = open(P("sub"), O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		FAIL(28);
	if (expect_err(openat(dfd, "../secret/key", O_WRONLY), EACCES))
		FAIL(23);
	char fdp[64];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d/../secret/key", dfd);
	if (expect_err(open(fdp, O_WRONLY), EACCES))
		FAIL(24);
	/* openat2 with and without RESOLVE flags */
	struct open_how how = { .flags = O_WRONLY };
	if (expect_err((int)syscall(SYS_openat2, AT_FDCWD, P("secret/key"), &how, sizeof how), EACCES))
		FAIL(25);
	how.resolve = RESOLVE_NO_MAGICLINKS;
	if (expect_err((int)syscall(SYS_openat2, dfd, "../secret/key", &how, sizeof how), EACCES))
		FAIL(26);
	/* RESOLVE_BENEATH refuses ".." itself: the kernel's answer (EXDEV) */
	how.resolve = RESOLVE_BENEATH;
	if (expect_err((int)syscall(SYS_openat2, dfd, "../secret/key", &how, sizeof how), EXDEV))
		FAIL(29);
	return 0;
}

static void t_write_denied(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_write_denied, NULL, NULL)), 0);
	assert_true(content_is("secret/key", "SECRET"));
	assert_false(exists("secret/new"));
	assert_true(h_noticed("denied"));
	assert_true(h_noticed("deny-secret"));
	assert_true(h_noticed("secrets are off limits"));
}

/* Names that exist: the kernel answers EEXIST before any permission check,
 * and so does the supervisor, without a decision (no notice): `mkdir -p`
 * tries every ancestor of the directory it makes. */
static int c_existing_names(void *a)
{
	char pb[512], pb2[512];
	(void)a;
	if (expect_err(mkdir(P("secret"), 0755), EEXIST))
		FAIL(10);
	/* the workspace's parent, outside every rule (default deny) */
	snprintf(pb2, sizeof pb2, "%s", ws);
	*strrchr(pb2, '/') = 0;
	if (expect_err(mkdir(ws, 0755), EEXIST) || expect_err(mkdir(pb2, 0755), EEXIST))
		FAIL(11);
	if (expect_err(mknod(P("secret/key"), S_IFIFO | 0644, 0), EEXIST))
		FAIL(12);
	if (expect_err(symlink("/etc/passwd", P("secret/key")), EEXIST))
		FAIL(13);
	if (cmkfile("victim3", "V", 0666) < 0)
		FAIL(14);
	if (expect_err(link(P("victim3"), Q("secret/key")), EEXIST))
		FAIL(15);
	return 0;
}

static void t_existing_names(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_existing_names, NULL, NULL)), 0);
	assert_false(h_noticed("denied"));
	assert_true(content_is("secret/key", "SECRET"));
}

static int c_delete_kept(void *a)
{
	char pb[512];
	(void)a;
	return expect_err(unlink(P("keep/file")), EACCES) ? 20 : 0;
}

/* Replacing a file by rename writes its path (the delete rule, an approval
 * nobody can give here, does not apply); removing a name that is not there is
 * ENOENT without a decision; removing one that is still needs the approval. */
static int c_replace_and_missing(void *a)
{
	char pb[512], pb2[512];
	(void)a;
	if (cmkfile("keep/.file.tmp", "NEW", 0666) < 0)
		FAIL(10);
	if (rename(P("keep/.file.tmp"), Q("keep/file")) < 0)
		FAIL(11);
	if (expect_err(unlink(P("keep/never-there")), ENOENT))
		FAIL(12);
	if (expect_err(rename(P("keep/never-there"), Q("keep/x")), ENOENT))
		FAIL(13);
	if (expect_err(rmdir(P("keep/no-dir")), ENOENT))
		FAIL(14);
	return 0;
}

static void t_replace_and_missing(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_replace_and_missing, NULL, NULL)), 0);
	assert_true(content_is("keep/file", "NEW"));
	assert_false(h_noticed("keep-deletes"));
	/* control: a real delete there still waits for an approval (none configured) */
	assert_int_equal(h_code(h_run(pol, c_delete_kept, NULL, NULL)), 0);
	assert_true(content_is("keep/file", "NEW"));
	assert_true(h_noticed("keep-deletes"));
}

static int c_read_ro(void *a)
{
	char pb[512];
	(void)a;
	return expect_err(open(P("ro/f"), O_RDONLY), EACCES) ? 30 : 0;
}

/* Denials the kernel would give the account anyway (root's 0600 file, a
 * directory it cannot write): the same errno, recorded, but no notice; a
 * denial of something the account could otherwise do still has one. */
static int c_kernel_refuses(void *a)
{
	char pb[512];
	(void)a;
	if (expect_err(open(P("ro/f"), O_RDONLY), EACCES))
		FAIL(10);
	if (expect_err(open(P("ro/new"), O_WRONLY | O_CREAT, 0644), EACCES))
		FAIL(11);
	if (expect_err(mkdir(P("ro/d"), 0755), EACCES))
		FAIL(12);
	/* chmod and chown of root's file: the kernel's own EPERM */
	if (expect_err(chmod(P("ro/f"), 0644), EPERM))
		FAIL(13);
	if (expect_err(chown(P("ro/f"), H_UID, (gid_t)-1), EPERM))
		FAIL(14);
	if (expect_err(lchown(P("ro/f"), (uid_t)-1, H_GID), EPERM))
		FAIL(15);
	return 0;
}

/* The same chmod where the account owns the file: the policy's denial,
 * EACCES and a notice. */
static int c_chmod_ro(void *a)
{
	char pb[512];
	(void)a;
	return expect_err(chmod(P("ro/f"), 0644), EACCES) ? 31 : 0;
}

static void t_kernel_refuses(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_kernel_refuses, NULL, NULL)), 0);
	assert_false(h_noticed("deny-rootonly"));
	assert_false(exists("ro/new"));
	assert_false(exists("ro/d"));
	/* control: the same rule where the account has the permission */
	char p[512];
	snprintf(p, sizeof p, "%s/ro/f", ws);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(h_code(h_run(pol, c_read_ro, NULL, NULL)), 0);
	assert_int_equal(chmod(p, 0600), 0);
	assert_true(h_noticed("deny-rootonly"));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);
	h_clear();
	assert_int_equal(chown(p, H_UID, H_GID), 0);
	assert_int_equal(h_code(h_run(pol, c_chmod_ro, NULL, NULL)), 0);
	assert_int_equal(chown(p, 0, 0), 0);
	assert_true(h_noticed("deny-rootonly"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

/* An unnamed O_TMPFILE file is a new entry in its directory: allowed where a
 * rule allows everything beneath the directory but not the directory itself
 * (a scratch directory such as /tmp), refused where nothing allows creating,
 * silently where the account cannot write the directory anyway. */
static const char *TMPFILE_POLICY =
	"version: 1\n"
	"name: tmpfile-test\n"
	"file_rules:\n"
	"  - name: scratch\n"
	"    paths: [\"WS/sub/**\", \"/dev/**\", \"/proc/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"  - name: system\n"
	"    paths: [\"WS/ro/**\"]\n"
	"    operations: [create]\n"
	"    decision: deny\n";

static int c_tmpfile(void *a)
{
	char pb[512], pb2[512], fdp[64];
	(void)a;
	int t = open(P("sub"), O_TMPFILE | O_RDWR, 0600);
	if (t < 0)
		FAIL(10);
	if (write(t, "T", 1) != 1)
		FAIL(11);
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", t);
	if (linkat(AT_FDCWD, fdp, AT_FDCWD, Q("sub/named"), AT_SYMLINK_FOLLOW) < 0)
		FAIL(12);
	close(t);
	if (expect_err(open(P("ro"), O_TMPFILE | O_RDWR, 0600), EACCES))
		FAIL(13);
	if (expect_err(open(ws, O_TMPFILE | O_RDWR, 0600), EACCES))
		FAIL(14);
	return 0;
}

static void t_tmpfile(void **s)
{
	(void)s;
	struct policy *tp = h_policy(TMPFILE_POLICY, ws);
	assert_non_null(tp);
	h_clear();
	assert_int_equal(h_code(h_run(tp, c_tmpfile, NULL, NULL)), 0);
	assert_true(content_is("sub/named", "T"));
	assert_false(h_noticed("rule system"));          /* root's directory: the kernel refuses too */
	/* the workspace itself (mode 0777): nothing allows creating there */
	assert_true(h_noticed("#tmpfile (rule default"));
	policy_free(tp);
}

/* ...but not where the agent may not list the directory: there an rmdir
 * under approve gets the approval's answer (none configured: EACCES), never
 * ENOTEMPTY, which would tell whether the hidden directory has entries. */
static const char *HIDDEN_POLICY =
	"version: 1\n"
	"name: hidden-test\n"
	"file_rules:\n"
	"  - name: hidden\n"
	"    paths: [\"WS/ro/**\"]\n"
	"    operations: [read]\n"
	"    decision: deny\n"
	"  - name: ask-rmdir\n"
	"    paths: [\"WS/ro/**\"]\n"
	"    operations: [rmdir]\n"
	"    decision: approve\n"
	"  - name: rest\n"
	"    paths: [\"/**\"]\n"
	"    operations: [read]\n"
	"    decision: allow\n";

static int c_rmdir_hidden(void *a)
{
	char pb[512];
	(void)a;
	return expect_err(rmdir(P("ro/full")), EACCES) ? 40 : 0;
}

static void t_rmdir_hidden(void **s)
{
	(void)s;
	struct policy *hp = h_policy(HIDDEN_POLICY, ws);
	char d[512];
	assert_non_null(hp);
	snprintf(d, sizeof d, "%s/ro/full", ws);
	assert_int_equal(mkdir(d, 0777), 0);
	assert_int_equal(chmod(d, 0777), 0);
	mkfile("ro/full/f", "x", 0644);
	h_clear();
	assert_int_equal(h_code(h_run(hp, c_rmdir_hidden, NULL, NULL)), 0);
	assert_true(content_is("ro/full/f", "x"));
	policy_free(hp);
}

/* A missing name is answered ENOENT at once only when the lookup stayed in
 * one mount: through /proc/self or /dev/fd the supervisor's own "self" would
 * answer, so an fd the target has and the supervisor has not must still be
 * found, and one neither has is still ENOENT. */
static int c_self_fds(void *a)
{
	char pb[512];
	(void)a;
	int f = open(P("victim-fd"), O_RDONLY);
	if (f < 0 || dup2(f, 900) != 900)
		FAIL(10);
	int g = open("/dev/fd/900", O_RDONLY);
	if (g < 0)
		FAIL(11);
	close(g);
	if ((g = open("/proc/self/fd/900", O_RDONLY)) < 0)
		FAIL(12);
	close(g);
	if (expect_err(open("/proc/self/fd/901", O_RDONLY), ENOENT))
		FAIL(13);
	if (expect_err(open(P("no/such/dir/file"), O_RDONLY), ENOENT))
		FAIL(14);
	return 0;
}

static void t_self_fds(void **s)
{
	(void)s;
	mkfile("victim-fd", "V", 0644);
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_self_fds, NULL, NULL)), 0);
}

static int c_namespace_denied(void *a)
{
	char pb[512], pb2[512];
	(void)a;
	if (cmkfile("victim", "V", 0666) < 0)
		FAIL(9);
	/* rename the secret out, rename something over it, exchange */
	if (expect_err(rename(P("secret/key"), (snprintf(pb2, sizeof pb2, "%s/stolen", ws), pb2)), EACCES))
		FAIL(10);
	if (expect_err(rename(P("victim"), (snprintf(pb2, sizeof pb2, "%s/secret/key", ws), pb2)), EACCES))
		FAIL(11);
	if (expect_err((int)syscall(SYS_renameat2, AT_FDCWD, P("victim"), AT_FDCWD,
				    (snprintf(pb2, sizeof pb2, "%s/secret/key", ws), pb2), RENAME_EXCHANGE), EACCES))
		FAIL(12);
	/* hard link the secret into the workspace */
	if (expect_err(link(P("secret/key"), (snprintf(pb2, sizeof pb2, "%s/hl", ws), pb2)), EACCES))
		FAIL(13);
	if (expect_err(unlink(P("secret/key")), EACCES))
		FAIL(14);
	if (expect_err(rmdir(P("secret")), EACCES))
		FAIL(15);
	if (expect_err(mkdir(P("secret/d"), 0755), EACCES))
		FAIL(16);
	if (expect_err(symlink("/etc/passwd", P("secret/sl")), EACCES))
		FAIL(17);
	if (expect_err(truncate(P("secret/key"), 0), EACCES))
		FAIL(18);
	if (expect_err(chmod(P("secret/key"), 0777), EACCES))
		FAIL(19);
	if (expect_err((int)syscall(__NR_fchmodat2, AT_FDCWD, P("secret/key"), 0777, 0), EACCES))
		FAIL(20);
	if (expect_err(setxattr(P("secret/key"), "user.x", "1", 1, 0), EACCES))
		FAIL(21);
	if (expect_err(mknod(P("secret/fifo"), S_IFIFO | 0644, 0), EACCES))
		FAIL(22);
	/* O_TMPFILE in the workspace, then linkat into the denied directory */
	int t = open(ws, O_TMPFILE | O_WRONLY, 0644);
	if (t < 0)
		FAIL(23);
	if (write(t, "X", 1) != 1)
		FAIL(24);
	char fdp[64];
	snprintf(fdp, sizeof fdp, "/proc/self/fd/%d", t);
	if (expect_err(linkat(AT_FDCWD, fdp, AT_FDCWD, P("secret/tmp"), AT_SYMLINK_FOLLOW), EACCES))
		FAIL(25);
	/* ...and into the workspace: allowed */
	if (linkat(AT_FDCWD, fdp, AT_FDCWD, P("fromtmp"), AT_SYMLINK_FOLLOW) < 0)
		FAIL(26);
	/* allowed namespace operations work */
	if (mkdir(P("d1"), 0755) < 0 || rename(P("d1"), Q("d2")) < 0 || rmdir(P("d2")) < 0)
		FAIL(27);
	if (symlink("victim", P("sl")) < 0 || unlink(P("sl")) < 0)
		FAIL(28);
	if (chmod(P("victim"), 0600) < 0 || truncate(P("victim"), 0) < 0)
		FAIL(29);
	if (link(P("victim"), Q("victim2")) < 0)
		FAIL(30);
	if (setxattr(P("victim"), "trusted.x", "1", 1, 0) == 0 || errno != EPERM)
		FAIL(31);
	return 0;
}

static void t_namespace_denied(void **s)
{
	(void)s;
	assert_int_equal(h_code(h_run(pol, c_namespace_denied, NULL, NULL)), 0);
	assert_true(content_is("secret/key", "SECRET"));
	assert_false(exists("stolen"));
	assert_false(exists("hl"));
	assert_false(exists("secret/tmp"));
	assert_false(exists("secret/d"));
	assert_true(content_is("fromtmp", "X"));
	assert_true(exists("victim2"));
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/secret/key", ws);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0666);
}

static int c_soft_delete(void *a)
{
	char pb[512];
	(void)a;
	if (unlink(P("trash/doc.txt")) < 0)
		FAIL(10);
	if (access(P("trash/doc.txt"), F_OK) == 0)
		FAIL(11);
	return 0;
}

/* What the session made itself is deleted for good, without the trash and
 * without a notice: a scratch file, a directory, the temporary file of a
 * rename-over save; what was there before still goes to the trash. */
static int c_soft_delete_own(void *a)
{
	char pb[512], pb2[512];
	(void)a;
	if (cmkfile("trash/scratch.txt", "mine", 0644) < 0 || unlink(P("trash/scratch.txt")) < 0)
		FAIL(20);
	if (mkdir(P("trash/dir"), 0755) < 0 || rmdir(P("trash/dir")) < 0)
		FAIL(21);
	if (cmkfile("trash/.new.tmp", "v2", 0644) < 0 ||
	    rename(P("trash/.new.tmp"), Q("trash/old.txt")) < 0)
		FAIL(22);
	if (cmkfile("trash/.new2.tmp", "v3", 0644) < 0 ||
	    rename(P("trash/.new2.tmp"), Q("trash/old.txt")) < 0)
		FAIL(23);
	return 0;
}

/* rmdir of a directory that still has entries is ENOTEMPTY before any
 * decision (git tries rmdir(".git") after removing a file): no notice, no
 * trash entry, and the session's own directory stays its own, so removing it
 * once empty needs no trash either. */
static int c_rmdir_not_empty(void *a)
{
	char pb[512];
	(void)a;
	if (expect_err(rmdir(P("trash/full")), ENOTEMPTY))
		FAIL(30);
	if (mkdir(P("trash/mine"), 0755) < 0 || cmkfile("trash/mine/f", "x", 0644) < 0)
		FAIL(31);
	if (expect_err(rmdir(P("trash/mine")), ENOTEMPTY))
		FAIL(32);
	if (unlink(P("trash/mine/f")) < 0 || rmdir(P("trash/mine")) < 0)
		FAIL(33);
	return 0;
}

/* Manifests in the trash (those of a file of `size` bytes when size >= 0). */
static int trash_entries(int size)
{
	char cmd[700];
	if (size < 0)
		snprintf(cmd, sizeof cmd, "ls '%s' 2>/dev/null | grep -c '\\.json$'", trash);
	else
		snprintf(cmd, sizeof cmd, "cat '%s'/*.json 2>/dev/null | grep -c '\"size\": %d,'",
			 trash, size);
	FILE *f = popen(cmd, "r");
	int n = -1;
	if (f && fscanf(f, "%d", &n) != 1)
		n = -1;
	if (f)
		pclose(f);
	return n;
}

static void t_soft_delete(void **s)
{
	(void)s;
	struct h_opts o = { .trash_dir = trash };
	mkfile("trash/doc.txt", "precious", 0644);     /* there before the session */
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_soft_delete, NULL, &o)), 0);
	assert_false(exists("trash/doc.txt"));
	assert_true(h_noticed("trash restore"));
	/* restore through the CLI */
	char *argv[] = { "trash", "list", "--trash-dir", trash, NULL };
	assert_int_equal(enforce_trash_run(4, argv, &trash_root), 0);
	char tok[128] = "";
	for (int i = 0; i < h_notices.n; i++) {
		char *t = strstr(h_notices.lines[i], "trash restore ");
		if (t)
			sscanf(t + 14, "%127s", tok);
	}
	assert_true(tok[0]);
	char *rargv[] = { "trash", "restore", tok, "--trash-dir", trash, NULL };
	assert_int_equal(enforce_trash_run(5, rargv, &trash_root), 0);
	assert_true(content_is("trash/doc.txt", "precious"));

	mkfile("trash/old.txt", "version-1", 0644);
	int before = trash_entries(-1), before9 = trash_entries(9);
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_soft_delete_own, NULL, &o)), 0);
	assert_false(exists("trash/scratch.txt"));
	assert_false(exists("trash/dir"));
	assert_true(content_is("trash/old.txt", "v3"));
	/* one entry: version-1 (9 bytes), replaced by the first save; v2 was
	 * the session's own; nothing of the session's own was announced (a
	 * replaced destination goes to the trash silently: it is in the audit) */
	assert_int_equal(trash_entries(-1), before + 1);
	assert_int_equal(trash_entries(9), before9 + 1);
	assert_false(h_noticed("moved to trash"));

	char d[512];
	snprintf(d, sizeof d, "%s/trash/full", ws);     /* there before the session */
	assert_int_equal(mkdir(d, 0777), 0);
	assert_int_equal(chmod(d, 0777), 0);
	mkfile("trash/full/f", "kept", 0644);
	before = trash_entries(-1);
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_rmdir_not_empty, NULL, &o)), 0);
	assert_true(content_is("trash/full/f", "kept"));
	assert_false(exists("trash/mine"));
	assert_int_equal(trash_entries(-1), before);
	assert_false(h_noticed("trash"));
	assert_false(h_noticed("denied"));
}

static int c_redirect(void *a)
{
	char pb[512];
	(void)a;
	int fd = open(P("redir.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		FAIL(10);
	if (write(fd, "elsewhere", 9) != 9)
		FAIL(11);
	close(fd);
	return 0;
}

static void t_redirect(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_redirect, NULL, NULL)), 0);
	assert_false(exists("redir.txt"));
	assert_true(content_is("redirected/redir.txt", "elsewhere"));
	assert_true(h_noticed("redirected"));
}

/* The redirect directory is the agent's to fill: a link placed there, or
 * the directory itself swapped for a link, must not carry the redirected
 * write onto a file a rule protects; a FIFO there must not hold the
 * supervisor. */
static int c_redirect_link(void *a)
{
	char pb[512], t[512];
	(void)a;
	unlink(P("redirected/redir.txt"));       /* t_redirect's */
	snprintf(t, sizeof t, "%s/secret/key", ws);
	if (symlink(t, P("redirected/redir.txt")) < 0)
		FAIL(20);
	if (expect_err(open(P("redir.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644), EACCES))
		FAIL(21);
	if (unlink(P("redirected/redir.txt")) < 0)
		FAIL(22);
	char away[512];
	snprintf(away, sizeof away, "%s/redirected.away", ws);
	if (rename(P("redirected"), away) < 0)
		FAIL(23);
	snprintf(t, sizeof t, "%s/secret", ws);
	if (symlink(t, P("redirected")) < 0)
		FAIL(24);
	if (expect_err(open(P("redir.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644), EACCES))
		FAIL(25);
	if (unlink(P("redirected")) < 0 || rename(away, P("redirected")) < 0)
		FAIL(26);
	/* a FIFO there: the open does not wait for a reader in the
	 * supervisor's receive loop (ENXIO, as O_NONBLOCK gives) */
	if (mkfifo(P("redirected/redir.txt"), 0644) < 0)
		FAIL(27);
	alarm(10);
	int fd = open(P("redir.txt"), O_WRONLY | O_CREAT, 0644);
	alarm(0);
	if (expect_err(fd, ENXIO))
		FAIL(28);
	if (unlink(P("redirected/redir.txt")) < 0)
		FAIL(29);
	return 0;
}

static void t_redirect_link(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_redirect_link, NULL, NULL)), 0);
	assert_true(content_is("secret/key", "SECRET"));
	assert_false(exists("secret/redir.txt"));
	assert_true(h_noticed("the redirect target leads to"));
}

static int c_approve(void *a)
{
	char pb[512];
	(void)a;
	return expect_err(open(P("approve.txt"), O_WRONLY | O_CREAT, 0644), EACCES) ? 10 : 0;
}

static void t_approve_unconfigured(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_approve, NULL, NULL)), 0);
	assert_false(exists("approve.txt"));
	assert_true(h_noticed("approvals are not configured"));
}

/* The target's own permissions still apply: nobody cannot write root's 0644 file. */
static int c_perms(void *a)
{
	char pb[512];
	(void)a;
	if (expect_err(open(P("rootfile"), O_WRONLY), EACCES))
		FAIL(10);
	if (expect_err(unlink("/etc/hostname"), EACCES))
		FAIL(11);
	return 0;
}

static void t_target_permissions(void **s)
{
	(void)s;
	mkfile("rootfile", "R", 0644);
	struct policy *all = h_policy("version: 1\nname: all\nfile_rules:\n"
				      "  - name: all\n    paths: [\"/**\"]\n    operations: [\"*\"]\n"
				      "    decision: allow\n", ws);
	assert_non_null(all);
	assert_int_equal(h_code(h_run(all, c_perms, NULL, NULL)), 0);
	assert_true(content_is("rootfile", "R"));
	policy_free(all);
}

/* An open that must wait for a lease holder (F_SETLEASE on a file of the
 * session's own) waits, as without agentsh, but only the opener waits: the
 * supervisor answers every other process meanwhile (it waited in its receive
 * loop, up to fs.lease-break-time, 45 s, per open).  A read lease broken by a
 * writer, a write lease broken by a reader, a read lease broken by
 * truncate(2); the waiting open completes when the holder lets go, without
 * an O_NONBLOCK it never asked for. */
static void on_sigio(int sig)
{
	(void)sig;
}

static int c_lease(void *a)
{
	(void)a;
	char f[512], other[512];

	signal(SIGIO, on_sigio);        /* the holder decides when to let go */
	for (int mode = 0; mode < 3; mode++) {      /* writer, reader, truncate(path) */
		snprintf(f, sizeof f, "%s/leased%d", ws, mode);
		int hold = open(f, (mode == 1 ? O_RDWR : O_RDONLY) | O_CREAT, 0644);
		if (hold < 0 || fcntl(hold, F_SETLEASE, mode == 1 ? F_WRLCK : F_RDLCK) < 0)
			return 40 + mode;
		pid_t k = fork();
		if (k == 0) {
			if (mode == 2)
				_exit(truncate(f, 0) == 0 ? 0 : 3);
			int fd = open(f, mode == 0 ? O_WRONLY : O_RDONLY);
			if (fd < 0)
				_exit(1);
			_exit(fcntl(fd, F_GETFL) & O_NONBLOCK ? 2 : 0);
		}
		/* SIGIO tells the holder that the opener waits (it cuts this
		 * sleep short) */
		usleep(300000);
		alarm(10);              /* a stalled supervisor would hold this open */
		snprintf(other, sizeof other, "%s/unrelated%d", ws, mode);
		int fd = open(other, O_WRONLY | O_CREAT, 0644);
		alarm(0);
		if (fd < 0)
			return 50 + mode;
		if (fcntl(fd, F_GETFL) & O_NONBLOCK)
			return 53 + mode;
		close(fd);
		int st = -1;
		if (waitpid(k, &st, WNOHANG) != 0)
			return 56 + mode;       /* the opener did not wait for the holder */
		fcntl(hold, F_SETLEASE, F_UNLCK);
		close(hold);
		if (waitpid(k, &st, 0) != k || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 59 + mode;
	}
	return 0;
}

static void t_lease_break(void **s)
{
	(void)s;
	assert_int_equal(h_code(h_run(pol, c_lease, NULL, NULL)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_create_allowed),
		cmocka_unit_test(t_write_denied),
		cmocka_unit_test(t_namespace_denied),
		cmocka_unit_test(t_existing_names),
		cmocka_unit_test(t_replace_and_missing),
		cmocka_unit_test(t_kernel_refuses),
		cmocka_unit_test(t_tmpfile),
		cmocka_unit_test(t_rmdir_hidden),
		cmocka_unit_test(t_self_fds),
		cmocka_unit_test(t_soft_delete),
		cmocka_unit_test(t_redirect),
		cmocka_unit_test(t_redirect_link),
		cmocka_unit_test(t_approve_unconfigured),
		cmocka_unit_test(t_target_permissions),
		cmocka_unit_test(t_lease_break),
	};
	if (geteuid() != 0) {
		printf("needs root: the supervisor switches to the target's uid\n");
		FAIL(77);
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
