/* pty/: pairs, window size, raw mode restore, screen model and redraw. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "pty/pty.h"

static void test_pair_roundtrip(void **st)
{
	(void)st;
	struct pty_pair p;
	struct winsize ws = { .ws_row = 12, .ws_col = 60 }, got;
	char buf[64];
	assert_int_equal(pty_open(&p, NULL, &ws), 0);
	assert_int_equal(pty_get_winsize(p.master, &got), 0);
	assert_int_equal(got.ws_row, 12);
	assert_int_equal(got.ws_col, 60);
	assert_int_equal(write(p.slave, "abc", 3), 3);
	struct pollfd pf = { .fd = p.master, .events = POLLIN };
	assert_int_equal(poll(&pf, 1, 2000), 1);
	assert_int_equal(read(p.master, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	pty_close(&p);
	assert_int_equal(p.master, -1);
}

static void test_raw_restore(void **st)
{
	(void)st;
	struct pty_pair p;
	struct pty_term t;
	struct termios a, b;
	assert_int_equal(pty_open(&p, NULL, NULL), 0);
	tcgetattr(p.slave, &a);
	assert_int_equal(pty_term_save(&t, p.slave), 0);
	assert_int_equal(pty_term_raw(&t), 0);
	tcgetattr(p.slave, &b);
	assert_false(b.c_lflag & (ICANON | ECHO | ISIG));
	pty_term_restore_all();        /* the signal-handler path */
	tcgetattr(p.slave, &b);
	assert_int_equal(a.c_lflag, b.c_lflag);
	assert_int_equal(a.c_iflag, b.c_iflag);
	assert_int_equal(a.c_oflag, b.c_oflag);
	pty_term_forget(&t);
	pty_close(&p);
}

static void test_screen_text(void **st)
{
	(void)st;
	struct pty_screen *s;
	char row[256];
	int r, c;
	assert_int_equal(pty_screen_new(5, 20, &s), 0);
	const char *in = "hello\r\nworld\033[1;31m!\033[0m\r\nxxxx\rab";
	pty_screen_feed(s, in, strlen(in));
	assert_int_equal(pty_screen_row_text(s, 0, row, sizeof(row)), 5);
	assert_string_equal(row, "hello");
	pty_screen_row_text(s, 1, row, sizeof(row));
	assert_string_equal(row, "world!");
	pty_screen_row_text(s, 2, row, sizeof(row));
	assert_string_equal(row, "abxx");
	pty_screen_cursor(s, &r, &c);
	assert_int_equal(r, 2);
	assert_int_equal(c, 2);
	assert_int_equal(pty_screen_row_text(s, 9, row, sizeof(row)), -EINVAL);
	assert_false(pty_screen_altscreen(s));
	pty_screen_feed(s, "\033[?1049h", 8);       /* what vim sends */
	assert_true(pty_screen_altscreen(s));
	pty_screen_feed(s, "\033[?1049l", 8);
	assert_false(pty_screen_altscreen(s));
	pty_screen_feed(s, "\xc3\xa9t\xc3\xa9", 5);       /* UTF-8 */
	pty_screen_row_text(s, 2, row, sizeof(row));
	assert_string_equal(row, "ab\xc3\xa9t\xc3\xa9");
	pty_screen_free(s);
}

/* Redraw a screen, with junk drawn over it, into a second model: same text. */
static void test_screen_redraw(void **st)
{
	(void)st;
	struct pty_screen *a, *b;
	int fds[2];
	char buf[65536], ra[256], rb[256];
	assert_int_equal(pty_screen_new(6, 30, &a), 0);
	assert_int_equal(pty_screen_new(6, 30, &b), 0);
	const char *in = "line one\r\n\033[7mreverse\033[0m two\r\n\033[38;5;100mcolour\033[0m";
	pty_screen_feed(a, in, strlen(in));
	pty_screen_feed(b, "\033[2J\033[3;3HAPPROVAL PROMPT", 23);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pty_screen_redraw(a, fds[1]), 0);
	close(fds[1]);
	ssize_t n = read(fds[0], buf, sizeof(buf));
	assert_true(n > 0);
	pty_screen_feed(b, buf, (size_t)n);
	for (int i = 0; i < 6; i++) {
		pty_screen_row_text(a, i, ra, sizeof(ra));
		pty_screen_row_text(b, i, rb, sizeof(rb));
		assert_string_equal(ra, rb);
	}
	int r1, c1, r2, c2;
	pty_screen_cursor(a, &r1, &c1);
	pty_screen_cursor(b, &r2, &c2);
	assert_int_equal(r1, r2);
	assert_int_equal(c1, c2);
	close(fds[0]);
	pty_screen_free(a);
	pty_screen_free(b);
}

/* The relay copies both ways, hands every output chunk to on_output, and
 * returns (after draining) when stop_fd fires. */
/* pty_write_some on a full non-blocking pipe: what does not fit stays at the
 * front of the buffer, in order; a closed reader empties it with an error. */
static void test_write_some(void **st)
{
	(void)st;
	int p[2];
	static char big[200000];
	char *buf = malloc(sizeof(big));
	size_t n = sizeof(big), total = 0;

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	memcpy(buf, big, n);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	assert_int_equal(pty_write_some(p[1], buf, &n), 0);
	assert_true(n > 0 && n < sizeof(big));         /* partly taken, never blocked */
	assert_memory_equal(buf, big + sizeof(big) - n, n);
	while (n) {                                     /* the reader takes it all, in order */
		char tmp[65536];
		ssize_t r = read(p[0], tmp, sizeof(tmp));
		assert_true(r > 0);
		assert_memory_equal(tmp, big + total, (size_t)r);
		total += (size_t)r;
		assert_int_equal(pty_write_some(p[1], buf, &n), 0);
	}
	close(p[0]);
	n = 10;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pty_write_some(p[1], buf, &n), -EPIPE);
	assert_int_equal(n, 0);
	close(p[1]);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_pair_roundtrip),
		cmocka_unit_test(test_raw_restore),
		cmocka_unit_test(test_screen_text),
		cmocka_unit_test(test_screen_redraw),
		cmocka_unit_test(test_write_some),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
