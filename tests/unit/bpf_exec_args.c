/* Exec argument pinning against a real cgroup v2 and the real guard: the digest the
 * supervisor computes (bpf_guard_exec_args, libcrypto's SipHash) must equal what the BPF
 * program computes over the bytes the kernel copied, for every length and layout (ELF,
 * script, empty argv, multi-chunk, sizes that end inside a word); any change to the
 * arguments or the environment — including moving a string from argv to envp, which
 * keeps the concatenated bytes — gets the exec killed (BPF_WHY_ARGS). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "bpf_test_util.h"


static int setup(void **state)
{
	return exec_fx_setup(state, "execargs");
}

static int teardown(void **state)
{
	return exec_fx_teardown(state);
}

/* The strings of a vector laid out as the kernel copies them: each with its NUL. */
static char *flat(char *const *v, size_t *len)
{
	size_t n = 0;
	for (int i = 0; v && v[i]; i++)
		n += strlen(v[i]) + 1;
	char *b = malloc(n + 1), *w = b;
	for (int i = 0; v && v[i]; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(w, v[i], l);
		w += l;
	}
	*len = n;
	return b;
}

struct xc { const char *path; char *const *argv, *const *envp; };

static void do_exec(void *arg)
{
	const struct xc *x = arg;
	execve(x->path, x->argv, x->envp);
	_exit(123);
}

/* Exec x in the cgroup, announcing (file, interp) with the digest of (aargv, aenv). */
static int run(struct exec_fx *f, const struct xc *x, const struct stat *file, const struct stat *interp,
	       char *const *aargv, char *const *aenv, bool script)
{
	size_t al, el;
	char *a = flat(aargv, &al), *e = flat(aenv, &el);
	struct bpf_exec_args d;
	assert_int_equal(bpf_guard_exec_args(f->g, a, al, e, el, script, &d), 0);
	free(a);
	free(e);
	struct tchild t = { -1, -1 };
	assert_int_equal(tchild_start(&t, &f->cg, do_exec, (void *)x), 0);
	assert_int_equal(bpf_guard_expect_exec_args(f->g, t.pid, file->st_dev, file->st_ino,
						    interp ? interp->st_dev : 0,
						    interp ? interp->st_ino : 0, &d), 0);
	return tchild_go_wait(&t);
}

static void assert_ran(struct exec_fx *f, int st, int code)
{
	assert_true(st >= 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), code);
	if (f)
		assert_true(file_exists(f->marker));
}

static void assert_args_killed(struct exec_fx *f, int st)
{
	assert_true(st >= 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	assert_false(file_exists(f->marker));
	struct tevents t = { 0 };
	tev_drain(f->g, &t);
	const struct bpf_event *e = tev_find(&t, BPF_EV_EXEC_KILLED, 0);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_ARGS);
}

/* A string of n bytes (n >= 1) of varying content, as an environment entry "V=...". */
static char *filler(size_t n, unsigned seed)
{
	char *s = malloc(n + 1);
	s[0] = 'V';
	for (size_t i = 1; i < n; i++)
		s[i] = (char)('a' + (i * 7 + seed) % 26);
	if (n > 1)
		s[1] = '=';
	s[n] = 0;
	return s;
}

/* Lengths around the word (8) and chunk (256) boundaries and beyond one chunk: the two
 * implementations must agree on every one. */
static void test_lengths_agree(void **state)
{
	struct exec_fx *f = *state;
	const size_t lens[] = { 1, 2, 7, 8, 9, 15, 16, 17, 200, 255, 256, 257, 511, 512, 513,
				4099, 65537, 131071 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		char *v = filler(lens[i], (unsigned)i);
		char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "7", NULL };
		char *envp[] = { v, "B=2", NULL };
		struct xc x = { argv[0], argv, envp };
		unlink(f->marker);
		assert_ran(f, run(f, &x, &f->marker_st, NULL, argv, envp, false), 7);
		free(v);
	}
}

/* ~1.2 MiB of argv + envp: thousands of bpf_loop steps. */
static void test_large(void **state)
{
	struct exec_fx *f = *state;
	char *envp[13] = { 0 };
	for (int i = 0; i < 12; i++)
		envp[i] = filler(100000 + (size_t)i, (unsigned)i);
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "3", NULL };
	struct xc x = { argv[0], argv, envp };
	assert_ran(f, run(f, &x, &f->marker_st, NULL, argv, envp, false), 3);
	/* one byte changed in the middle of the tenth string */
	unlink(f->marker);
	char *decided[13];
	memcpy(decided, envp, sizeof decided);
	decided[9] = strdup(envp[9]);
	decided[9][50000] ^= 1;
	assert_args_killed(f, run(f, &x, &f->marker_st, NULL, argv, decided, false));
	free(decided[9]);
	for (int i = 0; i < 12; i++)
		free(envp[i]);
}

static void test_argv_changed_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "7", NULL };
	char *decided[] = { argv[0], f->marker, "exit", "8", NULL };
	char *envp[] = { "A=1", NULL };
	struct xc x = { argv[0], argv, envp };
	assert_args_killed(f, run(f, &x, &f->marker_st, NULL, decided, envp, false));
}

static void test_env_changed_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	char *envp[] = { "A=1", "LD_PRELOAD=/x.so", NULL };
	char *decided[] = { "A=1", "LD_PRELOAX=/x.so", NULL };
	struct xc x = { argv[0], argv, envp };
	assert_args_killed(f, run(f, &x, &f->marker_st, NULL, argv, decided, false));
}

/* argv [.., "X=1"] envp [] and argv [..] envp ["X=1"] have the same bytes in a row. */
static void test_moved_to_env_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "X=1", NULL };
	char *envp[] = { NULL };
	char *dargv[] = { argv[0], f->marker, NULL };
	char *denv[] = { "X=1", NULL };
	struct xc x = { argv[0], argv, envp };
	assert_args_killed(f, run(f, &x, &f->marker_st, NULL, dargv, denv, false));
}

/* A script: the kernel replaces argv[0] by "/bin/sh", the script's path; argv[1..] and
 * the environment are pinned. */
static void test_script(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { "whatever-argv0", "one", "two", NULL };
	char *envp[] = { "A=1", NULL };
	struct xc x = { f->script, argv, envp };
	assert_ran(f, run(f, &x, &f->script_st, &f->sh_st, argv, envp, true), 0);
	unlink(f->marker);
	char *decided[] = { "whatever-argv0", "one", "tw0", NULL };
	assert_args_killed(f, run(f, &x, &f->script_st, &f->sh_st, decided, envp, true));
	/* announced as an ELF's whole arg area: the kernel's own strings differ */
	unlink(f->marker);
	assert_args_killed(f, run(f, &x, &f->script_st, &f->sh_st, argv, envp, false));
}

/* argv[1] must start where it started: "one two" as one argument is not "one", "two". */
static void test_script_split_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { "a0", "one", "two", NULL };
	char *decided[] = { "a0", "one two", NULL };
	struct xc x = { f->script, argv, (char *[]){ NULL } };
	assert_args_killed(f, run(f, &x, &f->script_st, &f->sh_st, decided, (char *[]){ NULL }, true));
}

/* An empty argv: the kernel adds "" as argv[0]. */
static void test_empty_argv(void **state)
{
	struct exec_fx *f = *state;
	struct xc x = { "/bin/true", (char *[]){ NULL }, (char *[]){ NULL } };
	assert_ran(NULL, run(f, &x, &f->true_st, NULL, (char *[]){ NULL }, (char *[]){ NULL }, false), 0);
}

static void test_bad_input(void **state)
{
	struct exec_fx *f = *state;
	struct bpf_exec_args d;
	size_t big = BPF_EXEC_ARGS_MAX;
	char *b = calloc(1, big + 1);
	assert_int_equal(bpf_guard_exec_args(f->g, "a", 2, b, big, false, &d), -E2BIG);
	assert_int_equal(bpf_guard_exec_args(f->g, "a", 2, b, big - 2, false, &d), 0);
	free(b);
	assert_int_equal(bpf_guard_exec_args(f->g, "ab", 2, NULL, 0, false, &d), -EINVAL);
	assert_int_equal(bpf_guard_exec_args(NULL, "a", 2, NULL, 0, false, &d), -EINVAL);
	d.flags = 0x80;
	assert_int_equal(bpf_guard_expect_exec_args(f->g, 1, f->true_st.st_dev, f->true_st.st_ino,
						    0, 0, &d), -EINVAL);
}

int main(void)
{
	tcg_require();
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_lengths_agree), T(test_large), T(test_argv_changed_killed),
		T(test_env_changed_killed), T(test_moved_to_env_killed), T(test_script),
		T(test_script_split_killed), T(test_empty_argv), T(test_bad_input),
	};
	return cmocka_run_group_tests_name("bpf_exec_args", tests, NULL, NULL);
}
