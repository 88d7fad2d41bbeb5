/* enforce_landlock — the Landlock floor built from a real policy, applied in a
 * child without the seccomp layer, so what is measured is the floor alone:
 * writes only beneath static prefixes of non-deny write rules plus the terminal
 * and null devices; signal scoping. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

static char dir[64];

static const char yaml_fmt[] =
	"version: 1\n"
	"name: floor-test\n"
	"file_rules:\n"
	"  - name: deny-secret\n"
	"    paths: [\"%s/rw/secret/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: deny\n"
	"  - name: ws\n"
	"    paths: [\"%s/rw/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"  - name: one-file\n"
	"    paths: [\"%s/ro/log.txt\"]\n"
	"    operations: [write]\n"
	"    decision: audit\n"
	"  - name: read-all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [read]\n"
	"    decision: allow\n";

static int try_write(const char *rel)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Fork, apply the floor, run fn; the child's exit status is fn's result. */
static int in_floor(struct enforce_session *s, int (*fn)(void *), void *arg)
{
	pid_t p = fork();
	if (p == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || enf_landlock_apply_child(s->landlock_fd) != 0)
			_exit(200);
		_exit(fn(arg));
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static int writes(void *a)
{
	(void)a;
	int bad = 0;
	bad |= try_write("rw/new.txt") != 0;            /* allowed beneath rw */
	bad |= (try_write("ro/other.txt") != EACCES) << 1;
	bad |= (try_write("ro/log.txt") != 0) << 2;     /* a literal file rule */
	bad |= (open("/dev/null", O_WRONLY) < 0) << 3;
	bad |= (mkdir("/var/tmp/agentsh-floor-x", 0700) == 0 || errno != EACCES) << 4;
	char p[256];
	snprintf(p, sizeof p, "%s/ro/log.txt", dir);
	bad |= (truncate(p, 0) != 0) << 5;
	snprintf(p, sizeof p, "%s/rw/new.txt", dir);
	char q[256];
	snprintf(q, sizeof q, "%s/ro/moved.txt", dir);
	bad |= (rename(p, q) == 0 || errno != EACCES) << 6; /* out of the writable tree */
	return bad;
}

static int sig_parent(void *a)
{
	pid_t target = *(pid_t *)a;
	return kill(target, 0) == 0 ? 1 : errno == EPERM ? 0 : 2;
}

static void t_floor(void **st)
{
	(void)st;
	if (enf_landlock_abi() < 6)
		skip();
	char y[2048];
	snprintf(y, sizeof y, yaml_fmt, dir, dir, dir);
	struct policy_vars v = { .home = "/root", .workspace = dir, .tmpdir = "/tmp", .user = "root" };
	struct policy *pol = NULL;
	assert_int_equal(policy_load_buffer(y, strlen(y), "floor", &v, &pol, NULL), 0);
	struct enforce_session s;
	memset(&s, 0, sizeof s);
	s.cfg.policy = pol;
	s.landlock_fd = -1;
	assert_int_equal(enf_landlock_prepare(&s), 0);
	assert_true(s.landlock_fd >= 0);
	assert_false(s.landlock_unbounded);
	assert_int_equal(in_floor(&s, writes, NULL), 0);
	pid_t me = getpid();
	assert_int_equal(in_floor(&s, sig_parent, &me), 0);
	close(s.landlock_fd);
	policy_free(pol);
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/agentsh-floor-%d", (int)getpid());
	char p[128];
	mkdir(dir, 0755);
	snprintf(p, sizeof p, "%s/rw", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/ro", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/ro/log.txt", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(t_floor) };
	return cmocka_run_group_tests(tests, setup, teardown);
}
