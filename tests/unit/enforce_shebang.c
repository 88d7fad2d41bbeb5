/* enf_shebang() against the kernel itself: each header is written to a
 * script whose interpreter is this test binary, the kernel runs it, and the
 * argv the interpreter receives (or the exec's failure) must be what the
 * parser said.  The exec decision is made on the parser's reading, so a
 * difference is an argument the policy never saw. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/notify_int.h"

#define ECHO_ENV "AGENTSH_TEST_SHEBANG_ECHO"

static char self[PATH_MAX];     /* the interpreter every header names */
static char dir[] = "/tmp/agentsh-shebang.XXXXXX";
static char script[PATH_MAX];

/* Run as the interpreter: hand argv back, NUL-separated. */
static int echo_argv(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (write(STDOUT_FILENO, argv[i], strlen(argv[i]) + 1) < 0)
			return 1;
	return 0;
}

/* What the kernel made of hdr: its argv for the interpreter in out (NUL
 * separated, *olen bytes), or -errno when the exec failed. */
static int kernel_reading(const char *hdr, size_t n, char *out, size_t cap, size_t *olen)
{
	int p[2], fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, hdr, n), (ssize_t)n);
	close(fd);
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		char *av[] = { script, "last", NULL }, *ev[] = { ECHO_ENV "=1", NULL };
		execve(script, av, ev);
		int e = errno;
		(void)!write(STDOUT_FILENO, "\x01", 1);
		(void)!write(STDOUT_FILENO, &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	size_t len = 0;
	ssize_t k;
	while (len < cap && (k = read(p[0], out + len, cap - len)) > 0)
		len += (size_t)k;
	close(p[0]);
	waitpid(pid, NULL, 0);
	*olen = len;
	if (len == 1 + sizeof(int) && out[0] == '\x01') {
		int e;
		memcpy(&e, out + 1, sizeof e);
		return -e;
	}
	return 0;
}

/* The argv the parser's reading implies: interp, [arg], script, "last". */
static size_t expected_argv(const char *interp, const char *arg, bool has_arg, char *out)
{
	size_t len = 0;
	const char *v[] = { interp, arg, script, "last" };
	for (size_t i = 0; i < 4; i++) {
		if (i == 1 && !has_arg)
			continue;
		memcpy(out + len, v[i], strlen(v[i]) + 1);
		len += strlen(v[i]) + 1;
	}
	return len;
}

static void printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? "\\x%02x" : "%c",
			(unsigned char)s[i]);
	fputc('\n', stderr);
}

/* One header: the parser and the kernel agree. */
static bool agree(const char *hdr, size_t n)
{
	char interp[ENF_SHEBANG_BUF + 1], arg[ENF_SHEBANG_BUF + 1];
	char got[4096], want[4096];
	size_t glen;
	int sb = enf_shebang(hdr, n, interp, sizeof interp, arg, sizeof arg);
	bool parsed = sb >= 0;
	int rc = kernel_reading(hdr, n, got, sizeof got, &glen);
	bool ok;

	if (!parsed)
		ok = rc == -ENOEXEC;            /* not a script the kernel runs */
	else if (strcmp(interp, self))
		ok = rc < 0;                    /* it names another (absent) file */
	else
		ok = rc == 0 && glen == expected_argv(interp, arg, sb == 1, want) && !memcmp(got, want, glen);
	if (!ok) {
		fprintf(stderr, "header (%zu bytes): ", n);
		printable(hdr, n);
		fprintf(stderr, "parser: %s", parsed ? "interp=" : "not a script\n");
		if (parsed) {
			printable(interp, strlen(interp));
			fprintf(stderr, "        arg%s=", sb ? "" : " (none)");
			printable(arg, strlen(arg));
		}
		if (rc < 0)
			fprintf(stderr, "kernel: exec failed: %s\n", strerror(-rc));
		else {
			fprintf(stderr, "kernel argv: ");
			printable(got, glen);
		}
	}
	return ok;
}

/* Build "#!" + pre + self + post (post may hold NULs: plen bytes). */
static size_t make(char *out, const char *pre, const char *post, size_t plen)
{
	size_t n = 0;
	memcpy(out, "#!", 2);
	n = 2;
	memcpy(out + n, pre, strlen(pre));
	n += strlen(pre);
	memcpy(out + n, self, strlen(self));
	n += strlen(self);
	memcpy(out + n, post, plen);
	return n + plen;
}

#define POST(s) s, sizeof(s) - 1

static void t_edges(void **st)
{
	(void)st;
	char h[1024];
	static const struct { const char *pre, *post; size_t plen; } c[] = {
		{ "", POST("\n") },
		{ "", POST(" arg\n") },
		{ " \t ", POST("  arg with  inner spaces  \t\n") },
		{ "", POST(" -x\r\n") },                  /* the kernel keeps the CR */
		{ "", POST("\r\n") },                     /* ...in the name too */
		{ "", POST(" -x \0junk\n") },             /* no trim before a NUL */
		{ "", POST("\0-c code\n") },              /* a NUL ends the name: no arg */
		{ "", POST(" a\0b\nrest") },
		{ "", POST(" one\ntwo\n") },
		{ "", POST("") },                         /* no newline, short file */
		{ "", POST("\t\t") },
		{ "", POST(" \0") },                      /* an empty argument */
		{ "", POST(" \t \0x\n") },
		{ "", POST(" \n") },                      /* trailing blanks: none */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		assert_true(agree(h, make(h, c[i].pre, c[i].post, c[i].plen)));

	/* no newline in the first 256 bytes: the argument is cut before byte 255 */
	char post[400];
	post[0] = ' ';
	memset(post + 1, 'a', sizeof post - 1);
	for (size_t len = 240 - strlen(self); len < 270 - strlen(self); len++)
		assert_true(agree(h, make(h, "", post, len)));
	/* the name itself cut off: not a script */
	char longpre[300];
	memset(longpre, ' ', sizeof longpre - 1);
	longpre[sizeof longpre - 1] = 0;
	assert_true(agree(h, make(h, longpre, POST(""))));
	assert_true(agree("#!\n", 3));
	assert_true(agree("#!\0/bin/sh\n", 11));   /* an empty name: ENOENT */
	assert_true(agree("#! \t \n", 6));
	assert_true(agree("#", 1));
}

/* Random headers over the bytes that matter to the parser. */
static void t_random(void **st)
{
	(void)st;
	static const char alpha[] = { ' ', '\t', '\r', '\n', '\0', 'a', '-', '#' };
	char h[1024], pre[8], post[300];
	unsigned seed = 0x5eba9;
	int bad = 0;

	for (int i = 0; i < 1500 && bad < 5; i++) {
		size_t np = (size_t)(rand_r(&seed) % 3), nq = (size_t)(rand_r(&seed) % 280);
		for (size_t k = 0; k < np; k++)
			pre[k] = rand_r(&seed) % 2 ? ' ' : '\t';
		pre[np] = 0;
		for (size_t k = 0; k < nq; k++)
			post[k] = alpha[rand_r(&seed) % sizeof alpha];
		bad += !agree(h, make(h, pre, post, nq));
	}
	assert_int_equal(bad, 0);
}

int main(int argc, char **argv)
{
	if (getenv(ECHO_ENV))
		return echo_argv(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_edges),
		cmocka_unit_test(t_random),
	};
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0 || !mkdtemp(dir)) {
		fprintf(stderr, "enforce_shebang: no self path or temporary directory\n");
		return 1;
	}
	self[k] = 0;
	snprintf(script, sizeof script, "%s/script", dir);
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(script);
	rmdir(dir);
	return rc;
}
