/* audit store: write, flush, verify, reopen, concurrent handles, collectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"

#include <sqlite3.h>

static char dir[64];
static char db[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/audit-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0700);
	snprintf(db, sizeof db, "%s/audit.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct audit *open_rw(const char *sid)
{
	struct audit *a = NULL;
	struct audit_opts o = { .session_id = sid };
	int rc = audit_open(db, &o, &a);
	if (rc)
		fprintf(stderr, "audit_open: %s\n", audit_strerror(a));
	assert_int_equal(rc, 0);
	return a;
}

static void emit_file(struct audit *a, int i, enum audit_decision d)
{
	char path[64];
	snprintf(path, sizeof path, "/work/f%d", i);
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_FILE);
	ev.operation = "open";
	ev.path = path;
	ev.pid = 100 + i;
	ev.uid = 1000;
	ev.decision = ev.effective = d;
	ev.rule = d == AUDIT_DEC_DENY ? "deny-secrets" : "allow-work";
	ev.layer = AUDIT_LAYER_SECCOMP_NOTIFY;
	assert_int_equal(audit_emit(a, &ev), 0);
}

static void verify_ok(int64_t events)
{
	struct audit *r = NULL;
	struct audit_opts o = { .readonly = true };
	assert_int_equal(audit_open(db, &o, &r), 0);
	struct audit_verify_result vr;
	assert_int_equal(audit_verify(r, &vr), 0);
	if (!vr.ok)
		fprintf(stderr, "verify: seq %lld: %s\n", (long long)vr.first_bad_seq, vr.reason);
	assert_true(vr.ok);
	assert_int_equal(vr.events, events);
	assert_int_equal(vr.anchor_seq, events);
	audit_close(r);
}

static void test_write_verify(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-one");
	int64_t cmd;
	assert_int_equal(audit_command_begin(a, "cat /work/f1", &cmd), 0);
	assert_int_equal(cmd, 1);
	for (int i = 0; i < 100; i++)
		emit_file(a, i, AUDIT_DEC_ALLOW);
	struct audit_command_result res = { .exit_status = 0, .duration_us = 5, .cpu_user_us = 1,
					    .cpu_sys_us = 1, .peak_rss_kb = 900 };
	assert_int_equal(audit_command_end(a, cmd, &res), 0);
	audit_close(a);
	verify_ok(102);
	/* a second session appends to the same chain */
	a = open_rw("s-two");
	emit_file(a, 1, AUDIT_DEC_DENY);
	audit_close(a);
	verify_ok(103);
	struct stat st;
	char key[160];
	snprintf(key, sizeof key, "%s.key", db);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(db, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* Take the chain anchor's lock, as a stuck writer elsewhere would hold it:
 * every commit of the store waits for it.  Returns the fd to close. */
static int hold_anchor(void)
{
	char anchor[160];
	snprintf(anchor, sizeof anchor, "%s.anchor", db);
	int fd = open(anchor, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	return fd;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A command end announced as the session's last (session_ends) is left to the
 * session end's flush instead of waiting for a commit of its own: with every
 * commit held up (the anchor's lock taken here) the call still returns at
 * once, where a flush would wait out the busy timeout and fail; the session
 * end then makes both durable. */
static void test_session_end_covers_command_end(void **state)
{
	(void)state;
	struct audit *a = NULL;
	struct audit_opts o = { .session_id = "s-end", .busy_timeout_ms = 3000 };
	assert_int_equal(audit_open(db, &o, &a), 0);
	int64_t cmd;
	assert_int_equal(audit_command_begin(a, "true", &cmd), 0);
	assert_int_equal(audit_flush(a), 0);            /* the anchor file exists now */
	int fd = hold_anchor();
	alarm(20);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct audit_command_result res = { .exit_status = 0, .session_ends = true };
	assert_int_equal(audit_command_end(a, cmd, &res), 0);
	assert_true(ms_since(&t0) < 1500);
	close(fd);                                      /* commits may proceed */
	assert_int_equal(audit_session_end(a, 0), 0);
	alarm(0);
	verify_ok(3);
	audit_close(a);
	verify_ok(3);
}

/* The chain anchor's lock is waited for as long as sqlite's busy timeout, not
 * forever: with the anchor held elsewhere, the flush fails (naming the anchor)
 * after about the timeout, and the commit it follows is kept. */
static void test_anchor_lock_bounded(void **state)
{
	(void)state;
	struct audit *a = NULL;
	struct audit_opts o = { .session_id = "s-lock", .busy_timeout_ms = 300 };
	assert_int_equal(audit_open(db, &o, &a), 0);
	emit_file(a, 1, AUDIT_DEC_ALLOW);
	assert_int_equal(audit_flush(a), 0);            /* the anchor file exists now */
	int fd = hold_anchor();
	alarm(20);                                      /* a hang fails the test, not the run */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	emit_file(a, 2, AUDIT_DEC_ALLOW);
	int rc = audit_flush(a);
	long ms = ms_since(&t0);
	alarm(0);
	assert_true(rc < 0);
	assert_non_null(strstr(audit_strerror(a), "anchor"));
	assert_true(ms >= 250 && ms < 5000);
	close(fd);
	audit_close(a);
}

static void test_collector(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-coll");
	int64_t cmd;
	assert_int_equal(audit_command_begin(a, "cat secret | wc", &cmd), 0);
	struct audit_collector *c;
	assert_int_equal(audit_collect_begin(a, cmd, &c), 0);
	emit_file(a, 1, AUDIT_DEC_ALLOW);
	emit_file(a, 2, AUDIT_DEC_DENY);
	/* a denial the kernel would have given anyway: a file event, not blocked */
	struct audit_event k = AUDIT_EVENT_INIT(AUDIT_FILE);
	k.operation = "open";
	k.path = "/proc/1/environ";
	k.rule = "deny-system-secrets";
	k.decision = k.effective = AUDIT_DEC_DENY;
	k.quiet = true;
	assert_int_equal(audit_emit(a, &k), 0);
	struct audit_event n = AUDIT_EVENT_INIT(AUDIT_NETWORK);
	n.operation = "connect";
	n.address = "93.184.216.34";
	n.port = 443;
	n.dns_name = "example.com";
	n.decision = n.effective = AUDIT_DEC_ALLOW;
	assert_int_equal(audit_emit(a, &n), 0);
	audit_collect_end(a, c);
	emit_file(a, 3, AUDIT_DEC_DENY);      /* after the end: not collected */
	const struct audit_summary *s = audit_collect_summary(c);
	assert_int_equal(s->file, 3);
	assert_int_equal(s->network, 1);
	assert_int_equal(s->blocked, 1);
	assert_true(s->has_blocked);
	assert_string_equal(s->first_blocked.target, "/work/f2");
	assert_string_equal(s->first_blocked.rule, "deny-secrets");
	json_t *ev = audit_collect_events_json(c, AUDIT_EVENTS_ALL);
	assert_int_equal(json_array_size(json_object_get(ev, "file_operations")), 3);
	assert_int_equal(json_array_size(json_object_get(ev, "blocked_operations")), 1);
	assert_int_equal(json_integer_value(json_object_get(ev, "network_operations_count")), 1);
	json_decref(ev);
	ev = audit_collect_events_json(c, AUDIT_EVENTS_SUMMARY);
	assert_int_equal(json_array_size(json_object_get(ev, "file_operations")), 0);
	assert_int_equal(json_array_size(json_object_get(ev, "blocked_operations")), 1);
	json_decref(ev);
	audit_collector_free(c);
	audit_close(a);
}

/* the supervisor's way of reporting soft deletes, redirects and approvals */
static void test_collector_conventions(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-conv");
	int64_t cmd;
	assert_int_equal(audit_command_begin(a, "rm x; wget y", &cmd), 0);
	struct audit_collector *c;
	assert_int_equal(audit_collect_begin(a, 0, &c), 0);
	struct audit_event sd = AUDIT_EVENT_INIT(AUDIT_FILE);
	sd.operation = "unlink";
	sd.path = "/w/x";
	sd.decision = sd.effective = AUDIT_DEC_SOFT_DELETE;
	sd.rule = "trash";
	sd.details = "{\"syscall\":87,\"note\":\"restore with: agentsh trash restore 2026-tok-1\"}";
	assert_int_equal(audit_emit(a, &sd), 0);
	struct audit_event rd = AUDIT_EVENT_INIT(AUDIT_EXEC);
	rd.operation = "execve";
	rd.path = "/usr/bin/wget";
	rd.path2 = "/bin/echo";
	rd.decision = rd.effective = AUDIT_DEC_REDIRECT;
	rd.rule = "redirect-wget";
	assert_int_equal(audit_emit(a, &rd), 0);
	struct audit_event ar = AUDIT_EVENT_INIT(AUDIT_APPROVAL_RESOLVED);
	ar.operation = "file";
	ar.decision = AUDIT_DEC_APPROVE;
	ar.effective = AUDIT_DEC_DENY;
	ar.details = "{\"outcome\":\"timeout\"}";
	assert_int_equal(audit_emit(a, &ar), 0);
	struct audit_event ap = AUDIT_EVENT_INIT(AUDIT_FILE);
	ap.operation = "write";
	ap.path = "/w/.env";
	ap.decision = AUDIT_DEC_APPROVE;
	ap.effective = AUDIT_DEC_DENY;
	ap.rule = "approve-env";
	assert_int_equal(audit_emit(a, &ap), 0);
	audit_collect_end(a, c);
	const struct audit_summary *s = audit_collect_summary(c);
	assert_true(s->has_soft_delete);
	assert_string_equal(s->soft_delete_token, "2026-tok-1");
	assert_true(s->has_redirect);
	assert_string_equal(s->redirect_to, "/bin/echo");
	assert_string_equal(s->redirect_reason, "redirected by policy rule redirect-wget");
	assert_int_equal(s->approvals_timed_out, 1);
	assert_int_equal(s->approvals_denied, 0);
	/* the approval answer is not itself a blocked operation; the write is */
	assert_int_equal(s->blocked, 1);
	assert_string_equal(s->first_blocked.target, "/w/.env");
	assert_true(s->approval_required);
	audit_collector_free(c);
	struct audit_command_result res = { .exit_status = 1, .duration_us = 1, .cpu_user_us = 0,
					    .cpu_sys_us = 0, .peak_rss_kb = 0 };
	assert_int_equal(audit_command_end(a, cmd, &res), 0);
	audit_close(a);
	verify_ok(6);
}

struct thr { int n; char sid[32]; };

static void *writer(void *arg)
{
	struct thr *t = arg;
	struct audit *a = open_rw(t->sid);
	for (int i = 0; i < t->n; i++)
		emit_file(a, i, AUDIT_DEC_ALLOW);
	assert_int_equal(audit_flush(a), 0);
	audit_close(a);
	return NULL;
}

static void test_concurrent_handles(void **state)
{
	(void)state;
	enum { T = 8, N = 3000 };
	pthread_t th[T];
	struct thr t[T];
	for (int i = 0; i < T; i++) {
		t[i].n = N;
		snprintf(t[i].sid, sizeof t[i].sid, "s-thr-%d", i);
		pthread_create(&th[i], NULL, writer, &t[i]);
	}
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	verify_ok(T * N);
}

static void test_rejects_open_dir(void **state)
{
	(void)state;
	chmod(dir, 0777);
	struct audit *a = NULL;
	int rc = audit_open(db, NULL, &a);
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(audit_strerror(a), "chmod 700"));
	audit_close(a);
	chmod(dir, 0700);
}

/* With defer_open a current store is opened by the writer thread, not by
 * audit_open(): a store that sqlite cannot use behind a valid header must
 * still fail the first flush, so nothing is reported as recorded that was not. */
static void test_broken_store_fails_closed(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-good");
	emit_file(a, 1, AUDIT_DEC_ALLOW);
	audit_close(a);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null && "
		 "dd if=/dev/urandom of='%s' bs=1 seek=100 count=3996 conv=notrunc 2>/dev/null", db, db);
	assert_int_equal(system(cmd), 0);
	/* without defer_open, audit_open() itself refuses it */
	struct audit_opts o = { .session_id = "s-broken" };
	assert_int_not_equal(audit_open(db, &o, &a), 0);
	audit_close(a);
	o.defer_open = true;                /* the header still says: current */
	assert_int_equal(audit_open(db, &o, &a), 0);
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
	audit_emit(a, &ev);
	assert_int_not_equal(audit_flush(a), 0);
	assert_non_null(strstr(audit_strerror(a), db));
	assert_int_not_equal(audit_emit(a, &ev), 0);
	audit_close(a);
}


static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The writer checkpoints the WAL once it is idle (no flush waiting), so the
 * next process to open the store does not read megabytes of WAL: pages reach
 * the main file while the handle stays open, with nothing else checkpointing,
 * and while a flush-heavy stream keeps it busy the WAL only grows. */
/* The store file grows within 2 s: a checkpoint copied the WAL into it. */
static bool db_grows(off_t before)
{
	for (int i = 0; i < 200; i++) {
		if (file_size(db) > before)
			return true;
		usleep(10000);
	}
	return false;
}

static void test_idle_checkpoint(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-wal");
	assert_int_equal(audit_session_begin(a, 1000, "command", NULL, NULL), 0);
	assert_int_equal(audit_flush(a), 0);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", db);
	off_t before = file_size(db);
	for (int i = 0; i < 6000; i++) {
		emit_file(a, i, AUDIT_DEC_ALLOW);
		if (i % 500 == 499)
			assert_int_equal(audit_flush(a), 0);
	}
	assert_int_equal(audit_flush(a), 0);
	assert_true(file_size(wal) > 256 * 4096);       /* more than the idle threshold */
	assert_true(db_grows(before));
	audit_close(a);
}

/* The same when the commits were asked for with audit_commit_soon() and the
 * flush finds nothing left to wait for (agentsh -c): it still counts as
 * answered, so the checkpoint runs while the command does, not in
 * audit_close() on the way to the exit status. */
static void test_idle_checkpoint_after_commit_soon(void **state)
{
	(void)state;
	struct audit *a = open_rw("s-wal-soon");
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", db);
	assert_int_equal(audit_session_begin(a, 1000, "command", NULL, NULL), 0);
	for (int i = 0; i < 6000; i++)
		emit_file(a, i, AUDIT_DEC_ALLOW);
	audit_commit_soon(a);
	off_t last = -1, now;
	for (int i = 0, stable = 0; i < 500 && stable < 5; i++) {      /* until committed */
		usleep(20000);
		now = file_size(wal);
		stable = now == last && now > 256 * 4096 ? stable + 1 : 0;
		last = now;
	}
	assert_true(last > 256 * 4096);
	off_t before = file_size(db);
	assert_int_equal(audit_flush(a), 0);
	assert_true(db_grows(before));
	audit_close(a);
}

/* sqlite spills large sorts and statement journals to $TMPDIR: installed
 * setuid, a directory the caller chose, where root has nothing to write.
 * The store's connection keeps them in memory (temp_store = 2). */
static void test_temp_in_memory(void **state)
{
	(void)state;
	struct audit *a = open_rw("temp-1");
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(a->db, "PRAGMA temp_store", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	sqlite3_finalize(st);
	audit_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_checkpoint_after_commit_soon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_end_covers_command_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_lock_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collector_conventions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_handles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_open_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_store_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temp_in_memory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
