/* Process events through the ring buffer from a real cgroup: exec/fork/exit with pid,
 * ppid, filename and wait status; threads are not processes; nothing from outside. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include "bpf_test_util.h"

struct fx {
	struct tcg cg;
	struct bpf_guard *g;
	char marker[64];
	struct stat marker_st;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->cg.fd = -1;
	assert_int_equal(tcg_create(&f->cg, "events"), 0);
	assert_int_equal(bpf_guard_open(f->cg.fd, &f->g), 0);
	snprintf(f->marker, sizeof f->marker, "/tmp/bpf-events-%d", (int)getpid());
	assert_int_equal(stat(tool_path("bpf_marker"), &f->marker_st), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	bpf_guard_close(f->g);
	tcg_destroy(&f->cg);
	unlink(f->marker);
	free(f);
	return 0;
}

static char *const *g_argv;
static void do_exec(void *arg)
{
	(void)arg;
	execv(g_argv[0], g_argv);
	_exit(123);
}

static void test_exec_fork_exit(void **state)
{
	struct fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, "fork", "3", "exit", "5", NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &f->cg, do_exec, NULL), 0);
	assert_int_equal(bpf_guard_expect_exec(f->g, t.pid, f->marker_st.st_dev, f->marker_st.st_ino, 0, 0), 0);
	int st = tchild_go_wait(&t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 5);

	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	const struct bpf_event *ex = tev_find(&ev, BPF_EV_EXEC, t.pid);
	assert_non_null(ex);
	assert_int_equal(ex->ppid, getpid());
	assert_int_equal(ex->tid, t.pid);
	assert_int_equal(ex->uid, getuid());
	assert_string_equal(ex->filename, argv[0]);
	assert_string_equal(ex->comm, "bpf_marker");
	assert_true(ex->ts_ns > 0);
	assert_true(ex->cgroup_id > 0);

	const struct bpf_event *fk = tev_find(&ev, BPF_EV_FORK, 0);
	assert_non_null(fk);
	assert_int_equal(fk->ppid, t.pid);
	pid_t gc = fk->pid;
	const struct bpf_event *gx = tev_find(&ev, BPF_EV_EXIT, gc);
	assert_non_null(gx);
	assert_true(WIFEXITED(gx->exit_status));
	assert_int_equal(WEXITSTATUS(gx->exit_status), 3);
	assert_int_equal(gx->ppid, t.pid);
	const struct bpf_event *cx = tev_find(&ev, BPF_EV_EXIT, t.pid);
	assert_non_null(cx);
	assert_true(WIFEXITED(cx->exit_status));
	assert_int_equal(WEXITSTATUS(cx->exit_status), 5);
	/* order: exec before fork before the exits */
	assert_true(ex < fk && fk < gx && gx < cx);
	for (int i = 0; i < ev.n; i++) /* everything came from the two processes (or their
					 * children: a sanitizer runtime may clone a helper) */
		assert_true(ev.ev[i].pid == t.pid || ev.ev[i].pid == gc || ev.ev[i].ppid == t.pid);
}

static void test_killed_exit_status(void **state)
{
	struct fx *f = *state;
	char *argv[] = { (char *)tool_path("bpf_marker"), f->marker, NULL };
	struct tchild t = { -1, -1 };
	g_argv = argv;
	assert_int_equal(tchild_start(&t, &f->cg, do_exec, NULL), 0);
	int st = tchild_go_wait(&t); /* not announced: killed */
	assert_true(WIFSIGNALED(st));
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	const struct bpf_event *k = tev_find(&ev, BPF_EV_EXEC_KILLED, t.pid);
	const struct bpf_event *x = tev_find(&ev, BPF_EV_EXIT, t.pid);
	assert_non_null(k);
	assert_non_null(x);
	assert_true(WIFSIGNALED(x->exit_status));
	assert_int_equal(WTERMSIG(x->exit_status), SIGKILL);
	assert_null(tev_find(&ev, BPF_EV_EXEC, t.pid));
}

static void *sleeper(void *a)
{
	(void)a;
	usleep(30000);
	_exit(4); /* exit_group from a non-leader thread (and no sanitizer exit hooks) */
}
static void threads_then_exit(void *a)
{
	(void)a;
	pthread_t th[8]; /* several threads exit_group at once: one EXIT all the same */
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, sleeper, NULL);
	pthread_exit(NULL); /* the leader goes first; the process lives on */
}

static void test_threads_one_exit(void **state)
{
	struct fx *f = *state;
	struct tchild t = { -1, -1 };
	assert_int_equal(tchild_start(&t, &f->cg, threads_then_exit, NULL), 0);
	int st = tchild_go_wait(&t);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 4);
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	int exits = 0;
	for (int i = 0; i < ev.n; i++) {
		assert_int_not_equal(ev.ev[i].type, BPF_EV_FORK); /* threads are not forks */
		if (ev.ev[i].type == BPF_EV_EXIT) {
			exits++;
			assert_int_equal(ev.ev[i].pid, t.pid);
			assert_true(WIFEXITED(ev.ev[i].exit_status));
			assert_int_equal(WEXITSTATUS(ev.ev[i].exit_status), 4);
		}
	}
	assert_int_equal(exits, 1);
}

static void just_exit(void *a)
{
	(void)a;
	_exit(9);
}

/* The epoll fd becomes readable for a lone event (flush timer), and poll(0) delivers it. */
static void test_fd_readable(void **state)
{
	struct fx *f = *state;
	struct tchild t = { -1, -1 };
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	ev.n = 0;
	assert_int_equal(tchild_start(&t, &f->cg, just_exit, NULL), 0);
	tchild_go_wait(&t);
	int fd = bpf_guard_fd(f->g);
	assert_true(fd >= 0);
	int got = 0;
	for (int i = 0; i < 20 && !got; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 500), 1);
		int n = bpf_guard_poll(f->g, 0, tev_cb, &ev);
		assert_true(n >= 0);
		got = tev_find(&ev, BPF_EV_EXIT, t.pid) != NULL;
	}
	assert_true(got);
	assert_int_equal(bpf_guard_poll(NULL, 0, tev_cb, &ev), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(bpf_event_type_name(BPF_EV_EXEC_KILLED), "exec_killed");
	assert_string_equal(bpf_event_type_name((enum bpf_event_type)99), "unknown");
	assert_string_equal(bpf_net_decision_name(BPF_NET_DENY), "deny");
}

int main(void)
{
	tcg_require();
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_exec_fork_exit), T(test_killed_exit_status), T(test_threads_one_exit),
		T(test_fd_readable), T(test_names),
	};
	return cmocka_run_group_tests_name("bpf_events", tests, NULL, NULL);
}
