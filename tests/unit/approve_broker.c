/* Broker: pending, limit, grants, timeout, session end, TOTP proofs, replay,
 * rate limit, actor checks.  Real liboath, real files, real threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"

/* RFC 6238 SHA-1 secret "12345678901234567890" */
#define SECRET_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

struct got {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	enum approve_verdict v;
	enum approve_method m;
	char code[64], approver[64], via[16];
};

static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct got *g = ctx;

	pthread_mutex_lock(&g->mu);
	g->n++;
	g->v = a->verdict;
	g->m = a->method;
	snprintf(g->code, sizeof(g->code), "%s", a->error_code ? a->error_code : "");
	snprintf(g->approver, sizeof(g->approver), "%s", a->approver ? a->approver : "");
	snprintf(g->via, sizeof(g->via), "%s", a->via ? a->via : "");
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void got_init(struct got *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

static int got_wait(struct got *g, int n, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&g->mu);
	while (g->n < n && pthread_cond_timedwait(&g->cv, &g->mu, &ts) == 0)
		;
	n = g->n;
	pthread_mutex_unlock(&g->mu);
	return n;
}

static char dir[64];

static void write_secret(const char *name, const char *b32)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "%s/%s.totp", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b32, strlen(b32)), (ssize_t)strlen(b32));
	close(fd);
}

static void code_at(time_t t, char out[8])
{
	assert_int_equal(oath_totp_generate("12345678901234567890", 20, t, 30, 0, 6, out), OATH_OK);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0700);
	oath_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct approve_broker *mk(unsigned max, unsigned timeout_ms)
{
	struct approve_config c = { .session = "s1", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "", .max_pending = max, .default_timeout_ms = timeout_ms };
	struct approve_broker *b = NULL;
	char err[256];

	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	return b;
}

static struct approve_request req(const char *target)
{
	return (struct approve_request){ .op = APPROVE_OP_EXEC, .target = target, .cmdline = "make deploy",
					 .pid = 77, .rule = "ask-deploy", .message = "deploys to prod" };
}

static const struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };

static void test_no_approver_fails_closed(void **state)
{
	struct approve_broker *b;
	struct approve_request r = req("/usr/bin/deploy");
	struct got g;

	(void)state;
	got_init(&g);
	b = mk(0, 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(got_wait(&g, 1, 10), 1);     /* synchronous */
	assert_int_equal(g.v, APPROVE_DENY);
	assert_string_equal(g.code, "E_APPROVAL_NO_APPROVER");
	approve_broker_free(b);
}

static void test_totp_wrong_right_replay(void **state)
{
	struct approve_broker *b;
	struct approve_request r1 = req("/usr/bin/deploy"), r2 = req("/usr/bin/deploy2");
	struct got g1, g2;
	char code[8], wrong[8], err[256];
	struct approve_proof p = { .method = APPROVE_M_TOTP };

	(void)state;
	write_secret("alice", SECRET_B32);
	got_init(&g1);
	got_init(&g2);
	b = mk(0, 0);
	assert_int_equal(approve_submit(b, &r1, done_cb, &g1), 0);
	assert_int_equal(g1.n, 0);
	assert_int_equal(approve_pending_count(b), 1);
	assert_true(r1.id[0] != 0);
	code_at(time(NULL), code);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	p.totp_code = wrong;
	assert_int_equal(approve_resolve(b, r1.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_int_equal(g1.n, 0);
	p.totp_code = code;
	assert_int_equal(approve_resolve(b, r1.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(got_wait(&g1, 1, 100), 1);
	assert_int_equal(g1.v, APPROVE_ONCE);
	assert_int_equal(g1.m, APPROVE_M_TOTP);
	assert_string_equal(g1.approver, "alice");
	/* the same code for another request: replay, refused */
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	assert_int_equal(approve_resolve(b, r2.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "already used"));
	approve_broker_free(b);
	/* a restarted broker still refuses it (persisted cache) */
	got_init(&g2);
	b = mk(0, 0);
	r2.id[0] = 0;
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	assert_int_equal(approve_resolve(b, r2.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	approve_broker_free(b);
	assert_int_equal(g2.n, 1);
	assert_string_equal(g2.code, "E_APPROVAL_SESSION_END");
}

static void test_skew_window(void **state)
{
	struct approve_broker *b;
	struct approve_request r = req("/bin/x");
	struct got g;
	char old[8], older[8], err[256];
	struct approve_proof p = { .method = APPROVE_M_TOTP };

	(void)state;
	write_secret("alice", SECRET_B32);
	got_init(&g);
	b = mk(0, 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	code_at(time(NULL) - 90, older);       /* 3 steps back: outside the window */
	p.totp_code = older;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	code_at(time(NULL) - 30, old);         /* one step back: inside */
	p.totp_code = old;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), 0);
	approve_broker_free(b);
}

static void test_timeout_denies(void **state)
{
	struct approve_broker *b;
	struct approve_request r = req("/bin/slow");
	struct got g;

	(void)state;
	write_secret("alice", SECRET_B32);
	got_init(&g);
	b = mk(0, 150);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(got_wait(&g, 1, 3000), 1);
	assert_int_equal(g.v, APPROVE_TIMEOUT);
	assert_string_equal(g.code, "E_APPROVAL_TIMEOUT");
	assert_int_equal(approve_pending_count(b), 0);
	approve_broker_free(b);
}

static void test_limit(void **state)
{
	struct approve_broker *b;
	struct approve_request r[3] = { req("/a"), req("/b"), req("/c") };
	struct got g[3];

	(void)state;
	write_secret("alice", SECRET_B32);
	b = mk(2, 0);
	for (int i = 0; i < 3; i++) {
		got_init(&g[i]);
		assert_int_equal(approve_submit(b, &r[i], done_cb, &g[i]), 0);
	}
	assert_int_equal(g[0].n + g[1].n, 0);
	assert_int_equal(g[2].n, 1);
	assert_int_equal(g[2].v, APPROVE_DENY);
	assert_string_equal(g[2].code, "E_APPROVAL_LIMIT");
	approve_broker_end_session(b);
	assert_int_equal(g[0].n + g[1].n, 2);
	assert_string_equal(g[0].code, "E_APPROVAL_SESSION_END");
	approve_broker_free(b);
}

static void test_session_grant(void **state)
{
	struct approve_broker *b;
	struct approve_request r = req("/usr/bin/deploy"), again = req("/usr/bin/deploy"),
			       other = req("/usr/bin/other");
	struct got g, g2, g3;
	char code[8], err[256];
	struct approve_proof p = { .method = APPROVE_M_TOTP };

	(void)state;
	write_secret("alice", SECRET_B32);
	got_init(&g);
	got_init(&g2);
	got_init(&g3);
	b = mk(0, 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	code_at(time(NULL) + 30, code);        /* next step: not used by earlier tests */
	p.totp_code = code;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_SESSION, &p, &tty, err, sizeof(err)), 0);
	assert_int_equal(g.v, APPROVE_SESSION);
	assert_true(approve_session_lookup(b, APPROVE_OP_EXEC, "/usr/bin/deploy"));
	assert_false(approve_session_lookup(b, APPROVE_OP_FILE, "/usr/bin/deploy"));
	assert_false(approve_session_lookup(b, APPROVE_OP_EXEC, "/usr/bin/other"));
	assert_int_equal(approve_submit(b, &again, done_cb, &g2), 0);
	assert_int_equal(g2.n, 1);
	assert_int_equal(g2.m, APPROVE_M_GRANT);
	assert_int_equal(approve_submit(b, &other, done_cb, &g3), 0);
	assert_int_equal(g3.n, 0);      /* nothing else is covered */
	approve_broker_free(b);
	assert_int_equal(g3.v, APPROVE_DENY);
}

static void test_rate_limit_and_actor(void **state)
{
	struct approve_broker *b;
	struct approve_request r = req("/x");
	struct got g;
	char code[8], err[256];
	struct approve_proof p = { .method = APPROVE_M_TOTP, .totp_code = "000001" };
	struct approve_actor self = { .uid = 4242, .via = "socket" };

	(void)state;
	write_secret("alice", SECRET_B32);
	got_init(&g);
	b = mk(0, 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	code_at(time(NULL) - 30, code);
	p.totp_code = code;
	/* the session's own uid is never an approver, even with the right code */
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &self, err, sizeof(err)), -EPERM);
	assert_int_equal(approve_resolve(b, r.id, APPROVE_DENY, NULL, &self, err, sizeof(err)), -EPERM);
	for (int i = 0; i < 5; i++) {
		p.totp_code = "abcdef";
		assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EACCES);
	}
	code_at(time(NULL), code);
	p.totp_code = code;
	assert_int_equal(approve_resolve(b, r.id, APPROVE_ONCE, &p, &tty, err, sizeof(err)), -EBUSY);
	/* no proof at all never approves; deny needs none */
	assert_int_equal(approve_resolve(b, r.id, APPROVE_DENY, NULL, &tty, err, sizeof(err)), 0);
	assert_int_equal(g.v, APPROVE_DENY);
	assert_string_equal(g.code, "E_APPROVAL_DENIED");
	approve_broker_free(b);
}

static void test_digest_binds_fields(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(approve_request_digest("i", "s", APPROVE_OP_EXEC, "/t", "r", a), 0);
	assert_int_equal(approve_request_digest("i", "s", APPROVE_OP_FILE, "/t", "r", b), 0);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(approve_request_digest("i", "s", APPROVE_OP_EXEC, "/t", "r2", b), 0);
	assert_memory_not_equal(a, b, 32);
	/* a field boundary cannot be shifted */
	assert_int_equal(approve_request_digest("ab", "s", APPROVE_OP_EXEC, "", "r", a), 0);
	assert_int_equal(approve_request_digest("a", "bs", APPROVE_OP_EXEC, "", "r", b), 0);
	assert_memory_not_equal(a, b, 32);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(test_no_approver_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totp_wrong_right_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skew_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_denies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_and_actor, setup, teardown),
		cmocka_unit_test(test_digest_binds_fields),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
