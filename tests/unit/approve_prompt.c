/* The inline prompt, rendered into a real libvterm terminal model (the pty
 * module's): what it shows, that sandbox-chosen strings stay inert, the answer
 * state machine (wrong code, right code, replay, deny, session), and that the
 * screen after the prompt equals the screen before. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"
#include "pty/pty.h"

#define ROWS 24
#define COLS 100

static char dir[64];
static int pfd[2];
static struct pty_screen *outer;        /* what the human's terminal shows */

static void pump(void)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		pty_screen_feed(outer, buf, (size_t)n);
}

static bool screen_has(const char *needle)
{
	char row[1024];

	pump();
	for (int r = 0; r < ROWS; r++)
		if (pty_screen_row_text(outer, r, row, sizeof(row)) >= 0 && strstr(row, needle))
			return true;
	return false;
}

static void snapshot(char rows[ROWS][1024])
{
	pump();
	for (int r = 0; r < ROWS; r++)
		pty_screen_row_text(outer, r, rows[r], 1024);
}

static int setup(void **state)
{
	char p[128];
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-prompt.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/alice.totp", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 32), 32);
	close(fd);
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pty_screen_new(ROWS, COLS, &outer), 0);
	oath_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	pty_screen_free(outer);
	close(pfd[0]);
	close(pfd[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
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

static struct approve_broker *mk(void)
{
	struct approve_config c = { .session = "pr1", .session_uid = 4242, .approvers_dir = dir, .socket_dir = "" };
	struct approve_broker *b;
	char err[256];

	assert_int_equal(approve_broker_new(&c, &b, err, sizeof(err)), 0);
	return b;
}

static void code_at(time_t t, char out[8])
{
	assert_int_equal(oath_totp_generate("12345678901234567890", 20, t, 30, 0, 6, out), OATH_OK);
}

static enum approve_prompt_state type(struct approve_prompt *p, const char *s)
{
	return approve_prompt_feed(p, s, strlen(s));
}

/* The right code and Enter: the request is approved, once, by that answer. */
static void approve_once_with(struct approve_prompt *p, const char *code, struct got *g)
{
	char line[16];

	snprintf(line, sizeof(line), "%s\r", code);
	assert_int_equal(type(p, line), APPROVE_PROMPT_SUBMITTED);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->v, APPROVE_ONCE);
}

static void test_prompt_flow(void **state)
{
	struct approve_broker *b = mk();
	char *argv[] = { "deploy", "--prod", NULL };
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = "/usr/local/bin/deploy",
				     .cmdline = "make deploy", .pid = 4321, .argv = argv,
				     .rule = "ask-deploy", .message = "deploys to production", .timeout_ms = 60000 };
	struct approve_prompt *p;
	struct got g = { 0 };
	char code[8], wrong[8], line[16];

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], ROWS, COLS, &p), 0);
	assert_int_equal(approve_prompt_draw(p), 0);
	assert_true(screen_has("APPROVAL REQUIRED"));
	assert_true(screen_has("/usr/local/bin/deploy"));
	assert_true(screen_has("make deploy"));
	assert_true(screen_has("4321"));
	assert_true(screen_has("deploy --prod"));
	assert_true(screen_has("ask-deploy"));
	assert_true(screen_has("deploys to production"));
	assert_true(screen_has("time left  1:00") || screen_has("time left  0:59"));
	code_at(time(NULL), code);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(code) + 7) % 1000000);
	/* arrow keys and junk are ignored; backspace edits */
	snprintf(line, sizeof(line), "\033[A9\177%s\r", wrong);
	assert_int_equal(type(p, line), APPROVE_PROMPT_REJECTED);
	assert_true(screen_has("refused: wrong code"));
	assert_int_equal(g.n, 0);
	approve_once_with(p, code, &g);
	approve_prompt_free(p);

	/* the same code for the next request is a replay */
	struct approve_request r2 = r;
	struct got g2 = { 0 };
	r2.id[0] = 0;
	r2.target = "/usr/local/bin/deploy2";
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	assert_int_equal(approve_prompt_new(b, &r2, pfd[1], ROWS, COLS, &p), 0);
	snprintf(line, sizeof(line), "%s\r", code);
	assert_int_equal(type(p, line), APPROVE_PROMPT_REJECTED);
	assert_true(screen_has("already used"));
	/* deny */
	assert_int_equal(type(p, "d\r"), APPROVE_PROMPT_SUBMITTED);
	assert_int_equal(g2.v, APPROVE_DENY);
	approve_prompt_free(p);
	approve_broker_free(b);
}

/* The sandbox can make the outer terminal answer queries (colour and title
 * reports, DECRQSS, XTGETTCAP) with text it chose, and those replies arrive
 * as input while a prompt may be up: a string sequence is skipped whole, so a
 * code planted in one never becomes the answer. */
static void test_terminal_replies_type_nothing(void **state)
{
	struct approve_broker *b = mk();
	struct approve_request r = { .op = APPROVE_OP_FILE, .target = "/etc/hosts", .rule = "ask",
				     .timeout_ms = 60000 };
	struct approve_prompt *p;
	struct got g = { 0 };
	char code[8], line[256];
	const char *const wraps[] = {
		"\033]%s\007",                /* OSC ... BEL */
		"\033]l%s\033\\",            /* OSC title report ... ST */
		"\033P%s\033\\",             /* DCS (DECRQSS, XTGETTCAP replies) */
		"\033_%s\033\\", "\033^%s\033\\", "\033X%s\033\\",     /* APC, PM, SOS */
		"\033P1$r%s\033[A\033\\",    /* an ESC inside a string, then ST */
	};

	(void)state;
	code_at(time(NULL) - 30, code); /* the previous step: test_prompt_flow uses this one */
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], ROWS, COLS, &p), 0);
	/* each reply, then Enter: nothing was typed, so no answer is made */
	for (size_t i = 0; i < sizeof(wraps) / sizeof(wraps[0]); i++) {
		int n = snprintf(line, sizeof(line), wraps[i], code);
		approve_prompt_feed(p, line, (size_t)n);
		assert_int_equal(type(p, "\r"), APPROVE_PROMPT_REJECTED);
		assert_true(screen_has("type a 6-digit code"));
		assert_int_equal(g.n, 0);
	}
	assert_int_equal(type(p, "\033[?62;22c\033[12;40R\033OA\r"), APPROVE_PROMPT_REJECTED);
	assert_int_equal(g.n, 0);
	/* a stray ESC ] typed by hand ends at Enter; the code typed after it counts */
	assert_int_equal(type(p, "\033]12\r"), APPROVE_PROMPT_REJECTED);
	assert_int_equal(g.n, 0);
	approve_once_with(p, code, &g);
	approve_prompt_free(p);
	approve_broker_free(b);
}

static void test_session_suffix_and_close(void **state)
{
	struct approve_broker *b = mk();
	struct approve_request r = { .op = APPROVE_OP_FILE, .target = "/etc/hosts", .rule = "ask" };
	struct approve_prompt *p;
	struct got g = { 0 };
	char code[8], line[16];

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], ROWS, COLS, &p), 0);
	code_at(time(NULL) + 30, code);
	snprintf(line, sizeof(line), "%ss\r", code);
	assert_int_equal(type(p, line), APPROVE_PROMPT_SUBMITTED);
	assert_int_equal(g.v, APPROVE_SESSION);
	assert_true(approve_session_lookup(b, APPROVE_OP_FILE, "/etc/hosts"));
	approve_prompt_free(p);
	/* resolved elsewhere: keys no longer answer anything */
	struct approve_request r2 = { .op = APPROVE_OP_FILE, .target = "/etc/other", .rule = "ask" };
	struct got g2 = { 0 };
	assert_int_equal(approve_submit(b, &r2, done_cb, &g2), 0);
	assert_int_equal(approve_prompt_new(b, &r2, pfd[1], ROWS, COLS, &p), 0);
	approve_prompt_close(p);
	assert_int_equal(type(p, "d\r"), APPROVE_PROMPT_CLOSED);
	assert_int_equal(g2.n, 0);
	approve_prompt_free(p);
	approve_broker_free(b);
}

static void test_hostile_strings_inert(void **state)
{
	struct approve_broker *b = mk();
	struct approve_request r = { .op = APPROVE_OP_EXEC,
		.target = "/tmp/x\033[2J\033[H\033[1;1HAPPROVED by alice\033]0;t\007",
		.cmdline = "echo \x9b" "31m", .rule = "ask", .message = "line1\r\nFAKE: approved" };
	struct approve_prompt *p;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], ROWS, COLS, &p), 0);
	assert_int_equal(approve_prompt_draw(p), 0);
	assert_true(screen_has("/tmp/x\\x1b[2J\\x1b[H\\x1b[1;1HAPPROVED by alice\\x1b]0;t\\x07"));
	assert_true(screen_has("line1\\x0d\\x0aFAKE: approved"));
	assert_true(screen_has("echo \\x9b31m"));
	/* the injected text never starts a row of its own */
	char rows[ROWS][1024];
	snapshot(rows);
	for (int i = 0; i < ROWS; i++)
		assert_int_not_equal(strncmp(rows[i], "APPROVED", 8), 0);
	approve_prompt_free(p);
	approve_broker_free(b);
}

static void test_screen_restored(void **state)
{
	struct approve_broker *b = mk();
	struct approve_request r = { .op = APPROVE_OP_EXEC, .target = "/bin/x", .rule = "ask" };
	struct pty_screen *inner;
	struct approve_prompt *p;
	char before[ROWS][1024], during[ROWS][1024], after[ROWS][1024];
	static const char vim_like[] =
		"\033[?1049h\033[H\033[2J~\r\n~\r\n~\r\n\033[1;1Hint main(void)\r\n{\r\n\treturn 0;\r\n}"
		"\033[24;1H\"main.c\" 4L, 32B\033[3;2H";
	struct got g = { 0 };

	(void)state;
	assert_int_equal(pty_screen_new(ROWS, COLS, &inner), 0);
	pty_screen_feed(inner, vim_like, sizeof(vim_like) - 1);
	/* the human's terminal shows the inner screen */
	assert_int_equal(pty_screen_redraw(inner, pfd[1]), 0);
	snapshot(before);
	assert_string_equal(before[0], "int main(void)");
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], ROWS, COLS, &p), 0);
	assert_int_equal(approve_prompt_draw(p), 0);
	snapshot(during);
	assert_string_not_equal(during[0], before[0]);
	/* output the sandbox makes meanwhile goes to the model only */
	pty_screen_feed(inner, "\033[23;1Hbuild done", 17);
	assert_int_equal(type(p, "d\r"), APPROVE_PROMPT_SUBMITTED);
	assert_int_equal(approve_prompt_restore(p, inner), 0);
	snapshot(after);
	for (int i = 0; i < ROWS; i++)
		if (i != 22)
			assert_string_equal(after[i], before[i]);
	assert_string_equal(after[22], "build done");
	approve_prompt_free(p);
	pty_screen_free(inner);
	approve_broker_free(b);
}

static void test_long_values_cut_and_marked(void **state)
{
	struct approve_broker *b = mk();
	char longt[300];
	struct approve_request r = { .op = APPROVE_OP_FILE, .target = longt, .rule = "ask" };
	struct approve_prompt *p;
	struct got g = { 0 };
	char rows[ROWS][1024];
	bool target_row = false;

	(void)state;
	memset(longt, 'a', sizeof(longt) - 1);
	longt[0] = '/';
	longt[sizeof(longt) - 1] = 0;
	assert_int_equal(approve_submit(b, &r, done_cb, &g), 0);
	/* a 60-column, 12-row terminal: nothing wraps, the answer lines stay visible */
	assert_int_equal(approve_prompt_new(b, &r, pfd[1], 12, 60, &p), 0);
	assert_int_equal(approve_prompt_draw(p), 0);
	snapshot(rows);
	for (int i = 0; i < ROWS; i++)
		if (strstr(rows[i], " target ")) {
			target_row = true;
			assert_non_null(strstr(rows[i], "\u2026"));
			assert_int_equal(strncmp(rows[i + 1], " command", 8), 0);
		}
	assert_true(target_row);
	assert_true(screen_has("d + Enter: deny"));
	approve_prompt_free(p);
	approve_broker_free(b);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_terminal_replies_type_nothing),
		cmocka_unit_test(test_prompt_flow),
		cmocka_unit_test(test_session_suffix_and_close),
		cmocka_unit_test(test_hostile_strings_inert),
		cmocka_unit_test(test_screen_restored),
		cmocka_unit_test(test_long_values_cut_and_marked),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
