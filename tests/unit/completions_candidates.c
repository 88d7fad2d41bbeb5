/* completions/: candidate generation against real directories (a PATH of temp
 * dirs, a delegate cwd that is not our own), the policy words, and the
 * readline hook itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/readline.h>

#include "completions/completions.h"
#include "policy/policy.h"

static char root[64];
static char path_both[512], path_one[256], path_rel[256], cwd_dir[256];

static void mkfile(const char *rel, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

static void mkd(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **st)
{
	(void)st;
	strcpy(root, "/tmp/agentsh-compl.XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mkd("bin1"); mkd("bin2"); mkd("cwd"); mkd("cwd/dir1"); mkd("cwd/rel"); mkd("bin1/agx-dir");
	mkfile("bin1/agx-tool1", 0755);
	mkfile("bin1/agx-tool2", 0755);
	mkfile("bin1/agx-noexec", 0644);
	mkfile("bin2/agx-tool2", 0755);
	mkfile("bin2/agx-other", 0700);
	mkfile("cwd/rel/agx-rel", 0755);
	mkfile("cwd/file.txt", 0644);
	mkfile("cwd/filter.c", 0644);
	mkfile("cwd/.hidden", 0644);
	mkfile("cwd/with space", 0644);
	mkfile("cwd/script.sh", 0755);
	mkfile("cwd/dir1/inner", 0644);
	snprintf(path_both, sizeof(path_both), "%s/bin1:%s/bin2:/nonexistent-agentsh", root, root);
	snprintf(path_one, sizeof(path_one), "%s/bin1", root);
	snprintf(path_rel, sizeof(path_rel), "rel::%s/bin2", root);
	snprintf(cwd_dir, sizeof(cwd_dir), "%s/cwd", root);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *cur_path;
static const char *get_path(void *arg) { (void)arg; return cur_path; }
static const char *get_cwd(void *arg) { (void)arg; return cwd_dir; }
static const char *const builtins[] = { "help", "exit", "policy", "agx-builtin", NULL };

static const struct completions_ctx ctx = {
	.builtins = builtins, .get_cwd = get_cwd, .get_path = get_path,
};

/* The candidates for the word from `start` to the end of line, as one string
 * "a|b|c" so that a failure shows the whole list. */
static char *cands(const char *path, const char *line, size_t start)
{
	static char out[4096];
	struct completions_list l = { 0 };
	cur_path = path;
	assert_int_equal(completions_candidates(&ctx, line, start, strlen(line), &l), 0);
	out[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			strcat(out, "|");
		assert_true(strlen(out) + strlen(l.v[i]) + 2 < sizeof(out));
		strcat(out, l.v[i]);
	}
	completions_list_free(&l);
	return out;
}

/* The word starts after the last blank (what readline would pass). */
static char *at_end(const char *path, const char *line)
{
	const char *sp = strrchr(line, ' ');
	return cands(path, line, sp ? (size_t)(sp - line + 1) : 0);
}

static void test_commands_from_path(void **st)
{
	(void)st;
	/* executables only, duplicates across PATH dirs once, sorted; builtins too */
	assert_string_equal(at_end(path_both, "agx-"), "agx-builtin|agx-other|agx-tool1|agx-tool2");
	assert_string_equal(at_end(path_one, "agx-t"), "agx-tool1|agx-tool2");
	assert_string_equal(at_end(path_one, "pol"), "policy");
	assert_string_equal(at_end(path_one, "zzz-none"), "");
}

static void test_relative_path_entries_skipped(void **st)
{
	(void)st;
	assert_string_equal(at_end(path_rel, "agx-"), "agx-builtin|agx-other|agx-tool2");
}

static void test_command_position_after_operators(void **st)
{
	(void)st;
	assert_string_equal(at_end(path_one, "ls; agx-t"), "agx-tool1|agx-tool2");
	assert_string_equal(cands(path_one, "ls|agx-t", 3), "agx-tool1|agx-tool2");
	assert_string_equal(cands(path_one, "true&&agx-t", 6), "agx-tool1|agx-tool2");
	assert_string_equal(cands(path_one, "echo $(agx-t", 7), "agx-tool1|agx-tool2");
	assert_string_equal(cands(path_one, "echo \"$(agx-t", 8), "agx-tool1|agx-tool2");
	assert_string_equal(at_end(path_one, "FOO=1 BAR=2 agx-t"), "agx-tool1|agx-tool2");
	assert_string_equal(at_end(path_one, "sudo agx-t"), "agx-tool1|agx-tool2");
	assert_string_equal(at_end(path_one, "if agx-t"), "agx-tool1|agx-tool2");
	/* not a command position: arguments, redirection targets, after '=' */
	assert_string_equal(at_end(path_one, "echo agx-t"), "");
	assert_string_equal(at_end(path_one, "echo fil"), "file.txt|filter.c");
	assert_string_equal(cands(path_one, "cat >fil", 5), "file.txt|filter.c");
	assert_string_equal(cands(path_one, "2>fil", 2), "file.txt|filter.c");
	assert_string_equal(cands(path_one, "FOO=fil", 4), "file.txt|filter.c");
}

static void test_files_in_delegate_cwd(void **st)
{
	(void)st;
	/* our own cwd is elsewhere: names come from the delegate's */
	assert_int_equal(chdir("/"), 0);
	assert_string_equal(at_end(path_one, "cat "), "dir1/|file.txt|filter.c|rel/|script.sh|with space");
	assert_string_equal(at_end(path_one, "cat d"), "dir1/");
	assert_string_equal(at_end(path_one, "cat dir1/"), "dir1/inner");
	assert_string_equal(at_end(path_one, "cat ."), ".hidden");
	assert_string_equal(at_end(path_one, "cat nothing/x"), "");
	char abs[600];
	snprintf(abs, sizeof(abs), "cat %s/cwd/fil", root);
	char want[600];
	snprintf(want, sizeof(want), "%s/cwd/file.txt|%s/cwd/filter.c", root, root);
	assert_string_equal(at_end(path_one, abs), want);
}

static void test_cd_and_help(void **st)
{
	(void)st;
	assert_string_equal(at_end(path_one, "cd "), "dir1/|rel/");
	assert_string_equal(at_end(path_one, "cd d"), "dir1/");
	assert_string_equal(at_end(path_one, "cd fil"), "");
	assert_string_equal(at_end(path_one, "help p"), "policy");
	assert_string_equal(at_end(path_one, "help "), "agx-builtin|exit|help|policy");
	/* help's second argument, and a redirection after help: files */
	assert_string_equal(at_end(path_one, "help policy fil"), "file.txt|filter.c");
	assert_string_equal(at_end(path_one, "help > fil"), "file.txt|filter.c");
}

static void test_command_word_with_slash(void **st)
{
	(void)st;
	/* a path: directories and executables, not plain files */
	assert_string_equal(at_end(path_one, "./"), "./dir1/|./rel/|./script.sh");
	assert_string_equal(at_end(path_one, "ls; ./s"), "./script.sh");
}

static void test_quoted_words(void **st)
{
	(void)st;
	assert_string_equal(cands(path_one, "cat \"with s", 4), "with space");
	assert_string_equal(cands(path_one, "cat 'with s", 4), "with space");
	assert_string_equal(cands(path_one, "cat with\\ s", 4), "with space");
	/* a quoted blank does not end a word: "a b" is one argument before the cursor */
	assert_string_equal(at_end(path_one, "'agx-t x' agx-t"), "");
}

static void test_policy_words(void **st)
{
	(void)st;
	assert_string_equal(at_end(path_one, "policy "), "check|generate|lint|show|test|validate");
	assert_string_equal(at_end(path_one, "policy ch"), "check");
	assert_string_equal(at_end(path_one, "policy check "), "exec|file|net|signal|unix");
	assert_string_equal(at_end(path_one, "policy --json check n"), "net");
	assert_string_equal(at_end(path_one, "policy check net "), "connect");
	assert_string_equal(at_end(path_one, "policy -"), "--json|--policy");
	assert_string_equal(at_end(path_one, "policy --policy fil"), "file.txt|filter.c");
	assert_string_equal(at_end(path_one, "policy validate fil"), "file.txt|filter.c");
	assert_string_equal(at_end(path_one, "policy check exec ./s"), "./script.sh");
	assert_string_equal(at_end(path_one, "policy check file write fil"), "file.txt|filter.c");
	/* a redirection after `policy` completes files, not policy words */
	assert_string_equal(at_end(path_one, "policy show > fil"), "file.txt|filter.c");
}

/* The names after `policy check file|signal` are the policy module's own. */
static void test_policy_check_names_from_policy_module(void **st)
{
	(void)st;
	const char *w = policy_file_op_name(POLICY_FILE_WRITE);
	const char *k = policy_signal_name(9);
	if (!w || strcmp(w, "write") || !k)
		skip();  /* policy/ still has its fail-closed stub: it names nothing */
	char *ops = at_end(path_one, "policy check file ");
	assert_non_null(strstr(ops, "write"));
	assert_non_null(strstr(ops, "read"));
	assert_string_equal(at_end(path_one, "policy check file wri"), "write");
	char line[64];
	snprintf(line, sizeof(line), "policy check signal %.*s", 5, k);
	assert_non_null(strstr(at_end(path_one, line), k));
	const char *t = policy_signal_target_name(POLICY_SIG_EXTERNAL);
	snprintf(line, sizeof(line), "policy check signal %s ", k);
	assert_non_null(strstr(at_end(path_one, line), t));
}

static void test_bad_arguments(void **st)
{
	(void)st;
	struct completions_list l = { 0 };
	assert_int_equal(completions_candidates(&ctx, "abc", 2, 1, &l), -EINVAL);
	assert_int_equal(completions_candidates(&ctx, "abc", 0, 9, &l), -EINVAL);
	assert_int_equal(completions_candidates(&ctx, NULL, 0, 0, &l), -EINVAL);
	assert_int_equal(l.n, 0);
	/* no context at all: our own PATH and cwd, no builtins — must not crash */
	assert_int_equal(completions_candidates(NULL, "s", 0, 1, &l), 0);
	completions_list_free(&l);
}

/* Lines made of the characters the context reader treats specially, cut at
 * every position: no crash, no sanitizer report, sorted unique output. */
static void test_random_lines(void **st)
{
	(void)st;
	static const char *const atoms[] = {
		" ", "'", "\"", "\\", "$(", "`", ";", "|", "&&", "(", ")", ">", "2>", "<<",
		"=", "FOO=", "cd", "policy", "check", "file", "signal", "sudo", "./", "d",
		"fil", "~", "~nosuchuser/", "agx-", "\n", "\t", "--policy", "-", "/", "..",
	};
	unsigned seed = 12345;
	char line[128];
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0;
		line[0] = '\0';
		while (n < 100) {
			seed = seed * 1103515245u + 12345u;
			const char *a = atoms[(seed >> 16) % (sizeof(atoms) / sizeof(*atoms))];
			if (n + strlen(a) >= sizeof(line))
				break;
			strcpy(line + n, a);
			n += strlen(a);
			if (((seed >> 8) & 7) == 0)
				break;
		}
		size_t len = strlen(line);
		for (size_t start = 0; start <= len; start += 1 + (len > 40)) {
			struct completions_list l = { 0 };
			cur_path = path_one;
			assert_int_equal(completions_candidates(&ctx, line, start, len, &l), 0);
			for (size_t i = 1; i < l.n; i++)
				assert_true(strcmp(l.v[i - 1], l.v[i]) < 0);
			completions_list_free(&l);
		}
	}
}

static void test_readline_hook(void **st)
{
	(void)st;
	completions_install_readline(&ctx);
	assert_non_null(rl_attempted_completion_function);
	cur_path = path_one;
	char line[] = "cat fi";
	rl_line_buffer = line;
	char **m = rl_attempted_completion_function("fi", 4, 6);
	assert_non_null(m);
	assert_int_equal(rl_attempted_completion_over, 1);
	assert_string_equal(m[0], "fil");       /* the common prefix readline inserts */
	assert_string_equal(m[1], "file.txt");
	assert_string_equal(m[2], "filter.c");
	assert_null(m[3]);
	for (int i = 0; m[i]; i++)
		free(m[i]);
	free(m);
	/* a single directory: no space after it, so Tab goes on into it */
	char line2[] = "cat di";
	rl_line_buffer = line2;
	rl_completion_suppress_append = 0;
	m = rl_attempted_completion_function("di", 4, 6);
	assert_non_null(m);
	assert_string_equal(m[0], "dir1/");
	assert_int_equal(rl_completion_suppress_append, 1);
	free(m[0]);
	free(m);
	char line3[] = "cat zzz";
	rl_line_buffer = line3;
	assert_null(rl_attempted_completion_function("zzz", 4, 7));
	rl_line_buffer = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_from_path),
		cmocka_unit_test(test_relative_path_entries_skipped),
		cmocka_unit_test(test_command_position_after_operators),
		cmocka_unit_test(test_files_in_delegate_cwd),
		cmocka_unit_test(test_cd_and_help),
		cmocka_unit_test(test_command_word_with_slash),
		cmocka_unit_test(test_quoted_words),
		cmocka_unit_test(test_policy_words),
		cmocka_unit_test(test_policy_check_names_from_policy_module),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_random_lines),
		cmocka_unit_test(test_readline_hook),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
