/* approve_tty: the prompt coordinator a relay loop drives.  Requests submitted
 * from another thread (as the notify thread does) raise prompts one at a time;
 * a timeout or a remote answer drops the prompt and restores the inner screen;
 * held output appears after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"
#include "pty/pty.h"

#define ROWS 24
#define COLS 100

static char dir[64];
static int pfd[2];
static struct pty_screen *outer, *inner;

static void pump(void)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		pty_screen_feed(outer, buf, (size_t)n);
}

static void row(int r, char *buf)
{
	pump();
	pty_screen_row_text(outer, r, buf, 1024);
}

static bool shows(const char *needle)
{
	char b[1024];

	for (int r = 0; r < ROWS; r++) {
		row(r, b);
		if (strstr(b, needle))
			return true;
	}
	return false;
}

static int setup(void **state)
{
	char p[128];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-tty.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/alice.totp", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 32), 32);
	close(fd);
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pty_screen_new(ROWS, COLS, &outer), 0);
	assert_int_equal(pty_screen_new(ROWS, COLS, &inner), 0);
	oath_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	pty_screen_free(outer);
	pty_screen_free(inner);
	close(pfd[0]);
	close(pfd[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

struct sub {
	struct approve_broker *b;
	const char *target;
	int n;
	enum approve_verdict v;
	pthread_mutex_t mu;
};

static void done_cb(void *ctx, const struct approve_answer *a)
{
	struct sub *s = ctx;

	pthread_mutex_lock(&s->mu);
	s->n++;
	s->v = a->verdict;
	pthread_mutex_unlock(&s->mu);
}

static void *submitter(void *arg)
{
	struct sub *s = arg;
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = s->target, .cmdline = "run it",
				     .pid = 99, .rule = "ask" };

	approve_submit(s->b, &r, done_cb, s);
	return NULL;
}

/* One turn of a relay loop: wait for the wake fd (or the countdown), service. */
static bool turn(struct approve_tty *t, int ms)
{
	struct pollfd p = { .fd = approve_tty_wake_fd(t), .events = POLLIN };

	poll(&p, 1, ms);
	return approve_tty_service(t, inner, ROWS, COLS);
}

static int done_count(struct sub *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->n;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void test_queue_answer_timeout(void **state)
{
	struct approve_tty *t;
	struct approve_broker *b;
	struct approve_config c = { .session = "tty1", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "", .default_timeout_ms = 1500,
				    .on_pending = approve_tty_on_pending, .on_resolved = approve_tty_on_resolved };
	struct sub s1 = { .target = "/bin/first", .mu = PTHREAD_MUTEX_INITIALIZER };
	struct sub s2 = { .target = "/bin/second", .mu = PTHREAD_MUTEX_INITIALIZER };
	pthread_t th;
	char err[256], code[8], line[16], b0[1024];

	(void)state;
	assert_int_equal(approve_tty_new(pfd[1], &t), 0);
	c.hook_ctx = t;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	approve_tty_attach(t, b);
	s1.b = s2.b = b;
	/* the inner program's screen, shown on the outer terminal */
	pty_screen_feed(inner, "\033[H\033[2Jtop - load 0.1\r\nPID USER", strlen("\033[H\033[2Jtop - load 0.1\r\nPID USER"));
	pty_screen_redraw(inner, pfd[1]);
	row(0, b0);
	assert_string_equal(b0, "top - load 0.1");
	assert_false(approve_tty_active(t));
	assert_int_equal(approve_tty_timeout_ms(t), -1);

	pthread_create(&th, NULL, submitter, &s1);
	pthread_join(th, NULL);
	pthread_create(&th, NULL, submitter, &s2);
	pthread_join(th, NULL);
	assert_true(turn(t, 1000));
	assert_true(approve_tty_active(t));
	assert_int_equal(approve_tty_timeout_ms(t), 1000);
	assert_true(shows("/bin/first"));
	/* held output: the model changes, the terminal does not */
	pty_screen_feed(inner, "\033[2;1HPID USER  %CPU", strlen("\033[2;1HPID USER  %CPU"));
	assert_int_equal(oath_totp_generate("12345678901234567890", 20, time(NULL), 30, 0, 6, code), OATH_OK);
	snprintf(line, sizeof(line), "%s\r", code);
	approve_tty_feed(t, line, strlen(line), inner, ROWS, COLS);
	assert_int_equal(done_count(&s1), 1);
	assert_int_equal(s1.v, APPROVE_ONCE);
	/* the next request's prompt comes up right away */
	assert_true(approve_tty_active(t));
	assert_true(shows("/bin/second"));
	/* nobody answers: the timeout denies and the prompt goes away */
	for (int i = 0; i < 40 && approve_tty_active(t); i++)
		turn(t, 100);
	assert_false(approve_tty_active(t));
	assert_int_equal(done_count(&s2), 1);
	assert_int_equal(s2.v, APPROVE_TIMEOUT);
	row(0, b0);
	assert_string_equal(b0, "top - load 0.1");
	row(1, b0);
	assert_string_equal(b0, "PID USER  %CPU");
	approve_broker_free(b);
	approve_tty_free(t);
}

static void test_answered_elsewhere(void **state)
{
	struct approve_tty *t;
	struct approve_broker *b;
	struct approve_config c = { .session = "tty2", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "",
				    .on_pending = approve_tty_on_pending, .on_resolved = approve_tty_on_resolved };
	struct sub s = { .target = "/bin/x", .mu = PTHREAD_MUTEX_INITIALIZER };
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = "/bin/x", .rule = "ask" };
	char err[256], b0[1024];

	(void)state;
	assert_int_equal(approve_tty_new(pfd[1], &t), 0);
	c.hook_ctx = t;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	approve_tty_attach(t, b);
	s.b = b;
	pty_screen_feed(inner, "\033[H\033[2Jvim here", strlen("\033[H\033[2Jvim here"));
	pty_screen_redraw(inner, pfd[1]);
	assert_int_equal(approve_submit(b, &r, done_cb, &s), 0);
	assert_true(turn(t, 1000));
	assert_true(shows("APPROVAL REQUIRED"));
	/* the terminal shrinks: the prompt is redrawn compact, the answer lines stay */
	approve_tty_resize(t, 12, 60);
	assert_true(shows("d + Enter: deny"));
	assert_false(shows(" id "));
	/* a remote approver denies: the prompt disappears without a key */
	assert_int_equal(approve_resolve(b, r.id, APPROVE_DENY, NULL,
					 &(struct approve_actor){ .uid = (uid_t)-1, .via = "tty" }, err, sizeof(err)), 0);
	assert_false(turn(t, 1000));
	row(0, b0);
	assert_string_equal(b0, "vim here");
	assert_false(shows("APPROVAL REQUIRED"));
	approve_broker_free(b);
	approve_tty_free(t);
}

/* Input waiting on the outer terminal when a prompt opens (type-ahead, or a
 * reply the sandbox made the terminal send) is discarded, not read as the
 * answer.  A real pty: the bytes sit in its input queue. */
static void test_typeahead_discarded(void **state)
{
	struct approve_tty *t;
	struct approve_broker *b;
	struct approve_config c = { .session = "tty3", .session_uid = 4242, .approvers_dir = dir,
				    .socket_dir = "", .default_timeout_ms = 5000,
				    .on_pending = approve_tty_on_pending, .on_resolved = approve_tty_on_resolved };
	struct sub s1 = { .target = "/bin/typeahead", .mu = PTHREAD_MUTEX_INITIALIZER };
	struct termios tio;
	pthread_t th;
	char err[256], drain[8192];
	int m, sl, queued = -1;

	(void)state;
	assert_true((m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) >= 0);
	assert_int_equal(grantpt(m) | unlockpt(m), 0);
	assert_true((sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC)) >= 0);
	assert_int_equal(tcgetattr(sl, &tio), 0);
	cfmakeraw(&tio);
	assert_int_equal(tcsetattr(sl, TCSANOW, &tio), 0);
	assert_int_equal(write(m, "123456\r", 7), 7);
	for (int i = 0; i < 100 && queued < 7; i++) {
		ioctl(sl, FIONREAD, &queued);
		if (queued < 7)
			usleep(1000);
	}
	assert_int_equal(queued, 7);

	assert_int_equal(approve_tty_new(sl, &t), 0);
	c.hook_ctx = t;
	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	approve_tty_attach(t, b);
	s1.b = b;
	pthread_create(&th, NULL, submitter, &s1);
	pthread_join(th, NULL);
	assert_true(turn(t, 1000));
	assert_true(approve_tty_active(t));
	assert_int_equal(ioctl(sl, FIONREAD, &queued), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(done_count(&s1), 0);
	while (read(m, drain, sizeof(drain)) > 0)
		;
	approve_broker_free(b);
	approve_tty_free(t);
	close(sl);
	close(m);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_queue_answer_timeout),
		cmocka_unit_test(test_answered_elsewhere),
		cmocka_unit_test(test_typeahead_discarded),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
