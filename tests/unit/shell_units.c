/* Pure pieces of shell/: option parsing, control-protocol messages, the
 * output sentinel filter, prompt rendering, the continuation check.  The
 * shell is a program, not a library, so its sources are compiled in here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shell/options.c"
#include "shell/marker.c"
#include "shell/prompt.c"
#include "shell/syntax.c"

static bool is_sub(const char *n) { return !strcmp(n, "policy") || !strcmp(n, "doctor"); }

static int parse(struct shell_opts *o, char *err, ...)
{
	static char *argv[32];     /* o->args points into it after return */
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	return shell_parse_args(argc, argv, o, is_sub, err, 256);
}

static void test_opts_c(void **st)
{
	(void)st;
	struct shell_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "agentsh", "-c", "echo hi", "nm", "a", "b", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_COMMAND);
	assert_string_equal(o.command, "echo hi");
	assert_int_equal(o.nargs, 3);
	assert_string_equal(o.args[0], "nm");
	assert_string_equal(o.args[2], "b");
	assert_false(o.login);
	/* clustered, with a set option after -c (sh -ec / bash -lc) */
	assert_int_equal(parse(&o, err, "agentsh", "-lc", "x", NULL), 0);
	assert_true(o.login);
	assert_string_equal(o.command, "x");
	assert_int_equal(parse(&o, err, "agentsh", "-ce", "x", NULL), 0);
	assert_int_equal(o.nsetflags, 1);
	assert_string_equal(o.setflags[0], "-e");
	assert_int_equal(parse(&o, err, "agentsh", "-c", NULL), 2);
	assert_non_null(strstr(err, "-c"));
}

static void test_opts_modes(void **st)
{
	(void)st;
	struct shell_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "agentsh", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_DEFAULT);
	assert_int_equal(parse(&o, err, "-agentsh", NULL), 0);
	assert_true(o.login);
	assert_int_equal(parse(&o, err, "agentsh", "-i", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_INTERACTIVE);
	assert_int_equal(parse(&o, err, "agentsh", "script.sh", "x", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_SCRIPT);
	assert_int_equal(o.nargs, 2);
	assert_int_equal(parse(&o, err, "agentsh", "-s", "p", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_STDIN);
	assert_int_equal(parse(&o, err, "agentsh", "policy", "show", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_SUBCOMMAND);
	/* a path is always a script, even when its name is a subcommand */
	assert_int_equal(parse(&o, err, "agentsh", "./policy", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_SCRIPT);
	/* after --, a word that looks like an option is a script name */
	assert_int_equal(parse(&o, err, "agentsh", "--", "-x.sh", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_SCRIPT);
	assert_string_equal(o.args[0], "-x.sh");
	assert_int_equal(parse(&o, err, "agentsh", "--help", "--bogus", NULL), 2);
	assert_int_equal(parse(&o, err, "agentsh", "--help", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_HELP);
	assert_int_equal(parse(&o, err, "agentsh", "--version", NULL), 0);
	assert_int_equal(o.mode, SHELL_MODE_VERSION);
}

static void test_opts_long(void **st)
{
	(void)st;
	struct shell_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "agentsh", "--policy", "strict", "--user=bob", "--no-config",
			       "--output", "json", "--events=blocked", "-c", "true", NULL), 0);
	assert_string_equal(o.policy, "strict");
	assert_string_equal(o.user, "bob");
	assert_true(o.no_config);
	assert_true(o.json);
	assert_string_equal(o.events, "blocked");
	assert_int_equal(parse(&o, err, "agentsh", "--policy", NULL), 2);
	assert_int_equal(parse(&o, err, "agentsh", "--output=xml", "-c", "x", NULL), 2);
	assert_int_equal(parse(&o, err, "agentsh", "--events", "some", "-c", "x", NULL), 2);
	assert_int_equal(parse(&o, err, "agentsh", "--frobnicate", NULL), 2);
	assert_non_null(strstr(err, "--frobnicate"));
	assert_int_equal(parse(&o, err, "agentsh", "-Z", NULL), 2);
	/* --json needs one command */
	assert_int_equal(parse(&o, err, "agentsh", "--json", NULL), 2);
	assert_int_equal(parse(&o, err, "agentsh", "-o", "pipefail", "+x", "-c", "x", NULL), 0);
	assert_int_equal(o.nsetflags, 3);
	assert_string_equal(o.setflags[0], "-o");
	assert_string_equal(o.setflags[1], "pipefail");
	assert_string_equal(o.setflags[2], "+x");
}

static void test_marker_parse(void **st)
{
	(void)st;
	struct marker_msg m;
	assert_int_equal(marker_parse("D 4 0 /tmp", 10, &m), 0);
	assert_int_equal(m.kind, 'D');
	assert_int_equal(m.seq, 4);
	assert_int_equal(m.status, 0);
	assert_string_equal(m.cwd, "/tmp");
	const char *sp = "D 12 130 /a dir/with spaces";
	assert_int_equal(marker_parse(sp, strlen(sp), &m), 0);
	assert_int_equal(m.status, 130);
	assert_string_equal(m.cwd, "/a dir/with spaces");
	assert_int_equal(marker_parse("S 5", 3, &m), 0);
	assert_int_equal(m.kind, 'S');
	assert_int_equal(m.seq, 5);
	static const char *bad[] = { "D 4 0 tmp", "D -1 0 /", "D 4 256 /", "X 1", "S 5 x", "D 4", "S",
				     "D 99999999999 0 /", "D 4 0 ", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(marker_parse(bad[i], strlen(bad[i]), &m), -EINVAL);
	assert_int_equal(marker_parse("D 1 0 /\0x", 9, &m), -EINVAL);
}

static void test_sentinel(void **st)
{
	(void)st;
	struct sentinel_scan s = {0};
	char out[256];
	bool found = false;
	const char *in = "hello\033]6973;7\aworld";
	size_t n = sentinel_filter(&s, in, strlen(in), out, 7, &found);
	assert_true(found);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "helloworld", 10);
	/* split over reads, one byte at a time */
	found = false;
	size_t o = 0;
	for (size_t i = 0; i < strlen(in); i++)
		o += sentinel_filter(&s, in + i, 1, out + o, 7, &found);
	assert_true(found);
	assert_memory_equal(out, "helloworld", o);
	/* another seq is dropped but not "found"; not-a-sentinel passes through */
	found = false;
	const char *other = "a\033]6973;8\ab\033]0;title\ac\033]69x";
	n = sentinel_filter(&s, other, strlen(other), out, 7, &found);
	n += sentinel_flush(&s, out + n);
	assert_false(found);
	out[n] = 0;
	assert_string_equal(out, "ab\033]0;title\ac\033]69x");
	/* expected < 0: nothing is ever found */
	found = false;
	sentinel_filter(&s, in, strlen(in), out, -1, &found);
	assert_false(found);
}

static void test_prompt(void **st)
{
	(void)st;
	char p[512];
	struct prompt_info pi = { .user = "agent", .host = "box.example.org", .home = "/home/agent",
				  .cwd = "/home/agent/src", .status = 0, .root = false };
	prompt_render(NULL, &pi, false, p, sizeof(p));
	assert_string_equal(p, "agent@box:~/src$ ");
	pi.status = 2;
	prompt_render(NULL, &pi, false, p, sizeof(p));
	assert_string_equal(p, "agent@box:~/src [2]$ ");
	pi.root = true;
	pi.cwd = "/home/agentx";        /* not under home: no ~ */
	prompt_render("\\H \\W \\w\\$\\\\", &pi, false, p, sizeof(p));
	assert_string_equal(p, "box.example.org agentx /home/agentx#\\");
	/* colour wraps fields in readline's invisible markers */
	prompt_render("\\u", &pi, true, p, sizeof(p));
	assert_string_equal(p, "\001\033[1;32m\002agent\001\033[0m\002");
	/* a directory name cannot inject terminal escapes, C1 ones in UTF-8 included */
	pi.cwd = "/tmp/\033]0;evil\a";
	prompt_render("\\w", &pi, false, p, sizeof(p));
	assert_string_equal(p, "/tmp/\\x1b]0;evil\\x07");
	pi.cwd = "/tmp/\302\23552;c;Zm9v\302\234 caf\303\251";
	prompt_render("\\w", &pi, false, p, sizeof(p));
	assert_string_equal(p, "/tmp/\\xc2\\x9d52;c;Zm9v\\xc2\\x9c caf\303\251");
	/* truncation is safe */
	char small[6];
	prompt_render(NULL, &pi, false, small, sizeof(small));
	assert_int_equal(strlen(small), 5);
}

static void test_syntax(void **st)
{
	(void)st;
	if (access("/bin/bash", X_OK) != 0)
		skip();
	uid_t u = getuid();
	gid_t g = getgid();
	assert_int_equal(syntax_incomplete("/bin/bash", "echo hi", u, g), 0);
	assert_int_equal(syntax_incomplete("/bin/bash", "for i in 1 2", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "for i in 1 2\ndo echo $i", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "for i in 1 2\ndo echo $i\ndone", u, g), 0);
	assert_int_equal(syntax_incomplete("/bin/bash", "echo \"open", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "echo $(ls", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "cat <<EOF\nbody", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "cat <<EOF\nbody\nEOF", u, g), 0);
	assert_int_equal(syntax_incomplete("/bin/bash", "echo a \\", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "echo a \\\\", u, g), 0);
	assert_int_equal(syntax_incomplete("/bin/bash", "f() {", u, g), 1);
	assert_int_equal(syntax_incomplete("/bin/bash", "echo a |", u, g), 1);
	/* a real syntax error is "complete": the delegate reports it */
	assert_int_equal(syntax_incomplete("/bin/bash", "fi", u, g), 0);
	/* nothing is executed */
	assert_int_equal(syntax_incomplete("/bin/bash", "touch /tmp/agentsh-unit-must-not-exist", u, g), 0);
	assert_int_equal(access("/tmp/agentsh-unit-must-not-exist", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_opts_c),
		cmocka_unit_test(test_opts_modes),
		cmocka_unit_test(test_opts_long),
		cmocka_unit_test(test_marker_parse),
		cmocka_unit_test(test_sentinel),
		cmocka_unit_test(test_prompt),
		cmocka_unit_test(test_syntax),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
