/* exec decisions under the real supervisor: every way of running a denied
 * binary fails; redirect runs the replacement in the same process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "enforce_notify_harness.h"

static const char *POLICY =
	"version: 1\n"
	"name: notify-exec-test\n"
	"file_rules:\n"
	"  - name: all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"command_rules:\n"
	"  - name: deny-id\n"
	"    commands: [id]\n"
	"    decision: deny\n"
	"    message: no id for you\n"
	"  - name: no-exec-from-workspace\n"
	"    commands: [\"WS/**\"]\n"
	"    decision: deny\n"
	"  - name: redirect-whoami\n"
	"    commands: [whoami]\n"
	"    decision: redirect\n"
	"    redirect_to:\n"
	"      command: /usr/bin/echo\n"
	"      args: [redirected]\n"
	"      args_append: [tail]\n"
	"  - name: rest\n"
	"    commands: [\"*\"]\n"
	"    decision: allow\n"
	"env_inject:\n"
	"  BASH_ENV: /dev/null\n";

static char ws[256];
static struct policy *pol;

static int setup(void **s)
{
	(void)s;
	h_mkws(ws, sizeof ws, "exec");
	pol = h_policy(POLICY, ws);
	return pol ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	policy_free(pol);
	h_rmrf(ws);
	return 0;
}

#define FAIL(n) do { fprintf(stderr, "child: step %d: %s\n", n, strerror(errno)); return n; } while (0)

/* fork + exec in the sandboxed child; returns the grandchild's exit code, or
 * 100 + errno when the exec itself failed. */
static int run_at(const char *path, char *const argv[], char *const envp[], int out_fd);

static int run(char *const argv[], char *const envp[], int out_fd)
{
	return run_at(argv[0], argv, envp, out_fd);
}

/* argv is only passed on, never read here: it may be misaligned on purpose */
static int run_at(const char *path, char *const argv[], char *const envp[], int out_fd)
{
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	pid_t p = fork();
	if (p == 0) {
		close(ep[0]);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		execve(path, argv, envp ? envp : (char *[]){ "PATH=/usr/bin:/bin", NULL });
		int e = errno;
		if (write(ep[1], &e, sizeof e) < 0)
			_exit(99);
		_exit(98);
	}
	close(ep[1]);
	int e = 0, st;
	ssize_t n = read(ep[0], &e, sizeof e);
	close(ep[0]);
	waitpid(p, &st, 0);
	if (n == sizeof e)
		return 100 + e;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int c_basic(void *a)
{
	(void)a;
	if (run((char *[]){ "/usr/bin/true", NULL }, NULL, -1) != 0)
		FAIL(10);
	if (run((char *[]){ "/usr/bin/id", NULL }, NULL, -1) != 100 + EACCES)
		FAIL(11);
	/* through a symlink and a hard link in the workspace, and a copy */
	char p[512];
	snprintf(p, sizeof p, "%s/idlink", ws);
	if (symlink("/usr/bin/id", p) < 0 || run((char *[]){ p, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(12);
	snprintf(p, sizeof p, "%s/idcopy", ws);
	if (system("true") == -2) /* never */
		FAIL(0);
	int in = open("/usr/bin/id", O_RDONLY), out = open(p, O_WRONLY | O_CREAT, 0755);
	char buf[65536];
	ssize_t k;
	while (in >= 0 && out >= 0 && (k = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)k) != k)
			FAIL(13);
	close(in);
	close(out);
	if (run((char *[]){ p, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(14);
	/* the dynamic loader on the denied binary */
	if (run((char *[]){ "/lib64/ld-linux-x86-64.so.2", "/usr/bin/id", NULL }, NULL, -1) != 100 + EACCES)
		FAIL(15);
	if (run((char *[]){ "/lib64/ld-linux-x86-64.so.2", "--library-path", "/lib", "/usr/bin/id", NULL },
		NULL, -1) != 100 + EACCES)
		FAIL(16);
	/* a script whose interpreter is denied */
	snprintf(p, sizeof p, "%s/script", ws);
	int sfd = open(p, O_WRONLY | O_CREAT, 0755);
	if (sfd < 0 || write(sfd, "#!/usr/bin/id\n", 14) != 14)
		FAIL(17);
	close(sfd);
	/* (the script lives in the workspace: denied by path too; use /tmp copy rule-free) */
	if (run((char *[]){ p, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(18);
	/* a variable the default secret list refuses but env_inject provides */
	if (run((char *[]){ "/usr/bin/true", NULL }, (char *[]){ "BASH_ENV=/dev/null", NULL }, -1) != 0)
		FAIL(20);
	/* LD_PRELOAD set by a grandchild */
	if (run((char *[]){ "/usr/bin/true", NULL }, (char *[]){ "LD_PRELOAD=/tmp/x.so", NULL }, -1) !=
	    100 + EPERM)
		FAIL(19);
	return 0;
}

/* argv read by the supervisor in page-sized batches: a vector that ends on the
 * last word before an unreadable page, one whose pointer straddles two pages,
 * one spanning several pages, and one with no NULL before the unreadable page. */
static void put_ptr(char *at, const char *v)
{
	memcpy(at, &v, sizeof v);
}

static int c_argv_pages(void *a)
{
	(void)a;
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)(4 * pg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + 3 * pg, (size_t)pg, PROT_NONE) < 0)
		FAIL(30);
	char **end = (char **)(m + 3 * pg) - 3;
	end[0] = "/usr/bin/true";
	end[1] = "x";
	end[2] = NULL;
	if (run(end, NULL, -1) != 0)
		FAIL(31);
	end[0] = "/usr/bin/id";
	if (run(end, NULL, -1) != 100 + EACCES)
		FAIL(32);
	char *cross = m + pg - 4;       /* argv[0] spans two pages */
	put_ptr(cross, "/usr/bin/id");
	put_ptr(cross + 8, NULL);
	if (run_at("/usr/bin/id", (char **)(void *)cross, NULL, -1) != 100 + EACCES)
		FAIL(33);
	put_ptr(cross, "/usr/bin/true");
	if (run_at("/usr/bin/true", (char **)(void *)cross, NULL, -1) != 0)
		FAIL(34);
	char **many = (char **)(void *)m;       /* 1000 pointers: three pages */
	many[0] = "/usr/bin/id";
	for (int i = 1; i < 1000; i++)
		many[i] = "arg";
	many[1000] = NULL;
	if (run(many, NULL, -1) != 100 + EACCES)
		FAIL(35);
	many[0] = "/usr/bin/true";
	if (run(many, NULL, -1) != 0)
		FAIL(36);
	char **open_end = (char **)(m + 3 * pg) - 2;    /* no NULL before the hole */
	open_end[0] = "/usr/bin/true";
	open_end[1] = "y";
	if (run(open_end, NULL, -1) < 100)
		FAIL(37);
	return 0;
}

static void t_argv_pages(void **s)
{
	(void)s;
	assert_int_equal(h_code(h_run(pol, c_argv_pages, NULL, NULL)), 0);
}

static void t_basic(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_basic, NULL, NULL)), 0);
	assert_true(h_noticed("no id for you"));
	assert_true(h_noticed("env_policy"));
}

static int c_fd_exec(void *a)
{
	(void)a;
	/* memfd + fexecve */
	int m = memfd_create("x", 0);
	int in = open("/usr/bin/true", O_RDONLY);
	char buf[65536];
	ssize_t k;
	while ((k = read(in, buf, sizeof buf)) > 0)
		if (write(m, buf, (size_t)k) != k)
			FAIL(10);
	close(in);
	pid_t p = fork();
	if (p == 0) {
		fexecve(m, (char *[]){ "true", NULL }, (char *[]){ NULL });
		_exit(100 + errno);
	}
	int st;
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 100 + EACCES)
		FAIL(11);
	/* execveat(AT_EMPTY_PATH) and /proc/self/fd/N of the denied binary */
	int fd = open("/usr/bin/id", O_RDONLY);
	p = fork();
	if (p == 0) {
		syscall(SYS_execveat, fd, "", (char *[]){ "id", NULL }, (char *[]){ NULL }, AT_EMPTY_PATH);
		_exit(100 + errno);
	}
	waitpid(p, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 100 + EACCES)
		FAIL(12);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (run((char *[]){ path, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(13);
	/* ...and of an allowed one works */
	int tfd = open("/usr/bin/true", O_RDONLY);
	snprintf(path, sizeof path, "/proc/self/fd/%d", tfd);
	if (run((char *[]){ path, NULL }, NULL, -1) != 0)
		FAIL(14);
	return 0;
}

static void t_fd_exec(void **s)
{
	(void)s;
	assert_int_equal(h_code(h_run(pol, c_fd_exec, NULL, NULL)), 0);
}

static int c_redirect(void *a)
{
	(void)a;
	int pp[2];
	if (pipe(pp) < 0)
		FAIL(10);
	int rc = run((char *[]){ "/usr/bin/whoami", "orig1", "orig2", NULL }, NULL, pp[1]);
	close(pp[1]);
	char buf[256] = "";
	ssize_t n = read(pp[0], buf, sizeof buf - 1);
	if (n > 0)
		buf[n] = 0;
	if (rc != 0) {
		fprintf(stderr, "child: redirect exit %d output '%s'\n", rc, buf);
		FAIL(11);
	}
	if (strcmp(buf, "redirected orig1 orig2 tail\n")) {
		fprintf(stderr, "child: redirect output '%s'\n", buf);
		FAIL(12);
	}
	return 0;
}

static void t_redirect(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_redirect, NULL, NULL)), 0);
	assert_true(h_noticed("redirected"));
}

/* Names root gave a program (a root-owned symlink in a directory the account
 * cannot write) are names of it: rules match them as they match the real
 * path, first rule wins.  A link in a writable directory names nothing. */
static const char *ALIAS_POLICY =
	"version: 1\n"
	"name: notify-exec-alias\n"
	"file_rules:\n"
	"  - name: all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"command_rules:\n"
	"  - name: deny-alias\n"
	"    commands: [denied-alias]\n"
	"    decision: deny\n"
	"  - name: allow-names\n"
	"    commands: [ok-name, chain2, \"false\", script-ok]\n"
	"    decision: allow\n";

static int c_aliases(void *a)
{
	const char *adir = a;
	char p[512];
#define AT(name) (snprintf(p, sizeof p, "%s/%s", adir, name), p)
	/* the real name has no rule: default deny */
	if (run((char *[]){ "/usr/bin/true", NULL }, NULL, -1) != 100 + EACCES)
		FAIL(10);
	/* a name root gave it, directly and at the start of a chain */
	if (run((char *[]){ AT("trusted/ok-name"), NULL }, NULL, -1) != 0)
		FAIL(11);
	if (run((char *[]){ AT("trusted/chain1"), NULL }, NULL, -1) != 0)
		FAIL(12);
	/* an earlier deny of the alias beats the allow of the real name */
	if (run((char *[]){ "/usr/bin/false", NULL }, NULL, -1) != 1)
		FAIL(13);
	if (run((char *[]){ AT("trusted/denied-alias"), NULL }, NULL, -1) != 100 + EACCES)
		FAIL(14);
	/* root's link in a world-writable directory, and the agent's own link */
	if (run((char *[]){ AT("ok-name"), NULL }, NULL, -1) != 100 + EACCES)
		FAIL(15);
	if (symlink("/usr/bin/true", AT("mine/ok-name")) < 0 ||
	    run((char *[]){ p, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(16);
	/* the agent's link to root's alias: the alias still names it */
	char alias[512];
	snprintf(alias, sizeof alias, "%s/trusted/ok-name", adir);
	if (symlink(alias, AT("mine/via")) < 0 || run((char *[]){ p, NULL }, NULL, -1) != 0)
		FAIL(17);
	/* a script's interpreter is decided by its names too */
	char hdr[600];
	int hl = snprintf(hdr, sizeof hdr, "#!%s\n", alias);
	int fd = open(AT("mine/script-ok"), O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, hdr, (size_t)hl) != hl || close(fd) < 0 ||
	    run((char *[]){ p, NULL }, NULL, -1) != 0)
		FAIL(18);
	if (mkdir(AT("mine/sub"), 0755) < 0)
		FAIL(19);
	fd = open(AT("mine/sub/script-ok"), O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, "#!/usr/bin/true\n", 15) != 15 || close(fd) < 0 ||
	    run((char *[]){ p, NULL }, NULL, -1) != 100 + EACCES)
		FAIL(20);
#undef AT
	return 0;
}

static void t_trusted_aliases(void **s)
{
	(void)s;
	char d[300], p[400];
	struct policy *ap = h_policy(ALIAS_POLICY, ws);
	assert_non_null(ap);
	snprintf(d, sizeof d, "%s/alias", ws);
	assert_int_equal(mkdir(d, 0777), 0);
	assert_int_equal(chmod(d, 0777), 0);           /* root's, but anyone may write */
	snprintf(p, sizeof p, "%s/trusted", d);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/mine", d);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, H_UID, H_GID), 0);
	const char *links[][2] = {
		{ "trusted/ok-name", "/usr/bin/true" }, { "trusted/chain1", "chain2" },
		{ "trusted/chain2", "/usr/bin/true" }, { "trusted/denied-alias", "/usr/bin/false" },
		{ "ok-name", "/usr/bin/true" },
	};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", d, links[i][0]);
		assert_int_equal(symlink(links[i][1], p), 0);
	}
	assert_int_equal(h_code(h_run(ap, c_aliases, d, NULL)), 0);
	policy_free(ap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_basic),
		cmocka_unit_test(t_argv_pages),
		cmocka_unit_test(t_fd_exec),
		cmocka_unit_test(t_redirect),
		cmocka_unit_test(t_trusted_aliases),
	};
	if (geteuid() != 0) {
		printf("needs root: the supervisor switches to the target's uid\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
