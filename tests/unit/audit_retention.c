/* audit retention: prefix pruning with a MACed pruned-through record, on a
 * real sqlite store.  Ages are faked by emitting events with old wall times
 * (and by audit_prune_opts.now_ns); tampering is done with plain SQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit/audit.h"

#define DAY (86400LL * 1000000000LL)

static char dir[64];
static char db[128];
static int64_t now;
static pid_t dead_pid;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/audit-ret.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0700);
	snprintf(db, sizeof db, "%s/audit.db", dir);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	/* a pid that certainly ran and is gone: a crashed session's supervisor */
	dead_pid = fork();
	if (dead_pid == 0)
		_exit(0);
	waitpid(dead_pid, NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct audit *open_rw(const char *sid, unsigned retention)
{
	struct audit *a = NULL;
	/* deferred open: the writer thread opens the store (audit_store tests the other way) */
	struct audit_opts o = { .session_id = sid, .retention_days = retention, .defer_open = true };
	int rc = audit_open(db, &o, &a);
	if (rc)
		fprintf(stderr, "audit_open: %s\n", audit_strerror(a));
	assert_int_equal(rc, 0);
	return a;
}

/* A whole session written with wall times `age` in the past: start, one
 * command with n file events, end (unless `running`). */
static void old_session(const char *sid, unsigned retention, int64_t age, int n, bool ended, pid_t pid)
{
	struct audit *a = open_rw(sid, retention);
	int64_t t = now - age;
	char details[64];
	snprintf(details, sizeof details, "{\"retention_days\":%u}", retention);
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
	ev.ts_ns = t;
	ev.pid = pid;
	ev.uid = 1000;
	ev.operation = "command";
	ev.details = retention ? details : NULL;
	assert_int_equal(audit_emit(a, &ev), 0);
	ev = AUDIT_EVENT_INIT(AUDIT_COMMAND_START);
	ev.ts_ns = t + 1;
	ev.command_id = 1;
	ev.command = "cat /work/*";
	assert_int_equal(audit_emit(a, &ev), 0);
	for (int i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof path, "/work/%s/f%d", sid, i);
		ev = AUDIT_EVENT_INIT(AUDIT_FILE);
		ev.ts_ns = t + 2 + i;
		ev.command_id = 1;
		ev.operation = "open";
		ev.path = path;
		ev.decision = ev.effective = AUDIT_DEC_ALLOW;
		ev.layer = AUDIT_LAYER_SECCOMP_NOTIFY;
		assert_int_equal(audit_emit(a, &ev), 0);
	}
	ev = AUDIT_EVENT_INIT(AUDIT_COMMAND_END);
	ev.ts_ns = t + 2 + n;
	ev.command_id = 1;
	ev.exit_status = 0;
	assert_int_equal(audit_emit(a, &ev), 0);
	if (ended) {
		ev = AUDIT_EVENT_INIT(AUDIT_SESSION_END);
		ev.ts_ns = t + 3 + n;
		ev.exit_status = 0;
		assert_int_equal(audit_emit(a, &ev), 0);
	}
	assert_int_equal(audit_flush(a), 0);
	audit_close(a);
}

static struct audit_verify_result verify(void)
{
	struct audit *r = NULL;
	struct audit_opts o = { .readonly = true };
	assert_int_equal(audit_open(db, &o, &r), 0);
	struct audit_verify_result vr;
	assert_int_equal(audit_verify(r, &vr), 0);
	if (!vr.ok)
		fprintf(stderr, "# verify: seq %lld: %s\n", (long long)vr.first_bad_seq, vr.reason);
	audit_close(r);
	return vr;
}

static int64_t sql_int(const char *fmt, ...)
{
	char sql[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	int rc = sqlite3_step(st);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		fail_msg("%s: %s", sql, sqlite3_errmsg(h));
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static struct audit_prune_result prune(const struct audit_prune_opts *po, int want_rc)
{
	struct audit *a = open_rw("s-pruner", 0);
	struct audit_prune_result r;
	int rc = audit_prune(a, po, &r);
	if (rc != want_rc)
		fprintf(stderr, "# prune: %d %s\n", rc, audit_strerror(a));
	assert_int_equal(rc, want_rc);
	audit_close(a);
	return r;
}

/* sessions: s-a (1 day, 10 days old), s-b (1 day, 10 days old),
 * s-forever (no retention, 9 days old), s-c (1 day, 8 days old) */
static void scenario(int n)
{
	old_session("s-a", 1, 10 * DAY, n, true, dead_pid);
	old_session("s-b", 1, 10 * DAY, 5, true, dead_pid);
	old_session("s-forever", 0, 9 * DAY, 5, true, dead_pid);
	old_session("s-c", 1, 8 * DAY, 5, true, dead_pid);
}

/* Events per session in old_session(): n + 4 when ended. */
static void test_prune_prefix(void **state)
{
	(void)state;
	scenario(10000);                /* more than one transaction's worth */
	int64_t a_b = (10000 + 4) + (5 + 4);
	struct audit_prune_opts dry = { .dry_run = true };
	struct audit_prune_result r = prune(&dry, 0);
	assert_int_equal(r.events, a_b);
	assert_int_equal(r.through_seq, a_b);
	assert_int_equal(r.sessions, 2);
	assert_string_equal(r.stop_session, "s-forever");
	assert_non_null(strstr(r.stop_reason, "forever"));
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id = 's-a'"), 10004);

	r = prune(NULL, 0);
	assert_int_equal(r.events, a_b);
	assert_int_equal(r.stop_seq, a_b + 1);
	int64_t total = a_b + 9 + 9 + 1;       /* + s-forever, s-c and the prune event */
	assert_int_equal(r.prune_seq, total);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id IN ('s-a', 's-b')"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM sessions WHERE session_id IN ('s-a', 's-b')"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM commands WHERE session_id IN ('s-a', 's-b')"), 0);
	assert_int_equal(sql_int("SELECT min(seq) FROM events"), a_b + 1);
	/* the prune is on record: who, how many, through which sequence */
	assert_int_equal(sql_int("SELECT json_extract(details, '$.events') FROM events WHERE type = 'prune'"), a_b);
	assert_int_equal(sql_int("SELECT uid FROM events WHERE type = 'prune'"), (int64_t)getuid());
	/* the secure_delete pragma overwrote the deleted rows' content */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "grep -c '/work/s-a/f9999' '%s' '%s-wal' 2>/dev/null | grep -qv ':0$'", db, db);
	assert_int_not_equal(system(cmd), 0);

	struct audit_verify_result vr = verify();
	assert_true(vr.ok);
	assert_int_equal(vr.pruned_through, a_b);
	assert_int_equal(vr.pruned_events, a_b);
	assert_int_equal(vr.events, total - a_b);
	assert_int_equal(vr.anchor_seq, total);

	/* a second run has nothing to do (s-forever blocks s-c) and writes nothing */
	r = prune(NULL, 0);
	assert_int_equal(r.events, 0);
	assert_int_equal(r.prune_seq, 0);
	assert_int_equal(sql_int("SELECT max(seq) FROM events"), total);
	assert_true(verify().ok);
}

static void test_tamper_after_prune(void **state)
{
	(void)state;
	scenario(20);
	int64_t through = prune(NULL, 0).through_seq;
	assert_true(verify().ok);
	char cp[1024];
	/* keep a pristine copy to restore between the tamper cases */
	snprintf(cp, sizeof cp, "sqlite3 '%s' \"VACUUM INTO '%s/pristine.db'\"", db, dir);
	assert_int_equal(system(cp), 0);
	snprintf(cp, sizeof cp, "cp '%s/pristine.db' '%s' && rm -f '%s-wal' '%s-shm'", dir, db, db, db);

	/* deleting the next row after the base */
	sql_int("DELETE FROM events WHERE seq = %lld", (long long)through + 1);
	struct audit_verify_result vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, through + 1);

	/* editing the base record: its sequence, its count, its link */
	assert_int_equal(system(cp), 0);
	assert_true(verify().ok);
	sql_int("UPDATE chain_base SET seq = seq + 1");
	sql_int("DELETE FROM events WHERE seq = %lld", (long long)through + 1);
	vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, through + 1);
	assert_non_null(strstr(vr.reason, "MAC"));

	assert_int_equal(system(cp), 0);
	sql_int("UPDATE chain_base SET count = 1");
	vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, through);

	/* forging a record for a longer prefix with a made-up MAC */
	assert_int_equal(system(cp), 0);
	sql_int("UPDATE chain_base SET seq = seq + 3, link = (SELECT link FROM events WHERE seq = %lld), "
		"mac = randomblob(32)", (long long)through + 3);
	sql_int("DELETE FROM events WHERE seq <= %lld", (long long)through + 3);
	vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, through + 3);

	/* removing the base record: the chain no longer starts where verify begins */
	assert_int_equal(system(cp), 0);
	sql_int("DELETE FROM chain_base");
	vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, 1);

	/* a second record slipped in (the table rebuilt without its constraint) */
	assert_int_equal(system(cp), 0);
	sql_int("CREATE TABLE cb AS SELECT * FROM chain_base");
	sql_int("DROP TABLE chain_base");
	sql_int("CREATE TABLE chain_base(id INTEGER, seq INTEGER, link BLOB, count INTEGER, pruned_ns INTEGER, mac BLOB)");
	sql_int("INSERT INTO chain_base SELECT * FROM cb");
	sql_int("INSERT INTO chain_base SELECT * FROM cb");
	vr = verify();
	assert_false(vr.ok);
	assert_non_null(strstr(vr.reason, "more than one"));
}

/* Without a pruned-through record, deleting old rows is still tampering. */
static void test_delete_without_base(void **state)
{
	(void)state;
	scenario(5);
	sql_int("DELETE FROM events WHERE seq <= 9");
	struct audit_verify_result vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, 1);
	/* and pruning refuses to paper over it */
	struct audit_prune_result r = prune(NULL, -EBADMSG);
	(void)r;
	assert_int_equal(sql_int("SELECT count(*) FROM events"), 9 + 9 + 9);
}

/* A row edited inside the expired prefix: pruning would erase the evidence. */
static void test_refuses_tampered_prefix(void **state)
{
	(void)state;
	scenario(5);
	sql_int("UPDATE events SET path = '/etc/shadow' WHERE seq = 4");
	prune(NULL, -EBADMSG);
	assert_int_equal(sql_int("SELECT count(*) FROM events"), 4 * 9);
	struct audit_verify_result vr = verify();
	assert_false(vr.ok);
	assert_int_equal(vr.first_bad_seq, 4);
}

static void test_live_and_crashed(void **state)
{
	(void)state;
	/* a crashed session (no end, process gone) expires from its last event */
	old_session("s-crashed", 1, 5 * DAY, 3, false, dead_pid);
	/* a running one (no end, its process alive) is never pruned */
	old_session("s-live", 1, 5 * DAY, 3, false, getpid());
	old_session("s-after", 1, 5 * DAY, 3, true, dead_pid);
	struct audit_prune_result r = prune(NULL, 0);
	assert_int_equal(r.events, 3 + 3);
	assert_string_equal(r.stop_session, "s-live");
	assert_non_null(strstr(r.stop_reason, "running"));
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id = 's-live'"), 6);
	assert_true(verify().ok);
}

/* The fake clock: a session ended 2 days ago with 3 days' retention expires
 * one day from now, and not before. */
static void test_fake_clock(void **state)
{
	(void)state;
	old_session("s-young", 3, 2 * DAY, 3, true, dead_pid);
	struct audit_prune_opts po = { .dry_run = true };
	struct audit_prune_result r = prune(&po, 0);
	assert_int_equal(r.events, 0);
	assert_non_null(strstr(r.stop_reason, "expires"));
	po.now_ns = now + DAY + 60LL * 1000000000;
	po.dry_run = false;
	r = prune(&po, 0);
	assert_int_equal(r.events, 7);
	assert_true(verify().ok);
	/* the retention comes from the chained session_start: shortening it in
	 * the side table changes nothing */
	old_session("s-long", 30, 2 * DAY, 3, true, dead_pid);
	sql_int("UPDATE sessions SET retention_days = 1 WHERE session_id = 's-long'");
	po.now_ns = now + 10 * DAY;     /* past the pruner's own record (3 days) */
	po.dry_run = true;
	r = prune(&po, 0);
	assert_int_equal(r.events, 1);
	assert_string_equal(r.stop_session, "s-long");
	assert_non_null(strstr(r.stop_reason, "30 days"));
}

/* The largest retention a policy allows does not overflow the arithmetic,
 * and a larger one (never written by agentsh) reads as forever. */
static void test_retention_bounds(void **state)
{
	(void)state;
	old_session("s-huge", 100000, 5 * DAY, 1, true, dead_pid);
	struct audit_prune_opts po = { .dry_run = true };
	struct audit_prune_result r = prune(&po, 0);
	assert_int_equal(r.events, 0);
	assert_non_null(strstr(r.stop_reason, "retention 100000 days: expires 22"));
	sql_int("DELETE FROM events");       /* a fresh chain for the next case */
	sql_int("DELETE FROM sessions");
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -f '%s.anchor'", db);
	assert_int_equal(system(cmd), 0);
	old_session("s-beyond", 2000000, 5 * DAY, 1, true, dead_pid);
	r = prune(&po, 0);
	assert_int_equal(r.events, 0);
	assert_non_null(strstr(r.stop_reason, "forever"));
}

/* audit_session_begin records the handle's retention and prunes expired
 * sessions once its session_start is durable. */
static void test_prune_at_session_start(void **state)
{
	(void)state;
	old_session("s-old", 2, 3 * DAY, 4, true, dead_pid);
	struct audit *a = open_rw("s-new", 7);
	assert_int_equal(audit_session_begin(a, 1000, "command", "test", NULL), 0);
	int64_t cmd;
	assert_int_equal(audit_command_begin(a, "true", &cmd), 0);
	assert_int_equal(audit_flush(a), 0);
	struct audit_command_result res = { .exit_status = 0 };
	assert_int_equal(audit_command_end(a, cmd, &res), 0);
	assert_int_equal(audit_session_end(a, 0), 0);
	audit_close(a);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id = 's-old'"), 0);
	assert_int_equal(sql_int("SELECT retention_days FROM sessions WHERE session_id = 's-new'"), 7);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE type = 'prune' AND session_id = 's-new'"), 1);
	assert_int_equal(sql_int("SELECT json_extract(details, '$.retention_days') FROM events "
				 "WHERE type = 'session_start' AND session_id = 's-new'"), 7);
	struct audit_verify_result vr = verify();
	assert_true(vr.ok);
	assert_int_equal(vr.pruned_through, 8);
}

/* Pruning while another handle appends: the live session loses nothing,
 * the expired prefix goes, and the chain verifies. */
struct appender { int n; };

static void *append_live(void *arg)
{
	struct appender *ap = arg;
	struct audit *a = open_rw("s-busy", 1);
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
	ev.pid = getpid();
	ev.details = "{\"retention_days\":1}";
	assert_int_equal(audit_emit(a, &ev), 0);
	for (int i = 0; i < ap->n; i++) {
		ev = AUDIT_EVENT_INIT(AUDIT_FILE);
		ev.operation = "write";
		ev.path = "/work/busy";
		assert_int_equal(audit_emit(a, &ev), 0);
		if (i % 500 == 0)
			assert_int_equal(audit_flush(a), 0);
	}
	audit_close(a);
	return NULL;
}

static void test_prune_while_appending(void **state)
{
	(void)state;
	old_session("s-exp", 1, 5 * DAY, 9000, true, dead_pid);
	struct appender ap = { .n = 20000 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, append_live, &ap), 0);
	struct audit_prune_result r = prune(NULL, 0);
	pthread_join(t, NULL);
	assert_int_equal(r.events, 9004);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id = 's-busy'"), 20001);
	assert_int_equal(sql_int("SELECT count(*) FROM events WHERE session_id = 's-exp'"), 0);
	struct audit_verify_result vr = verify();
	assert_true(vr.ok);
	assert_int_equal(vr.pruned_through, 9004);
}

/* A schema-1 store (before retention) verifies read-only, migrates on the
 * next write, and its sessions, which recorded no retention, are kept. */
static void test_migrates_v1(void **state)
{
	(void)state;
	old_session("s-v1", 0, 10 * DAY, 3, true, dead_pid);
	sql_int("DROP TABLE chain_base");
	sql_int("DROP INDEX commands_start");
	sql_int("ALTER TABLE sessions DROP COLUMN retention_days");
	sql_int("PRAGMA user_version = 1");
	assert_true(verify().ok);
	struct audit_prune_result r = prune(NULL, 0);
	assert_int_equal(sql_int("PRAGMA user_version"), 2);
	assert_int_equal(r.events, 0);
	assert_true(verify().ok);
	assert_int_equal(sql_int("SELECT count(*) FROM events"), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prune_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_after_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_without_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_tampered_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_and_crashed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_at_session_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_while_appending, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
