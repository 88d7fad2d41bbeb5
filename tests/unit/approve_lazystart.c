/* The broker starts its timer and socket server with the first request that
 * waits for a human (approve/broker.c): creating a broker touches nothing on
 * disk, the first waiting request creates the socket, and a server that cannot
 * start denies that request (E_APPROVAL_UNAVAILABLE) instead of holding it
 * where no remote approver can reach it.  Real files, real sockets, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "approve/approve.h"

#define SECRET_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static char dir[64], sdir[64];         /* approvers store; socket parent */

struct got {
	pthread_mutex_t mu;
	int n;
	enum approve_verdict v;
	char code[64], reason[512];
};

static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct got *g = ctx;

	pthread_mutex_lock(&g->mu);
	g->n++;
	g->v = a->verdict;
	snprintf(g->code, sizeof(g->code), "%s", a->error_code ? a->error_code : "");
	snprintf(g->reason, sizeof(g->reason), "%s", a->reason ? a->reason : "");
	pthread_mutex_unlock(&g->mu);
}

static int setup(void **state)
{
	char p[128];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-lazy.XXXXXX");
	snprintf(sdir, sizeof(sdir), "/tmp/apr-lazys.XXXXXX");
	/* apart: serving a socket opens its parents' search bits (server.c),
	 * which would make the 0700 store unsafe */
	if (!mkdtemp(dir) || !mkdtemp(sdir))
		return -1;
	chmod(dir, 0700);
	snprintf(p, sizeof(p), "%s/alice.totp", dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, SECRET_B32, strlen(SECRET_B32)) != (ssize_t)strlen(SECRET_B32))
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, sdir);
	return system(cmd);
}

static struct approve_request req(void)
{
	return (struct approve_request){ .op = APPROVE_OP_EXEC, .target = "/usr/bin/deploy",
					 .cmdline = "deploy", .pid = 77, .rule = "ask-deploy" };
}

static void test_socket_appears_with_first_request(void **state)
{
	char sd[128], sock[192], err[256] = "";
	struct approve_config c = { .session = "lazy1", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = sd };
	struct approve_broker *b = NULL;
	struct approve_request r = req();
	struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct stat st;

	(void)state;
	snprintf(sd, sizeof(sd), "%s/sock", sdir);
	snprintf(sock, sizeof(sock), "%s/lazy1.sock", sd);
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(stat(sd, &st), -1);            /* nothing created yet */
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 0);                       /* held for a human */
	assert_int_equal(approve_pending_count(b), 1);
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	approve_broker_free(b);                         /* denies it, removes the socket */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v, APPROVE_DENY);
	assert_string_equal(g.code, "E_APPROVAL_SESSION_END");
	assert_int_equal(stat(sock, &st), -1);
}

static void test_unservable_socket_denies(void **state)
{
	char sd[128], err[256] = "";
	struct approve_config c = { .session = "lazy2", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = sd };
	struct approve_broker *b = NULL;
	struct approve_request r = req(), r2 = req();
	struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER }, g2 = { .mu = PTHREAD_MUTEX_INITIALIZER };

	(void)state;
	/* a directory under a regular file can never be created */
	snprintf(sd, sizeof(sd), "%s/file", sdir);
	close(open(sd, O_WRONLY | O_CREAT, 0600));
	snprintf(sd, sizeof(sd), "%s/file/sock", sdir);
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(g.n, 1);                       /* answered at once */
	assert_int_equal(g.v, APPROVE_DENY);
	assert_string_equal(g.code, "E_APPROVAL_UNAVAILABLE");
	assert_non_null(strstr(g.reason, sd));
	assert_int_equal(approve_pending_count(b), 0);
	/* and every later request too: no retry ever turns into "held" */
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	assert_int_equal(g2.n, 1);
	assert_string_equal(g2.code, "E_APPROVAL_UNAVAILABLE");
	approve_broker_free(b);
}

static void test_no_socket_server_still_holds(void **state)
{
	char err[256] = "";
	struct approve_config c = { .session = "lazy3", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "", .default_timeout_ms = 100 };
	struct approve_broker *b = NULL;
	struct approve_request r = req();
	struct got g = { .mu = PTHREAD_MUTEX_INITIALIZER };

	(void)state;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_pending_count(b), 1);
	/* the lazily started timer still expires it */
	for (int i = 0; i < 100 && approve_pending_count(b); i++)
		usleep(20000);
	pthread_mutex_lock(&g.mu);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v, APPROVE_TIMEOUT);
	pthread_mutex_unlock(&g.mu);
	approve_broker_free(b);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_socket_appears_with_first_request),
		cmocka_unit_test(test_unservable_socket_denies),
		cmocka_unit_test(test_no_socket_server_still_holds),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
