/* Signals under the real supervisor: the supervisor, PID 1 and processes
 * outside the session are out of reach by every syscall; KILL→TERM redirect
 * delivers TERM; absorb delivers nothing and reports success. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "enforce_notify_harness.h"

static const char *POLICY =
	"version: 1\n"
	"name: notify-signal-test\n"
	"signal_rules:\n"
	"  - name: self\n"
	"    signals: [\"@all\"]\n"
	"    target: {type: self}\n"
	"    decision: allow\n"
	"  - name: kill-to-term\n"
	"    signals: [SIGKILL]\n"
	"    target: {type: children}\n"
	"    decision: redirect\n"
	"    redirect_to: SIGTERM\n"
	"  - name: absorb-usr1\n"
	"    signals: [SIGUSR1]\n"
	"    target: {type: children}\n"
	"    decision: absorb\n"
	"  - name: children\n"
	"    signals: [\"@all\"]\n"
	"    target: {type: children}\n"
	"    decision: allow\n"
	"  - name: deny-external\n"
	"    signals: [\"@all\"]\n"
	"    target: {type: external}\n"
	"    decision: deny\n"
	"    message: not yours\n"
	"  - name: deny-system\n"
	"    signals: [\"@all\"]\n"
	"    target: {type: system}\n"
	"    decision: deny\n";

static struct policy *pol;
static pid_t outsider;

#define FAIL(n) do { fprintf(stderr, "child: step %d: %s\n", n, strerror(errno)); return n; } while (0)

static int setup(void **s)
{
	(void)s;
	pol = h_policy(POLICY, "/tmp");
	/* a process of the same account outside the session */
	outsider = fork();
	if (outsider == 0) {
		if (setresgid(H_GID, H_GID, H_GID) < 0 || setresuid(H_UID, H_UID, H_UID) < 0)
			_exit(1);
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(1);
	}
	usleep(100000);
	return pol && outsider > 0 ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	kill(outsider, SIGKILL);
	waitpid(outsider, NULL, 0);
	policy_free(pol);
	return 0;
}

static int eperm(long rc)
{
	return rc < 0 && errno == EPERM ? 0 : 1;
}

static int c_refused(void *a)
{
	pid_t sup = getppid(), ext = *(pid_t *)a;
	int pfd;

	if (eperm(kill(sup, SIGTERM)))
		FAIL(10);
	if (eperm(syscall(SYS_tgkill, sup, sup, SIGTERM)))
		FAIL(11);
	if ((pfd = (int)syscall(SYS_pidfd_open, sup, 0)) < 0 ||
	    eperm(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)))
		FAIL(12);
	if (eperm(kill(1, SIGTERM)))
		FAIL(13);
	if (eperm(syscall(SYS_tkill, 1, SIGTERM)))
		FAIL(14);
	if (eperm(kill(ext, SIGTERM)))
		FAIL(15);
	if (eperm(syscall(SYS_tgkill, ext, ext, SIGKILL)))
		FAIL(16);
	if ((pfd = (int)syscall(SYS_pidfd_open, ext, 0)) < 0 ||
	    eperm(syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0)))
		FAIL(17);
	siginfo_t si = { .si_signo = SIGTERM, .si_code = SI_QUEUE };
	if (eperm(syscall(SYS_rt_sigqueueinfo, ext, SIGTERM, &si)))
		FAIL(18);
	if (eperm(syscall(SYS_rt_tgsigqueueinfo, ext, ext, SIGKILL, &si)))
		FAIL(19);
	if (eperm(syscall(SYS_rt_tgsigqueueinfo, sup, sup, SIGTERM, &si)))
		FAIL(20);
	return 0;
}

static void t_refused(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_refused, &outsider, NULL)), 0);
	assert_int_equal(kill(outsider, 0), 0);         /* still alive */
	assert_true(h_noticed("protect-supervisor"));
	assert_true(h_noticed("deny-external"));
	assert_true(h_noticed("deny-system"));
}

static volatile sig_atomic_t got;
static void on_sig(int sig)
{
	got = sig;
}

static int c_redirect_absorb(void *a)
{
	(void)a;
	int pp[2];
	if (pipe(pp) < 0)
		FAIL(10);
	pid_t gc = fork();
	if (gc == 0) {
		struct sigaction sa = { .sa_handler = on_sig };
		sigset_t blk, none;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
		/* signals wait blocked until sigsuspend: no lost wake-up */
		sigemptyset(&blk);
		sigemptyset(&none);
		sigaddset(&blk, SIGTERM);
		sigaddset(&blk, SIGUSR1);
		sigprocmask(SIG_BLOCK, &blk, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char c = 'r';
		if (write(pp[1], &c, 1) != 1)
			_exit(1);
		for (int terms = 0; terms < 2;) {
			sigsuspend(&none);
			c = got == SIGTERM ? 'T' : got == SIGUSR1 ? 'U' : '?';
			terms += got == SIGTERM;
			if (write(pp[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	char c;
	if (read(pp[0], &c, 1) != 1 || c != 'r')
		FAIL(11);
	if (kill(gc, SIGUSR1) != 0)             /* absorbed: success, nothing delivered */
		FAIL(12);
	if (kill(gc, SIGKILL) != 0)             /* redirected to SIGTERM */
		FAIL(13);
	if (read(pp[0], &c, 1) != 1 || c != 'T')
		FAIL(14);
	/* self: allowed */
	struct sigaction sa = { .sa_handler = on_sig };
	sigaction(SIGUSR2, &sa, NULL);
	raise(SIGUSR2);
	if (got != SIGUSR2)
		FAIL(15);
	syscall(SYS_kill, gc, SIGTERM);         /* children: allowed */
	if (read(pp[0], &c, 1) != 1 || c != 'T')
		FAIL(16);
	waitpid(gc, NULL, 0);
	return 0;
}

static void t_redirect_absorb(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_redirect_absorb, NULL, NULL)), 0);
	assert_true(h_noticed("absorbed"));
	assert_true(h_noticed("redirected"));
	assert_true(h_noticed("delivered SIGTERM instead"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_redirect_absorb),
	};
	if (geteuid() != 0) {
		printf("needs root: the supervisor switches to the target's uid\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
