/* Retention: remove the expired prefix of the chain and leave a MACed
 * pruned-through record (table chain_base) that verify starts from.
 *
 * Why a prefix only: the chain is one global sequence, each link covering the
 * one before it.  Cutting rows out of the middle would need the chain to be
 * rewritten; cutting a prefix needs only the link of its last row, which the
 * record carries under the store's key.  Deleting rows without that record,
 * or forging it, leaves a chain that does not start where verify expects.
 *
 * What decides expiry is read from the chained rows (session_start carries
 * the session's retention and pid, session_end its end), not from the
 * unchained sessions table, so editing the side table cannot make a prune
 * erase data early; and every row is verified before it is deleted, so a
 * prune never launders earlier tampering. */
#include "audit/audit_int.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY_NS (86400LL * 1000000000LL)
#define PRUNE_TX_EVENTS 4096            /* rows per transaction: bounds the lock hold time */
#define PRUNE_AUTO_MAX 20000            /* per session start; the rest waits for the next */

/* ---------------------------------------------------------------- the plan */

struct plan {
	struct audit *a;
	sqlite3 *db;
	int64_t now, base, through, max_ret;
	json_t *expired;                /* session ids, bound as json_each() */
	struct audit_prune_result *r;
};

static int64_t q_int(sqlite3 *db, const char *sql, const char *sid, int64_t arg, bool *found)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	*found = false;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	/* parameters a statement does not use are ignored (SQLITE_RANGE) */
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, arg);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		v = sqlite3_column_int64(st, 0);
		*found = true;
	}
	sqlite3_finalize(st);
	return v;
}

struct sess {
	int64_t retention, pid, ended, last;
	bool have_start, ended_known;
};

/* The session's facts from its chained first row: its session_start (the
 * retention in details, its pid; the end from the session_end at last_seq),
 * or for a pruning process without a session of its own, its prune event.
 * Only when that row is already pruned (first_seq at or below the base) do
 * the side table's columns stand in. */
static int session_facts(struct plan *p, const char *sid, struct sess *s)
{
	sqlite3_stmt *st;
	bool f;
	memset(s, 0, sizeof *s);
	s->pid = -1;
	if (sqlite3_prepare_v2(p->db, "SELECT e.type, e.details, e.pid, e.ts_ns, s.retention_days, s.pid, s.ended_ns, "
			       "s.last_seq, s.first_seq FROM sessions s LEFT JOIN events e ON e.seq = s.first_seq "
			       "AND e.session_id = s.session_id WHERE s.session_id = ?1", -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(p->a, -EIO, "audit store %s: %s", p->a->db_path, sqlite3_errmsg(p->db));
	sqlite3_bind_text(st, 1, sid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		int64_t last_seq = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 7);
		bool start = type && !strcmp(type, "session_start"), pruner = type && !strcmp(type, "prune");
		bool gone = !type && sqlite3_column_int64(st, 8) <= p->base;
		s->have_start = start || pruner || gone;
		if (start || pruner) {
			s->retention = audit_session_retention((const char *)sqlite3_column_text(st, 1));
			s->pid = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
		} else if (gone) {
			s->retention = sqlite3_column_int64(st, 4);
			if (s->retention > AUDIT_RETENTION_MAX_DAYS)
				s->retention = 0;
			s->pid = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
			s->ended_known = sqlite3_column_type(st, 6) != SQLITE_NULL;
			s->ended = sqlite3_column_int64(st, 6);
		}
		if (pruner) {
			s->ended_known = true;
			s->ended = sqlite3_column_int64(st, 3);
		} else if (start && last_seq > 0) {
			s->ended = q_int(p->db, "SELECT ts_ns FROM events WHERE session_id = ?1 AND seq = ?2 "
					 "AND type = 'session_end'", sid, last_seq, &f);
			s->ended_known = f;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return audit_seterr(p->a, -EIO, "audit store %s: %s", p->a->db_path, sqlite3_errmsg(p->db));
	if (s->have_start && !s->ended_known)
		s->last = q_int(p->db, "SELECT max(ts_ns) FROM events WHERE session_id = ?1", sid, 0, &f);
	return 0;
}

/* A process that is gone cannot add to its session.  kill(pid, 0) errs on the
 * side of keeping: a reused pid keeps the session longer, never shorter. */
static bool pid_gone(int64_t pid)
{
	return pid > 0 && pid <= INT32_MAX && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* 1 expired, 0 kept (p->r->stop_reason says why), <0 error */
static int expired(struct plan *p, const char *sid)
{
	struct sess s;
	int rc = session_facts(p, sid, &s);
	char *why = p->r->stop_reason, when[40];
	size_t wl = sizeof p->r->stop_reason;
	if (rc)
		return rc;
	if (!s.have_start) {
		snprintf(why, wl, "no session_start on record (or its record does not match): no retention, kept");
		return 0;
	}
	if (s.retention <= 0) {
		snprintf(why, wl, "kept forever (its policy sets no audit.retention_days)");
		return 0;
	}
	if (!s.ended_known && !pid_gone(s.pid)) {
		snprintf(why, wl, "still running (pid %" PRId64 ")", s.pid);
		return 0;
	}
	int64_t from = s.ended_known ? s.ended : s.last;
	/* compared as an age: from + retention may not fit in 64 bits */
	if (p->now - from >= s.retention * DAY_NS) {
		if (s.retention > p->max_ret)
			p->max_ret = s.retention;
		return 1;
	}
	audit_fmt_time(from > INT64_MAX - s.retention * DAY_NS ? INT64_MAX : from + s.retention * DAY_NS, when,
		       sizeof when);
	snprintf(why, wl, "retention %" PRId64 " days: expires %s", s.retention, when);
	return 0;
}

/* First event after seq `after` not of an expired session: *seq 0 when none. */
static int next_kept(struct plan *p, int64_t after, int64_t *seq, char *sid, size_t sidlen, bool *null_sid)
{
	sqlite3_stmt *st;
	char *ids = json_dumps(p->expired, JSON_COMPACT);
	if (!ids)
		return -ENOMEM;
	int rc = sqlite3_prepare_v2(p->db, "SELECT seq, session_id FROM events WHERE seq > ?1 AND (session_id IS NULL "
				    "OR session_id NOT IN (SELECT value FROM json_each(?2))) ORDER BY seq LIMIT 1",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		free(ids);
		return audit_seterr(p->a, -EIO, "audit store %s: %s", p->a->db_path, sqlite3_errmsg(p->db));
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_text(st, 2, ids, -1, SQLITE_TRANSIENT);
	free(ids);
	*seq = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*null_sid = sqlite3_column_type(st, 1) == SQLITE_NULL;
		snprintf(sid, sidlen, "%s", *null_sid ? "" : (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return audit_seterr(p->a, -EIO, "audit store %s: %s", p->a->db_path, sqlite3_errmsg(p->db));
	return 0;
}

static int64_t last_seq(struct plan *p)
{
	bool f;
	int64_t v = q_int(p->db, "SELECT max(seq) FROM events", NULL, 0, &f);
	return f ? v : p->base;
}

/* Walk from the base: each event's session either expired (its rows join the
 * prefix) or not (the prefix ends before it). */
static int make_plan(struct plan *p, int64_t max_events)
{
	int64_t cur = p->base;
	char sid[128];
	for (;;) {
		int64_t seq = 0;
		bool null_sid = false;
		int rc = next_kept(p, cur, &seq, sid, sizeof sid, &null_sid);
		if (rc)
			return rc;
		if (!seq) {
			cur = last_seq(p);
			p->r->stop_reason[0] = 0;
			break;
		}
		cur = seq - 1;
		if (null_sid) {
			snprintf(p->r->stop_reason, sizeof p->r->stop_reason, "an event without a session: kept");
			rc = 0;
		} else
			rc = expired(p, sid);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			p->r->stop_seq = seq;
			snprintf(p->r->stop_session, sizeof p->r->stop_session, "%s", sid);
			break;
		}
		json_array_append_new(p->expired, json_string(sid));
		p->r->sessions++;
		if (max_events && cur - p->base >= max_events)
			break;
	}
	if (max_events && cur - p->base > max_events)
		cur = p->base + max_events;
	p->through = cur;
	return 0;
}

/* ---------------------------------------------------------------- deleting */

static int tx_exec(struct plan *p, const char *sql, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(p->a, -EIO, "audit store %s: %s", p->a->db_path, sqlite3_errmsg(p->db));
	/* ?1 lo, ?2 hi, ?3 the expired sessions; unused ones are ignored */
	char *ids = json_dumps(p->expired, JSON_COMPACT);
	if (!ids) {
		sqlite3_finalize(st);
		return -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	sqlite3_bind_text(st, 3, ids, -1, SQLITE_TRANSIENT);
	free(ids);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 :
		 audit_seterr(p->a, -EIO, "audit store %s: pruning failed: %s", p->a->db_path, sqlite3_errmsg(p->db));
	sqlite3_finalize(st);
	return rc;
}

/* One integer from a statement bound like tx_exec's; -1 on error. */
static int64_t q_int_ids(struct plan *p, const char *sql, int64_t lo, int64_t hi, bool *found)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	*found = false;
	char *ids = json_dumps(p->expired, JSON_COMPACT);
	if (ids && sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		sqlite3_bind_text(st, 3, ids, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			v = sqlite3_column_int64(st, 0);
			*found = true;
		}
		sqlite3_finalize(st);
	}
	free(ids);
	return v;
}

static int prune_event(struct plan *p, struct audit_hmac *h, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	char msg[160], details[256];
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_PRUNE);
	ev.operation = "retention";
	ev.pid = getpid();
	ev.uid = getuid();
	ev.command_id = -1;
	ev.layer = AUDIT_LAYER_SHELL;
	ev.session_id = p->a->session_id;
	snprintf(msg, sizeof msg, "retention: deleting %" PRId64 " events (sequences %" PRId64 "-%" PRId64
		 ") of %" PRId64 " expired sessions", p->through - p->base, p->base + 1, p->through, p->r->sessions);
	snprintf(details, sizeof details, "{\"from_seq\":%" PRId64 ",\"through_seq\":%" PRId64 ",\"events\":%" PRId64
		 ",\"sessions\":%" PRId64 ",\"retention_days\":%" PRId64 "}", p->base + 1, p->through,
		 p->through - p->base, p->r->sessions, p->max_ret);
	ev.message = msg;
	ev.details = details;
	int rc = audit_append_tx(p->a, p->db, h, &ev, seq, link);
	/* a pruning process with no session of its own (the CLI) gets one, so
	 * its record is kept as long as the longest retention it applied and
	 * does not stop every later prune at itself */
	return rc ? rc : tx_exec(p, "INSERT OR IGNORE INTO sessions(session_id, started_ns, ended_ns, uid, pid, first_seq,"
				 " last_seq, retention_days) SELECT session_id, ts_ns, ts_ns, uid, pid, seq, seq,"
				 " json_extract(details, '$.retention_days') FROM events WHERE seq = ?1", *seq, 0);
}

/* One transaction: verify rows (base, end], delete them with their side-table
 * rows, move the base.  *done when nothing is left to do. */
static int prune_tx(struct plan *p, struct audit_hmac *h, bool first, bool *done, int64_t *pseq,
		    unsigned char plink[AUDIT_LINK_LEN])
{
	struct audit_base b;
	struct audit_verify_result vr = { .ok = true, .first_bad_seq = -1 };
	int rc = audit_base_read(p->a, p->db, h, &b);
	if (rc == -EBADMSG)
		return audit_seterr(p->a, rc, "not pruning: %s; run `agentsh audit verify`", p->a->err);
	if (rc)
		return rc;
	*done = b.seq >= p->through;
	if (*done)
		return 0;
	int64_t end = b.seq + PRUNE_TX_EVENTS < p->through ? b.seq + PRUNE_TX_EVENTS : p->through;
	unsigned char link[AUDIT_LINK_LEN];
	memcpy(link, b.link, AUDIT_LINK_LEN);
	rc = audit_chain_range(p->a, p->db, h, b.seq, link, end, &vr);
	if (!rc && !vr.ok)
		return audit_seterr(p->a, -EBADMSG, "not pruning: the chain fails at sequence %" PRId64 " (%s), and "
				    "deleting it would erase the evidence; run `agentsh audit verify`",
				    vr.first_bad_seq, vr.reason);
	/* and again under the write lock: only rows of the plan's expired sessions */
	bool f;
	if (!rc && q_int_ids(p, "SELECT count(*) FROM events WHERE seq > ?1 AND seq <= ?2 AND (session_id IS NULL "
			     "OR session_id NOT IN (SELECT value FROM json_each(?3)))", b.seq, end, &f) != 0)
		rc = audit_seterr(p->a, -EAGAIN, "not pruning: the rows to delete changed while planning; run it again");
	if (!rc && first)
		rc = prune_event(p, h, pseq, plink);
	rc = rc ? rc : tx_exec(p, "DELETE FROM events WHERE seq > ?1 AND seq <= ?2", b.seq, end);
	rc = rc ? rc : tx_exec(p, "DELETE FROM commands WHERE start_seq > ?1 AND start_seq <= ?2", b.seq, end);
	rc = rc ? rc : tx_exec(p, "DELETE FROM approvals WHERE request_seq > ?1 AND request_seq <= ?2", b.seq, end);
	rc = rc ? rc : tx_exec(p, "DELETE FROM sessions WHERE session_id IN (SELECT value FROM json_each(?3)) AND NOT EXISTS (SELECT 1 FROM events e "
			       "WHERE e.session_id = sessions.session_id)", 0, 0);
	if (rc)
		return rc;
	b.count += end - b.seq;
	b.seq = end;
	b.ts_ns = p->now;
	memcpy(b.link, link, AUDIT_LINK_LEN);
	return audit_base_write(p->a, p->db, h, &b);
}

static int run_batches(struct plan *p, struct audit_hmac *h)
{
	bool done = false, first = true;
	int rc = 0;
	/* the content of deleted rows is overwritten, not left in free pages */
	sqlite3_exec(p->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	while (!rc && !done) {
		int64_t pseq = 0;
		unsigned char plink[AUDIT_LINK_LEN];
		if (sqlite3_exec(p->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			rc = audit_seterr(p->a, -EBUSY, "audit store %s: cannot start pruning: %s", p->a->db_path,
					  sqlite3_errmsg(p->db));
			break;
		}
		rc = prune_tx(p, h, first, &done, &pseq, plink);
		if (!rc && sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			rc = audit_seterr(p->a, -EIO, "audit store %s: commit failed: %s", p->a->db_path,
					  sqlite3_errmsg(p->db));
		if (rc) {
			sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
			break;
		}
		if (pseq) {
			p->r->prune_seq = pseq;
			rc = audit_anchor_advance(p->a, h, pseq, plink);
			if (rc)
				audit_seterr(p->a, rc, "audit: cannot update the chain anchor %s: %s", p->a->anchor_path,
					     strerror(-rc));
		}
		first = false;
	}
	sqlite3_exec(p->db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
	return rc;
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int prune_on(struct audit *a, sqlite3 *db, struct audit_hmac *h, const struct audit_prune_opts *o,
		    struct audit_prune_result *r)
{
	struct plan p = { .a = a, .db = db, .now = o->now_ns ? o->now_ns : wall_ns(), .r = r,
			  .expired = json_array() };
	struct audit_base b;
	memset(r, 0, sizeof *r);
	if (!p.expired)
		return -ENOMEM;
	int rc = audit_base_read(a, db, h, &b);
	if (rc == -EBADMSG)
		rc = audit_seterr(a, rc, "not pruning: %s; run `agentsh audit verify`", a->err);
	p.base = r->base_before = b.seq;
	/* one snapshot: rows a concurrent session appends meanwhile must not
	 * look like part of the prefix (they would be deleted) */
	if (!rc && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	else if (!rc) {
		rc = make_plan(&p, o->max_events);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (!rc) {
		r->through_seq = p.through;
		r->events = p.through - p.base;
		if (!r->events)
			r->sessions = 0;
	}
	if (!rc && r->events && !o->dry_run)
		rc = run_batches(&p, h);
	json_decref(p.expired);
	return rc;
}

int audit_prune(struct audit *a, const struct audit_prune_opts *o, struct audit_prune_result *r)
{
	static const struct audit_prune_opts none;
	struct audit_hmac *h;
	if (!a || a->readonly)
		return a ? audit_seterr(a, -EROFS, "pruning needs the store open for writing (as its owner)") : -EINVAL;
	/* its own MAC context: a->mac belongs to the writer thread */
	int rc = audit_db_ready(a);
	rc = rc ? rc : audit_hmac_for(a, &h);
	if (rc)
		return rc;
	rc = prune_on(a, a->db, h, o ? o : &none, r);
	audit_hmac_free(h);
	return rc;
}

/* Every session start asks; almost always the answer is no.  One query on the
 * side table says whether the oldest event's session could have expired: a
 * "no" from it only skips this prune (a later one sees the same rows), a
 * "maybe" takes the full, chained path. */
static bool may_expire(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sessions s WHERE s.session_id = (SELECT session_id FROM events "
			       "ORDER BY seq LIMIT 1) AND s.retention_days > 0 AND (s.ended_ns IS NULL OR "
			       "?1 - s.ended_ns >= s.retention_days * 86400000000000)", -1, &st, NULL) != SQLITE_OK)
		return true;
	sqlite3_bind_int64(st, 1, wall_ns());
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc != SQLITE_DONE;
}

void audit_prune_auto(struct audit *a)
{
	struct audit_prune_opts o = { .max_events = PRUNE_AUTO_MAX };
	struct audit_prune_result r;
	if (!may_expire(a->wdb))
		return;
	int rc = prune_on(a, a->wdb, a->mac, &o, &r);
	if (!rc || rc == -EBUSY)
		return;         /* busy: another process is pruning or writing; the next session retries */
	/* on record, not fatal: refusing every session over an old damaged row
	 * would turn tampering into a denial of service; verify names the row */
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_PRUNE);
	ev.operation = "retention";
	ev.command_id = -1;
	ev.pid = getpid();
	ev.uid = getuid();
	ev.err = -rc;
	ev.layer = AUDIT_LAYER_SHELL;
	ev.message = a->err;
	audit_emit(a, &ev);
}
