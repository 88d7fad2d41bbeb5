/* `approve` under the real supervisor and the real approval broker: the
 * syscall is held while other notifications of the same process are served;
 * a TOTP approval lets it happen, a denial refuses it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <liboath/oath.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "approve/approve.h"
#include "enforce_notify_harness.h"

#define SECRET_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"   /* "12345678901234567890" */

static const char *POLICY =
	"version: 1\n"
	"name: notify-approve-test\n"
	"file_rules:\n"
	"  - name: ask\n"
	"    paths: [\"WS/gated.txt\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: approve\n"
	"    message: writing gated.txt needs a human\n"
	"  - name: ask-maps\n"
	"    paths: [\"/proc/*/maps\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: approve\n"
	"  - name: ws\n"
	"    paths: [\"WS/**\", \"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"command_rules:\n"
	"  - name: ask-echo\n"
	"    commands: [echo]\n"
	"    decision: approve\n"
	"  - name: rest\n"
	"    commands: [\"*\"]\n"
	"    decision: allow\n";

static char ws[256], adir[300];
static char cg_dir[PATH_MAX], cg_rel[128];     /* the session's cgroup v2 directory */

/* A cgroup v2 directory for the case's processes: the supervisor counts a
 * process as the session's by it (nc_in_session). */
static void cg_make(void)
{
	char line[1024], dev[64], mnt[512], type[64];
	FILE *f = fopen("/proc/self/mounts", "r");

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "%63s %511s %63s", dev, mnt, type) == 3 && !strcmp(type, "cgroup2")) {
			snprintf(cg_rel, sizeof cg_rel, "/agentsh-approve-test-%d", (int)getpid());
			snprintf(cg_dir, sizeof cg_dir, "%s%s", mnt, cg_rel);
			if (mkdir(cg_dir, 0755) < 0)
				cg_rel[0] = 0;
			break;
		}
	if (f)
		fclose(f);
}
static struct policy *pol;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char pending_id[APPROVE_ID_MAX];

static void on_pending(void *ctx, const struct approve_request *req)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	snprintf(pending_id, sizeof pending_id, "%s", req->id);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

struct resolver {
	struct approve_broker *b;
	bool approve;
	int rc;
	int count;                      /* approvals to answer; 0: one */
	int answered;
	bool others_served;             /* the child's other thread got through meanwhile */
};

static void resolve_one(struct resolver *rs);

static void *resolve_main(void *p)
{
	struct resolver *rs = p;

	for (int i = 0; i < (rs->count ? rs->count : 1) && rs->rc == 0; i++)
		resolve_one(rs);
	return NULL;
}

static void resolve_one(struct resolver *rs)
{
	char id[APPROVE_ID_MAX], code[8], err[256], marker[400];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	pthread_mutex_lock(&mu);
	while (!pending_id[0] && pthread_cond_timedwait(&cv, &mu, &ts) == 0)
		;
	snprintf(id, sizeof id, "%s", pending_id);
	pending_id[0] = 0;
	pthread_mutex_unlock(&mu);
	if (!id[0]) {
		rs->rc = -ETIMEDOUT;
		return;
	}
	/* wait until the child's other thread has written its marker: proves the
	 * supervisor kept serving while this syscall was held */
	snprintf(marker, sizeof marker, "%s/marker", ws);
	for (int i = 0; i < 200 && access(marker, F_OK) != 0; i++)
		usleep(20000);
	/* every approval of the case must see it */
	rs->others_served = access(marker, F_OK) == 0 && (rs->others_served || !rs->answered);
	rs->answered++;
	unlink(marker);
	struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };
	if (rs->approve) {
		/* each approval needs a fresh code (replay protection): use the
		 * next time step for the next approval (window 1 accepts it) */
		static int step;
		oath_totp_generate("12345678901234567890", 20, time(NULL) + 30 * step++, 30, 0, 6, code);
		struct approve_proof proof = { .method = APPROVE_M_TOTP, .totp_code = code };
		rs->rc = approve_resolve(rs->b, id, APPROVE_ONCE, &proof, &tty, err, sizeof err);
	} else {
		rs->rc = approve_resolve(rs->b, id, APPROVE_DENY, NULL, &tty, err, sizeof err);
	}
}

static void *other_thread(void *p)
{
	char path[400];
	(void)p;
	usleep(100000);         /* let the main thread block in its gated open */
	snprintf(path, sizeof path, "%s/marker", ws);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int c_gated(void *a)
{
	bool expect_ok = *(bool *)a;
	char path[400];
	pthread_t t;

	pthread_create(&t, NULL, other_thread, NULL);
	snprintf(path, sizeof path, "%s/gated.txt", ws);
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	int e = errno;
	pthread_join(t, NULL);
	if (expect_ok)
		return fd >= 0 ? 0 : 10;
	return fd < 0 && e == EACCES ? 0 : 11;
}

/* exec held for a human: the echo writes the marker only if it ran */
static int c_exec(void *a)
{
	bool expect_ok = *(bool *)a;
	char out[400];
	pthread_t t;

	pthread_create(&t, NULL, other_thread, NULL);
	snprintf(out, sizeof out, "%s/echo.out", ws);
	pid_t p = fork();
	if (p == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		execle("/usr/bin/echo", "echo", "ran", (char *)NULL, (char *[]){ NULL });
		_exit(100 + errno);
	}
	int st;
	waitpid(p, &st, 0);
	pthread_join(t, NULL);
	if (expect_ok)
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 10;
	return WIFEXITED(st) && WEXITSTATUS(st) == 100 + EACCES ? 0 : 11;
}

/* An approved open of a procfs file is still the account's open.  The held
 * open is performed later by a worker thread, which starts from root's
 * identity: it must act with CAP_SYS_PTRACE only where the target itself
 * could (its own /proc/<tgid>, even when it is not dumpable) and without it
 * elsewhere: the memory map of a non-dumpable sibling of the same account
 * stays closed (EACCES from the kernel's ptrace check), as without agentsh.
 * (maps, not environ: a non-dumpable process's environ is root's 0400 file,
 * closed by its mode alone.) */
static int c_proc_maps(void *a)
{
	(void)a;
	char path[64];
	int go[2];
	pthread_t t;

	if (pipe(go) < 0)
		return 12;
	pid_t p = fork();
	if (p == 0) {
		prctl(PR_SET_DUMPABLE, 0);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;
	if (p < 0 || read(go[0], &c, 1) != 1)
		return 13;
	/* the sibling: approved, then refused by the kernel's own check */
	pthread_create(&t, NULL, other_thread, NULL);
	snprintf(path, sizeof path, "/proc/%d/maps", (int)p);
	int fd = open(path, O_RDONLY);
	int e = errno;
	pthread_join(t, NULL);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	if (fd >= 0)
		return 14;      /* the approval lent the supervisor's CAP_SYS_PTRACE */
	if (e != EACCES)
		return 15;
	/* itself, not dumpable: approved and opened, as the kernel allows */
	prctl(PR_SET_DUMPABLE, 0);
	pthread_create(&t, NULL, other_thread, NULL);
	fd = open("/proc/self/maps", O_RDONLY);
	pthread_join(t, NULL);
	return fd >= 0 ? 0 : 16;
}

static int setup(void **s)
{
	(void)s;
	h_mkws(ws, sizeof ws, "approve");
	snprintf(adir, sizeof adir, "%s-approvers", ws);
	mkdir(adir, 0700);
	char p[400];
	snprintf(p, sizeof p, "%s/alice.totp", adir);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, SECRET_B32, strlen(SECRET_B32)) < 0)
		return -1;
	close(fd);
	oath_init();
	cg_make();
	pol = h_policy(POLICY, ws);
	return pol ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	policy_free(pol);
	h_rmrf(ws);
	h_rmrf(adir);
	if (cg_rel[0])
		rmdir(cg_dir);
	return 0;
}

static void run_case_fn(bool approve, int (*fn)(void *), const char *made);

static void run_case(bool approve)
{
	run_case_fn(approve, c_gated, "gated.txt");
}

struct case_threads {
	struct approve_config c;
	struct approve_broker *b;
	struct resolver rs;
	pthread_t t;
	int rc;
};

/* The broker's timer thread and the resolver start after the fork (see
 * h_opts.after_fork). */
static void start_threads(struct h_opts *o, void *p)
{
	struct case_threads *ct = p;
	char err[256];

	ct->rc = approve_broker_new(&ct->c, &ct->b, err, sizeof err);
	if (ct->rc < 0)
		return;
	ct->rs.b = ct->b;
	o->approvals = ct->b;
	ct->rc = pthread_create(&ct->t, NULL, resolve_main, &ct->rs) == 0 ? 0 : -EAGAIN;
}

static void run_case_n(bool approve, int (*fn)(void *), const char *made, int count);

static void run_case_fn(bool approve, int (*fn)(void *), const char *made)
{
	run_case_n(approve, fn, made, 1);
}

static void run_case_n(bool approve, int (*fn)(void *), const char *made, int count)
{
	struct case_threads ct = {
		.c = { .session = "notify-test", .session_uid = H_UID,
		       .approvers_dir = adir, .socket_dir = "",
		       .default_timeout_ms = 20000, .on_pending = on_pending,
		       .totp_window = 4 },     /* a code per approval: steps -4..+4 */
		.rs = { .approve = approve, .count = count },
		.rc = -1,
	};
	struct h_opts o = { .after_fork = start_threads, .after_fork_ctx = &ct,
			    .cgroup_dir = cg_rel[0] ? cg_dir : NULL,
			    .cgroup_rel = cg_rel[0] ? cg_rel : NULL };

	h_clear();
	int st = h_run(pol, fn, &approve, &o);
	assert_int_equal(ct.rc, 0);
	assert_int_equal(h_code(st), 0);
	pthread_join(ct.t, NULL);
	assert_int_equal(ct.rs.rc, 0);
	assert_true(ct.rs.others_served);
	char p[400];
	snprintf(p, sizeof p, "%s/%s", ws, made);
	if (fn == c_gated)
		assert_int_equal(access(p, F_OK) == 0, approve);
	unlink(p);
	approve_broker_free(ct.b);
}

static void t_approved(void **s)
{
	(void)s;
	run_case(true);
	assert_true(h_noticed("approved"));
}

static void t_refused(void **s)
{
	(void)s;
	run_case(false);
	assert_true(h_noticed("denied (approval)"));
}

static void t_exec_approved(void **s)
{
	(void)s;
	run_case_fn(true, c_exec, "echo.out");
}

static void t_exec_refused(void **s)
{
	(void)s;
	run_case_fn(false, c_exec, "echo.out");
}

static void t_proc_approved(void **s)
{
	(void)s;
	/* agentsh needs cgroup v2 to know its session's processes; without it
	 * the case cannot place the sibling in the session */
	if (!cg_rel[0])
		fail_msg("no cgroup v2 directory could be made (is cgroup2 mounted?)");
	run_case_n(true, c_proc_maps, "none", 2);
	assert_true(h_noticed("approved open /proc/"));
	assert_true(h_noticed("/maps (rule ask-maps); approved once"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_approved),
		cmocka_unit_test(t_refused),
		cmocka_unit_test(t_exec_approved),
		cmocka_unit_test(t_exec_refused),
		cmocka_unit_test(t_proc_approved),
	};
	if (geteuid() != 0) {
		printf("needs root: the supervisor switches to the target's uid\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
