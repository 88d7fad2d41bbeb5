/* Exec verification against a real cgroup v2 and the real tp_btf program: an exec whose
 * file is not the announced one (or not announced at all) is SIGKILLed before the new
 * program's first instruction — bpf_marker creates its marker file first thing, so a
 * missing marker proves nothing of it ran. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "bpf_test_util.h"


static int setup(void **state)
{
	return exec_fx_setup(state, "exec");
}

/* The same guard, its programs verified by bpf_guard_preload()'s thread (agentsh -c). */
static int setup_preloaded(void **state)
{
	assert_int_equal(bpf_guard_preload(), 0);
	assert_int_equal(bpf_guard_preload(), 0);     /* idempotent */
	return setup(state);
}

static int teardown(void **state)
{
	return exec_fx_teardown(state);
}

static char *const *g_argv;
static void do_exec(void *arg)
{
	(void)arg;
	execv(g_argv[0], g_argv);
	_exit(123);
}

/* Run argv in a child inside the cgroup; `announce` (may be NULL) runs with its pid first. */
static int run(struct exec_fx *f, char *const *argv, void (*announce)(struct exec_fx *, pid_t))
{
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &f->cg, do_exec, NULL), 0);
	if (announce)
		announce(f, t.pid);
	return tchild_go_wait(&t);
}

static void ann_marker(struct exec_fx *f, pid_t p)
{
	assert_int_equal(bpf_guard_expect_exec(f->g, p, f->marker_st.st_dev, f->marker_st.st_ino, 0, 0), 0);
}
static void ann_true(struct exec_fx *f, pid_t p)
{
	assert_int_equal(bpf_guard_expect_exec(f->g, p, f->true_st.st_dev, f->true_st.st_ino, 0, 0), 0);
}
static void ann_script(struct exec_fx *f, pid_t p)
{
	assert_int_equal(bpf_guard_expect_exec(f->g, p, f->script_st.st_dev, f->script_st.st_ino,
					       f->sh_st.st_dev, f->sh_st.st_ino), 0);
}
static void ann_script_wrong_interp(struct exec_fx *f, pid_t p)
{
	assert_int_equal(bpf_guard_expect_exec(f->g, p, f->script_st.st_dev, f->script_st.st_ino,
					       f->true_st.st_dev, f->true_st.st_ino), 0);
}
static void ann_script_as_elf(struct exec_fx *f, pid_t p)
{
	assert_int_equal(bpf_guard_expect_exec(f->g, p, f->script_st.st_dev, f->script_st.st_ino, 0, 0), 0);
}

static void assert_killed(int st)
{
	assert_true(st >= 0);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

static const struct bpf_event *drain_find(struct exec_fx *f, struct tevents *t, enum bpf_event_type ty)
{
	tev_drain(f->g, t);
	return tev_find(t, ty, 0);
}

static void test_match_runs(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "7", NULL };
	int st = run(f, argv, ann_marker);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	assert_true(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC);
	assert_non_null(e);
	assert_int_equal(e->exec.ino, f->marker_st.st_ino);
	assert_int_equal(e->exec.dev, f->marker_st.st_dev);
	assert_null(tev_find(&t, BPF_EV_EXEC_KILLED, 0));
}

static void test_mismatch_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	assert_killed(run(f, argv, ann_true)); /* announced /bin/true, ran bpf_marker */
	assert_false(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC_KILLED);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_MISMATCH);
	assert_int_equal(e->exec.ino, f->marker_st.st_ino);
	assert_int_equal(e->exec.expect_ino, f->true_st.st_ino);
	assert_int_equal(e->exec.expect_dev, f->true_st.st_dev);
	assert_false(e->flags & BPF_EVF_KILL_FAILED);
	assert_non_null(strstr(e->filename, "bpf_marker"));
}

static void test_no_entry_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	assert_killed(run(f, argv, NULL));
	assert_false(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC_KILLED);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_NO_ENTRY);
}

/* One announcement allows one exec: the program's own second exec is killed. */
static void test_entry_consumed(void **state)
{
	struct exec_fx *f = *state;
	const char *m = tool_path("bpf_marker");
	char *argv[] = { (char *)m, f->marker, "exec", (char *)m, f->marker, NULL };
	assert_killed(run(f, argv, ann_marker));
	char buf[64] = { 0 };
	int fd = open(f->marker, O_RDONLY);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof buf - 1) > 0);
	close(fd);
	assert_string_equal(buf, "ran\n"); /* the first ran, the second did not */
}

static void test_unexpect(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &f->cg, do_exec, NULL), 0);
	ann_marker(f, t.pid);
	assert_int_equal(bpf_guard_unexpect_exec(f->g, t.pid), 0);
	assert_killed(tchild_go_wait(&t));
	assert_false(file_exists(f->marker));
}

static void test_script_ok(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { f->script, NULL };
	int st = run(f, argv, ann_script);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC);
	assert_non_null(e);
	assert_true(e->flags & BPF_EVF_SCRIPT);
	assert_int_equal(e->exec.ino, f->sh_st.st_ino); /* bprm->file is the interpreter */
}

static void test_script_wrong_interp(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { f->script, NULL };
	assert_killed(run(f, argv, ann_script_wrong_interp));
	assert_false(file_exists(f->marker));
}

static void test_script_announced_as_elf(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { f->script, NULL };
	assert_killed(run(f, argv, ann_script_as_elf));
	assert_false(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC_KILLED);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_SCRIPT);
}

/* The interpreter run directly, when a script was announced, is not that script. */
static void test_interp_direct_killed(void **state)
{
	struct exec_fx *f = *state;
	char cmd[256];
	snprintf(cmd, sizeof cmd, "echo ran >> %s", f->marker);
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	assert_killed(run(f, argv, ann_script));
	assert_false(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC_KILLED);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_NOT_SCRIPT);
}

/* exec from a non-leader thread: the announcement is keyed by the calling thread's id. */
struct thr {
	int tid_w, go_r;
	char *const *argv;
};
static void *thread_exec(void *arg)
{
	struct thr *t = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char b;
	if (write(t->tid_w, &tid, sizeof tid) != sizeof tid || read(t->go_r, &b, 1) != 1)
		_exit(124);
	execv(t->argv[0], t->argv);
	_exit(123);
}
static struct thr g_thr;
static void spawn_thread(void *arg)
{
	(void)arg;
	pthread_t th;
	pthread_create(&th, NULL, thread_exec, &g_thr);
	pthread_join(th, NULL);
	_exit(125);
}

static int run_thread_exec(struct exec_fx *f, int key_by_tid)
{
	int tp[2], gp[2];
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	assert_int_equal(pipe(tp), 0);
	assert_int_equal(pipe(gp), 0);
	g_thr = (struct thr){ .tid_w = tp[1], .go_r = gp[0], .argv = argv };
	struct tchild t = { -1, -1 };
	assert_int_equal(tchild_start(&t, &f->cg, spawn_thread, NULL), 0);
	char b = 1;
	assert_int_equal(write(t.go_w, &b, 1), 1);
	pid_t tid;
	assert_int_equal(read(tp[0], &tid, sizeof tid), sizeof tid);
	assert_int_not_equal(tid, t.pid);
	assert_int_equal(bpf_guard_expect_exec(f->g, key_by_tid ? tid : t.pid, f->marker_st.st_dev,
					       f->marker_st.st_ino, 0, 0), 0);
	assert_int_equal(write(gp[1], &b, 1), 1);
	close(tp[0]); close(tp[1]); close(gp[0]); close(gp[1]);
	return tchild_go_wait(&t); /* go pipe already used: the write fails harmlessly */
}

static void test_thread_exec_by_tid(void **state)
{
	struct exec_fx *f = *state;
	int st = run_thread_exec(f, 1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(file_exists(f->marker));
}

static void test_thread_exec_keyed_by_tgid_killed(void **state)
{
	struct exec_fx *f = *state;
	assert_killed(run_thread_exec(f, 0));
	assert_false(file_exists(f->marker));
}

static void test_outside_unaffected(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "3", NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, NULL, do_exec, NULL), 0); /* not in the cgroup */
	int st = tchild_go_wait(&t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_true(file_exists(f->marker));
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	assert_int_equal(ev.n, 0);
}

/* fexecve of a memfd (what execveat(AT_EMPTY_PATH) does): the inode is the memfd's. */
static int g_memfd_announce;
static struct exec_fx *g_fx;
static void memfd_exec(void *arg)
{
	(void)arg;
	int src = open(g_argv[0], O_RDONLY | O_CLOEXEC), m = memfd_create("payload", MFD_CLOEXEC);
	char buf[65536];
	ssize_t n;
	while ((n = read(src, buf, sizeof buf)) > 0)
		if (write(m, buf, (size_t)n) != n)
			_exit(120);
	struct stat st;
	fstat(m, &st);
	/* the announcement normally comes from the notifier; the guard works across fork */
	if (g_memfd_announce &&
	    bpf_guard_expect_exec(g_fx->g, getpid(), st.st_dev, st.st_ino, 0, 0))
		_exit(121);
	fexecve(m, g_argv, (char *[]){ NULL });
	_exit(123);
}

static void test_memfd_fexecve(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "exit", "6", NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	g_fx = f;
	g_memfd_announce = 1;
	assert_int_equal(tchild_start(&t, &f->cg, memfd_exec, NULL), 0);
	int st = tchild_go_wait(&t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 6);
	assert_true(file_exists(f->marker));
	unlink(f->marker);
	g_memfd_announce = 0; /* the file on disk is not the memfd: announce it and fexecve */
	assert_int_equal(tchild_start(&t, &f->cg, memfd_exec, NULL), 0);
	ann_marker(f, t.pid);
	assert_killed(tchild_go_wait(&t));
	assert_false(file_exists(f->marker));
}

/* "Before its first instruction", strictly: a 154-byte static ELF whose third instruction
 * is write(1, "X", 1).  A SIGKILL delivered any later than the return from execve (say, at
 * its first syscall) would let that byte through, because a syscall completes before
 * pending signals are handled. */
#ifdef __x86_64__
static const unsigned char tiny_code[] = {
	0xb8, 0x01, 0, 0, 0,			/* mov eax, 1 (write) */
	0xbf, 0x01, 0, 0, 0,			/* mov edi, 1 */
	0x48, 0x8d, 0x35, 0x10, 0, 0, 0,	/* lea rsi, [rip + 16] -> "X" */
	0xba, 0x01, 0, 0, 0,			/* mov edx, 1 */
	0x0f, 0x05,				/* syscall */
	0xb8, 0x3c, 0, 0, 0,			/* mov eax, 60 (exit) */
	0x31, 0xff,				/* xor edi, edi */
	0x0f, 0x05,				/* syscall */
	'X',
};

static void write_tiny_elf(const char *path)
{
	unsigned char img[64 + 56 + sizeof tiny_code] = { 0 };
	const uint64_t base = 0x400000, entry = base + 64 + 56, size = sizeof img;
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);		/* 64-bit, LE, version 1 */
	img[16] = 2;					/* ET_EXEC */
	img[18] = 62;					/* EM_X86_64 */
	img[20] = 1;					/* EV_CURRENT */
	memcpy(img + 24, &entry, 8);			/* e_entry */
	img[32] = 64;					/* e_phoff */
	img[52] = 64;					/* e_ehsize */
	img[54] = 56;					/* e_phentsize */
	img[56] = 1;					/* e_phnum */
	unsigned char *ph = img + 64;
	ph[0] = 1;					/* PT_LOAD */
	ph[4] = 5;					/* PF_R | PF_X */
	memcpy(ph + 16, &base, 8);			/* p_vaddr */
	memcpy(ph + 24, &base, 8);			/* p_paddr */
	memcpy(ph + 32, &size, 8);			/* p_filesz */
	memcpy(ph + 40, &size, 8);			/* p_memsz */
	ph[49] = 0x10;					/* p_align 0x1000 */
	memcpy(img + 120, tiny_code, sizeof tiny_code);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, sizeof img), (ssize_t)sizeof img);
	close(fd);
}

static int g_out_w;
static void exec_tiny(void *arg)
{
	dup2(g_out_w, 1);
	execl((const char *)arg, "tiny", (char *)NULL);
	_exit(123);
}

static void test_killed_before_first_instruction(void **state)
{
	struct exec_fx *f = *state;
	char path[128];
	struct stat st;
	snprintf(path, sizeof path, "%s/tiny", f->dir);
	write_tiny_elf(path);
	assert_int_equal(stat(path, &st), 0);
	for (int announce = 1; announce >= 0; announce--) {
		int p[2];
		char buf[4];
		struct tchild t = { -1, -1 };
		assert_int_equal(pipe(p), 0);
		g_out_w = p[1];
		assert_int_equal(tchild_start(&t, &f->cg, exec_tiny, path), 0);
		close(p[1]);
		if (announce)
			assert_int_equal(bpf_guard_expect_exec(f->g, t.pid, st.st_dev, st.st_ino, 0, 0), 0);
		int ws = tchild_go_wait(&t);
		ssize_t n = read(p[0], buf, sizeof buf);
		close(p[0]);
		if (announce) { /* the payload itself works */
			assert_true(WIFEXITED(ws));
			assert_int_equal(n, 1);
			assert_int_equal(buf[0], 'X');
		} else {
			assert_killed(ws);
			assert_int_equal(n, 0);
		}
	}
	unlink(path);
}
#else
static void test_killed_before_first_instruction(void **state)
{
	(void)state;
	skip(); /* the payload is x86-64 machine code */
}
#endif

/* A sub-cgroup of the session cgroup (per-command cgroups) is covered too. */
static void test_descendant_cgroup(void **state)
{
	struct exec_fx *f = *state;
	struct tcg sub = { .fd = -1 };
	snprintf(sub.path, sizeof sub.path, "%.200s/cmd", f->cg.path);
	assert_int_equal(mkdir(sub.path, 0755), 0);
	sub.fd = open(sub.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &sub, do_exec, NULL), 0);
	int st = tchild_go_wait(&t);
	tcg_destroy(&sub);
	assert_killed(st);
	assert_false(file_exists(f->marker));
}

/* The init of a child pid namespace is not protected from the kill. */
static void ns_init_exec(void *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWPID) < 0)
		_exit(126);
	pid_t p = fork();
	if (p == 0) {
		execv(g_argv[0], g_argv);
		_exit(123);
	}
	int st;
	waitpid(p, &st, 0);
	_exit(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 1);
}

static void test_pidns_init_killed(void **state)
{
	struct exec_fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &f->cg, ns_init_exec, NULL), 0);
	int st = tchild_go_wait(&t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(file_exists(f->marker));
}

static void test_audit_mode(void **state)
{
	struct exec_fx *f = *state;
	assert_int_equal(bpf_guard_exec_mode(f->g, BPF_EXEC_AUDIT), 0);
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	int st = run(f, argv, ann_true);
	assert_true(WIFEXITED(st));
	assert_true(file_exists(f->marker));
	struct tevents t = { 0 };
	const struct bpf_event *e = drain_find(f, &t, BPF_EV_EXEC_MISMATCH);
	assert_non_null(e);
	assert_int_equal(e->exec.why, BPF_WHY_MISMATCH);
	assert_int_equal(bpf_guard_exec_mode(f->g, (enum bpf_exec_mode)9), -EINVAL);
}

static void test_bad_args(void **state)
{
	struct exec_fx *f = *state;
	assert_int_equal(bpf_guard_expect_exec(f->g, 0, 1, 1, 0, 0), -EINVAL);
	assert_int_equal(bpf_guard_expect_exec(f->g, 1, 1, 0, 0, 0), -EINVAL);
	assert_int_equal(bpf_guard_expect_exec(NULL, 1, 1, 1, 0, 0), -EINVAL);
	struct bpf_guard *g;
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_int_equal(bpf_guard_open(fd, &g), -EINVAL); /* not a cgroup2 directory */
	assert_null(g);
	close(fd);
}

int main(void)
{
	tcg_require();
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_match_runs), T(test_mismatch_killed), T(test_no_entry_killed),
		T(test_entry_consumed), T(test_unexpect), T(test_script_ok),
		T(test_script_wrong_interp), T(test_script_announced_as_elf),
		T(test_interp_direct_killed), T(test_thread_exec_by_tid),
		T(test_thread_exec_keyed_by_tgid_killed), T(test_outside_unaffected),
		T(test_pidns_init_killed), T(test_memfd_fexecve), T(test_descendant_cgroup),
		T(test_killed_before_first_instruction),
		T(test_audit_mode), T(test_bad_args),
		cmocka_unit_test_setup_teardown(test_match_runs, setup_preloaded, teardown),
		cmocka_unit_test_setup_teardown(test_no_entry_killed, setup_preloaded, teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_killed, setup_preloaded, teardown),
	};
	return cmocka_run_group_tests_name("bpf_exec", tests, NULL, NULL);
}
