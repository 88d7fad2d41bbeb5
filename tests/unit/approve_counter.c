/* WebAuthn signature counters: the last counter per credential is kept
 * root-only in the approver store; an assertion whose counter does not go
 * forward (when either is non-zero) is refused as a possible clone, an
 * increasing one is accepted, and a key without a counter (always 0) keeps
 * working.  The table directly, and end to end through the broker with the
 * software authenticator (tests/tools/softfido --counter/--fixed-counter). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "approve/approve.h"
#include "approve/approve_int.h"        /* this module's own tests: the counter table */

static char tmp[64], dir[96], dir0[96], keys[96], keys0[96], sock[96];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/apr-ctr.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/approvers", tmp);
	snprintf(dir0, sizeof(dir0), "%s/approvers0", tmp);
	snprintf(keys, sizeof(keys), "%s/keys", tmp);
	snprintf(keys0, sizeof(keys0), "%s/keys0", tmp);
	snprintf(sock, sizeof(sock), "%s/fido.sock", tmp);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(dir0, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd);
}

/* softfido on sock with the given counter options ("" for none). */
static pid_t softfido(const char *k, const char *counter, bool fixed)
{
	const char *b = getenv("AGENTSH_BUILD");
	char bin[256];
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/tests/tools/softfido", b ? b : "build");
	if (access(bin, X_OK) != 0) {
		snprintf(bin, sizeof(bin), "build/tests/tools/softfido");
		if (access(bin, X_OK) != 0)
			fail_msg("softfido not built (make %s/tests/tools/softfido)", b ? b : "build");
	}
	unlink(sock);
	if ((pid = fork()) == 0) {
		const char *argv[10] = { "softfido", "--socket", sock, "--keys", k };
		int n = 5;
		if (*counter) {
			argv[n++] = "--counter";
			argv[n++] = counter;
		}
		if (fixed)
			argv[n++] = "--fixed-counter";
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200 && access(sock, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(access(sock, F_OK), 0);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void test_table(void **state)
{
	uint32_t st = 0;
	char path[160];
	struct stat sb;

	(void)state;
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 5, &st), 0);
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 5, &st), -ESTALE);   /* replayed */
	assert_int_equal(st, 5);
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 4, &st), -ESTALE);   /* older */
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 0, &st), -ESTALE);   /* reset to 0 */
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 6, &st), 0);         /* increasing */
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 1000, &st), 0);      /* jumps are fine */
	/* a key without a counter: 0 after 0 stays accepted */
	assert_int_equal(ap_counter_check(dir, "WkVSTw==", 0, &st), 0);
	assert_int_equal(ap_counter_check(dir, "WkVSTw==", 0, &st), 0);
	/* credentials are independent */
	assert_int_equal(ap_counter_check(dir, "T1RIRVI=", 1, &st), 0);
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 1000, &st), -ESTALE);
	/* root-only, like every store file */
	snprintf(path, sizeof(path), "%s/u2f-counters", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* a table others can read is not trusted: refuse */
	chmod(path, 0644);
	assert_int_not_equal(ap_counter_check(dir, "Q1JFRA==", 2000, &st), 0);
	chmod(path, 0600);
	assert_int_equal(ap_counter_check(dir, "Q1JFRA==", 2000, &st), 0);
	assert_int_equal(ap_counter_check(dir, "bad cred", 1, &st), -EINVAL);
}

struct got {
	int n;
	enum approve_verdict v;
};

static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct got *g = ctx;

	g->n++;
	g->v = a->verdict;
}

static const struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };

/* Submit one request, sign it on the current softfido, resolve: 0 or -errno. */
static int approve_one(struct approve_broker *b, const char *target, char *err, size_t errlen)
{
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = target, .rule = "ask" };
	struct approve_proof p = { .method = APPROVE_M_WEBAUTHN };
	struct got g = { 0 };
	char *ch, *as = NULL, dev[128];
	int rc;

	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 0);
	assert_non_null(ch = ap_broker_challenge(b, r.id));
	snprintf(dev, sizeof(dev), "unix:%s", sock);
	rc = approve_webauthn_sign(ch, dev, &as, err, errlen);
	free(ch);
	if (rc < 0)
		fail_msg("sign: %s", err);
	p.assertion_json = as;
	rc = approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, errlen);
	free(as);
	if (rc == 0)
		assert_true(g.n == 1 && g.v == APPROVE_ONCE);
	else
		assert_int_equal(g.n, 0);       /* still pending: the broker denies it at free */
	return rc;
}

static int enroll(const char *d, const char *name)
{
	char dev[128];
	char *argv[] = { "approver", "add", (char *)name, "--webauthn", "--dir", (char *)d, "--device", dev, NULL };

	snprintf(dev, sizeof(dev), "unix:%s", sock);
	return approve_approver_cli(8, argv);
}

static struct approve_broker *mk(const char *d, const char *session)
{
	struct approve_config c = { .session = session, .session_uid = 4242, .approvers_dir = d,
				    .socket_dir = "" };
	struct approve_broker *b = NULL;
	char err[256];

	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	return b;
}

static void test_clone_detected(void **state)
{
	struct approve_broker *b;
	char err[512] = "";
	pid_t f;

	(void)state;
	f = softfido(keys, "", false);
	assert_int_equal(enroll(dir, "bob"), 0);
	b = mk(dir, "ctr1");
	/* the real key, counting up: every touch works */
	assert_int_equal(approve_one(b, "/bin/a", err, sizeof(err)), 0);
	assert_int_equal(approve_one(b, "/bin/b", err, sizeof(err)), 0);
	stop(f);
	/* the key jumps ahead (another relying party used it meanwhile): fine */
	f = softfido(keys, "50", true);
	assert_int_equal(approve_one(b, "/bin/c", err, sizeof(err)), 0);
	/* ...and the same counter again (a clone replaying, or a copy in step): refused */
	assert_int_equal(approve_one(b, "/bin/d", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "signature counter 50, not above the 50"));
	assert_non_null(strstr(err, "cloned"));
	stop(f);
	/* a copy that is behind: refused */
	f = softfido(keys, "7", true);
	assert_int_equal(approve_one(b, "/bin/e", err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "cloned"));
	stop(f);
	/* a key that lost its counter (reports 0 after counting): refused too */
	f = softfido(keys, "0", true);
	assert_int_equal(approve_one(b, "/bin/f", err, sizeof(err)), -EACCES);
	stop(f);
	/* the original, moving forward again: accepted, also by a new broker */
	f = softfido(keys, "51", false);
	assert_int_equal(approve_one(b, "/bin/g", err, sizeof(err)), 0);
	approve_broker_free(b);
	b = mk(dir, "ctr2");
	assert_int_equal(approve_one(b, "/bin/h", err, sizeof(err)), 0);
	approve_broker_free(b);
	stop(f);
}

static void test_zero_counter_key(void **state)
{
	struct approve_broker *b;
	char err[512] = "";
	pid_t f;

	(void)state;
	f = softfido(keys0, "0", true);                 /* implements no counter at all */
	assert_int_equal(enroll(dir0, "zed"), 0);
	b = mk(dir0, "ctr3");
	assert_int_equal(approve_one(b, "/bin/a", err, sizeof(err)), 0);
	assert_int_equal(approve_one(b, "/bin/b", err, sizeof(err)), 0);
	assert_int_equal(approve_one(b, "/bin/c", err, sizeof(err)), 0);
	approve_broker_free(b);
	stop(f);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_clone_detected),
		cmocka_unit_test(test_zero_counter_key),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
