/* The write path: audit_emit() queues, one writer thread per handle turns the
 * queue into sqlite transactions that extend the HMAC chain.
 *
 * Several agentsh processes share one store, so the chain tail is read inside
 * the write transaction (BEGIN IMMEDIATE takes sqlite's write lock): appends
 * from different processes serialise and each batch links onto whatever tail
 * is current.  A batch is everything queued when the writer wakes (capped by
 * AUDIT_BATCH_MAX), so under load one fsync covers many events. */
#include "audit/audit_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { ST_TAIL, ST_INSERT, ST_SESSION, ST_SESSION_END, ST_CMD, ST_CMD_END, ST_APPR, ST_APPR_END, ST_N };
static const char *const wsql[ST_N] = {
	[ST_TAIL] = "SELECT seq, link FROM events ORDER BY seq DESC LIMIT 1",
	[ST_INSERT] = "INSERT INTO events(" AUDIT_ROW_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
		      "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
	[ST_SESSION] = "INSERT OR IGNORE INTO sessions(session_id, started_ns, uid, pid, first_seq, "
		       "retention_days) VALUES(?,?,?,?,?,?)",
	[ST_SESSION_END] = "UPDATE sessions SET ended_ns = ?2, last_seq = ?3 WHERE session_id = ?1",
	[ST_CMD] = "INSERT OR REPLACE INTO commands(session_id, command_id, line, started_ns, start_seq) "
		   "VALUES(?,?,?,?,?)",
	[ST_CMD_END] = "UPDATE commands SET ended_ns = ?3, exit_status = ?4, duration_us = ?5, "
		       "cpu_user_us = ?6, cpu_sys_us = ?7, peak_rss_kb = ?8 "
		       "WHERE session_id = ?1 AND command_id = ?2",
	[ST_APPR] = "INSERT OR REPLACE INTO approvals(approval_id, session_id, command_id, requested_ns, "
		    "operation, target, rule, request_seq) VALUES(?,?,?,?,?,?,?,?)",
	[ST_APPR_END] = "UPDATE approvals SET resolved_ns = ?2, outcome = ?3, approver = ?4, resolve_seq = ?5 "
			"WHERE approval_id = ?1",
};

static int writer_thread_locked(struct audit *a);

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int audit_emit(struct audit *a, const struct audit_event *ev)
{
	if (!a || !ev)
		return -EINVAL;
	if (a->readonly)
		return -EROFS;
	struct audit_rec *r = audit_rec_new(ev);
	if (!r)
		return -ENOMEM;
	if (!r->ev.ts_ns)
		r->ev.ts_ns = now_ns();
	if (!r->ev.session_id)
		r->ev.session_id = a->session_id;   /* lives as long as the handle */
	int rc = 0;
	pthread_mutex_lock(&a->mu);
	if (a->writer_err)
		rc = -EIO;
	else if (a->q_len >= a->q_max)
		rc = -ENOBUFS;
	else
		rc = writer_thread_locked(a);
	if (!rc) {
		if (r->ev.command_id == 0)
			r->ev.command_id = a->current_command ? a->current_command : -1;
		/* every event of the running command carries its line */
		if (!r->ev.command && a->cur_line && r->ev.command_id == a->current_command) {
			r->line = a->cur_line;
			__atomic_add_fetch(&r->line->refs, 1, __ATOMIC_ACQ_REL);
			r->ev.command = r->line->s;
		}
		*a->q_tail = r;
		a->q_tail = &r->next;
		a->q_len++;
		a->emitted++;
		audit_collect_event(a, r);
		/* wake the writer when there is work, or a full batch to cut a linger short */
		if (a->q_len == 1 || a->q_len == AUDIT_BATCH_MAX)
			pthread_cond_signal(&a->cv_work);
	}
	pthread_mutex_unlock(&a->mu);
	if (rc)
		audit_rec_free(r);
	return rc;
}

int audit_flush(struct audit *a)
{
	if (!a)
		return -EINVAL;
	if (a->readonly)
		return 0;
	pthread_mutex_lock(&a->mu);
	uint64_t target = a->emitted;
	a->flush_waiters++;
	while (a->committed < target && !a->writer_err) {
		pthread_cond_signal(&a->cv_work);
		pthread_cond_wait(&a->cv_done, &a->mu);
	}
	a->flush_waiters--;
	int rc = a->writer_err;
	if (!rc && !a->flushed) {
		/* answered, even if the commits it needed were asked for with
		 * audit_commit_soon(): idle work may start (wait_work) */
		a->flushed = true;
		pthread_cond_signal(&a->cv_work);
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int audit_prepare(struct audit *a)
{
	if (!a || a->readonly)
		return 0;
	pthread_mutex_lock(&a->mu);
	int rc = writer_thread_locked(a);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

void audit_set_retention(struct audit *a, unsigned days)
{
	if (a)
		a->retention_days = days;
}

void audit_commit_soon(struct audit *a)
{
	if (!a || a->readonly)
		return;
	pthread_mutex_lock(&a->mu);
	a->commit_soon = true;
	pthread_cond_signal(&a->cv_work);
	pthread_mutex_unlock(&a->mu);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static void bind_name(sqlite3_stmt *st, int i, const char *name)
{
	bind_text(st, i, name && *name ? name : NULL);
}

static void bind_event(sqlite3_stmt *st, const struct audit_event *e, int64_t seq, const unsigned char *link)
{
	int i = 1;
	sqlite3_bind_int64(st, i++, seq);
	sqlite3_bind_int64(st, i++, e->ts_ns);
	bind_text(st, i++, e->session_id);
	bind_int(st, i++, e->command_id);
	bind_text(st, i++, audit_type_name(e->type));
	bind_text(st, i++, e->operation);
	bind_text(st, i++, e->path);
	bind_text(st, i++, e->path2);
	bind_text(st, i++, e->argv);
	bind_text(st, i++, e->address);
	bind_int(st, i++, e->port);
	bind_text(st, i++, e->dns_name);
	bind_int(st, i++, e->signal);
	bind_int(st, i++, e->target_pid);
	bind_int(st, i++, e->pid);
	bind_int(st, i++, e->ppid);
	bind_int(st, i++, e->uid);
	bind_name(st, i++, audit_decision_name(e->decision));
	bind_name(st, i++, audit_decision_name(e->effective));
	bind_text(st, i++, e->rule);
	bind_text(st, i++, e->message);
	bind_int(st, i++, e->err);
	bind_name(st, i++, audit_layer_name(e->layer));
	bind_text(st, i++, e->command);
	bind_int(st, i++, e->exit_status);
	bind_int(st, i++, e->duration_us);
	bind_int(st, i++, e->cpu_user_us);
	bind_int(st, i++, e->cpu_sys_us);
	bind_int(st, i++, e->peak_rss_kb);
	bind_text(st, i++, e->approval_id);
	bind_text(st, i++, e->approver);
	bind_text(st, i++, e->details);
	sqlite3_bind_blob(st, i++, link, AUDIT_LINK_LEN, SQLITE_STATIC);
}

static int step(struct audit *a, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return audit_seterr(a, -EIO, "audit store %s: write failed: %s", a->db_path, sqlite3_errmsg(a->wdb));
	return 0;
}

static const char *target_of(const struct audit_event *e)
{
	return e->path ? e->path : e->dns_name ? e->dns_name : e->address ? e->address : e->argv;
}

/* Statements are prepared on first use: a session that never asks for an
 * approval never pays for the approval statements. */
static sqlite3_stmt *wst(struct audit *a, int i)
{
	if (!a->wst[i] && sqlite3_prepare_v3(a->wdb, wsql[i], -1, SQLITE_PREPARE_PERSISTENT, &a->wst[i], NULL) != SQLITE_OK)
		audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->wdb));
	return a->wst[i];
}

/* The sessions/commands/approvals tables are indexes derived from the events;
 * the chained events table stays the authority. */
static int side_tables(struct audit *a, const struct audit_event *e, int64_t seq)
{
	sqlite3_stmt *st = NULL;
	static const int which[AUDIT_TYPE_MAX] = {
		[AUDIT_SESSION_START] = ST_SESSION, [AUDIT_SESSION_END] = ST_SESSION_END,
		[AUDIT_COMMAND_START] = ST_CMD, [AUDIT_COMMAND_END] = ST_CMD_END,
		[AUDIT_APPROVAL_REQUESTED] = ST_APPR, [AUDIT_APPROVAL_RESOLVED] = ST_APPR_END,
	};
	if (e->type > 0 && e->type < AUDIT_TYPE_MAX && which[e->type] && !wst(a, which[e->type]))
		return -EIO;
	switch (e->type) {
	case AUDIT_SESSION_START:
		st = a->wst[ST_SESSION];
		bind_text(st, 1, e->session_id);
		sqlite3_bind_int64(st, 2, e->ts_ns);
		bind_int(st, 3, e->uid);
		bind_int(st, 4, e->pid);
		sqlite3_bind_int64(st, 5, seq);
		bind_int(st, 6, audit_session_retention(e->details) ?: -1);
		break;
	case AUDIT_SESSION_END:
		st = a->wst[ST_SESSION_END];
		bind_text(st, 1, e->session_id);
		sqlite3_bind_int64(st, 2, e->ts_ns);
		sqlite3_bind_int64(st, 3, seq);
		break;
	case AUDIT_COMMAND_START:
		st = a->wst[ST_CMD];
		bind_text(st, 1, e->session_id);
		bind_int(st, 2, e->command_id);
		bind_text(st, 3, e->command);
		sqlite3_bind_int64(st, 4, e->ts_ns);
		sqlite3_bind_int64(st, 5, seq);
		break;
	case AUDIT_COMMAND_END:
		st = a->wst[ST_CMD_END];
		bind_text(st, 1, e->session_id);
		bind_int(st, 2, e->command_id);
		sqlite3_bind_int64(st, 3, e->ts_ns);
		bind_int(st, 4, e->exit_status);
		bind_int(st, 5, e->duration_us);
		bind_int(st, 6, e->cpu_user_us);
		bind_int(st, 7, e->cpu_sys_us);
		bind_int(st, 8, e->peak_rss_kb);
		break;
	case AUDIT_APPROVAL_REQUESTED:
		if (!e->approval_id)
			return 0;
		st = a->wst[ST_APPR];
		bind_text(st, 1, e->approval_id);
		bind_text(st, 2, e->session_id);
		bind_int(st, 3, e->command_id);
		sqlite3_bind_int64(st, 4, e->ts_ns);
		bind_text(st, 5, e->operation);
		bind_text(st, 6, target_of(e));
		bind_text(st, 7, e->rule);
		sqlite3_bind_int64(st, 8, seq);
		break;
	case AUDIT_APPROVAL_RESOLVED:
		if (!e->approval_id)
			return 0;
		st = a->wst[ST_APPR_END];
		bind_text(st, 1, e->approval_id);
		sqlite3_bind_int64(st, 2, e->ts_ns);
		bind_name(st, 3, audit_decision_name(e->effective));
		bind_text(st, 4, e->approver);
		sqlite3_bind_int64(st, 5, seq);
		break;
	default:
		return 0;
	}
	return step(a, st);
}

static int read_tail(struct audit *a, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	sqlite3_stmt *st = a->wst[ST_TAIL];         /* prepared in writer_init */
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		if (sqlite3_column_bytes(st, 1) != AUDIT_LINK_LEN)
			rc = SQLITE_CORRUPT;
		else
			memcpy(link, sqlite3_column_blob(st, 1), AUDIT_LINK_LEN);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		/* empty: the chain resumes from the pruned-through record, if any */
		struct audit_base b;
		int brc = audit_base_read(a, a->wdb, a->mac, &b);
		if (brc)
			return brc;
		*seq = b.seq;
		memcpy(link, b.link, AUDIT_LINK_LEN);
		return 0;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return audit_seterr(a, -EIO, "audit store %s: cannot read the chain tail: %s", a->db_path,
				    rc == SQLITE_CORRUPT ? "the last row has no valid link (run: agentsh audit verify)" :
				    sqlite3_errmsg(a->wdb));
	return 0;
}

static int wexec(struct audit *a, const char *sql)
{
	int rc = sqlite3_exec(a->wdb, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	return audit_seterr(a, rc == SQLITE_BUSY ? -EBUSY : -EIO, "audit store %s: %s failed: %s",
			    a->db_path, sql, sqlite3_errmsg(a->wdb));
}

static int append(struct audit *a, struct audit_rec *batch, int64_t *last, unsigned char link[AUDIT_LINK_LEN])
{
	int64_t seq = 0;
	int rc = read_tail(a, &seq, link);
	for (struct audit_rec *r = batch; !rc && r; r = r->next) {
		r->seq = ++seq;
		ssize_t n = audit_canon(&r->ev, r->seq, &a->cbuf, &a->ccap);
		if (n < 0)
			return (int)n;
		if ((rc = audit_hmac2(a->mac, link, AUDIT_LINK_LEN, a->cbuf, (size_t)n, link)))
			return audit_seterr(a, rc, "audit: HMAC computation failed (OpenSSL)");
		bind_event(a->wst[ST_INSERT], &r->ev, r->seq, link);
		rc = step(a, a->wst[ST_INSERT]);
		rc = rc ? rc : side_tables(a, &r->ev, r->seq);
	}
	*last = seq;
	return rc;
}

int audit_commit_batch(struct audit *a, struct audit_rec *batch)
{
	unsigned char link[AUDIT_LINK_LEN];
	int64_t last = 0;
	int rc = wexec(a, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = append(a, batch, &last, link);
	rc = rc ? rc : wexec(a, "COMMIT");
	if (rc) {
		sqlite3_exec(a->wdb, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	rc = audit_anchor_advance(a, a->mac, last, link);
	if (rc)
		audit_seterr(a, rc, "audit: cannot update the chain anchor %s: %s", a->anchor_path, strerror(-rc));
	return rc;
}

/* Another writer holding the lock past the busy timeout is not a reason to
 * lose events: retry, the queue holds them meanwhile. */
static int commit_retrying(struct audit *a, struct audit_rec *batch)
{
	int rc;
	for (int i = 0; i < 30; i++) {
		rc = audit_commit_batch(a, batch);
		if (rc != -EBUSY)
			return rc;
		usleep(100000);
	}
	return rc;
}

static void free_list(struct audit_rec *r)
{
	while (r) {
		struct audit_rec *n = r->next;
		audit_rec_free(r);
		r = n;
	}
}

static struct audit_rec *take_batch(struct audit *a, size_t *n)
{
	struct audit_rec *head = a->q_head, **pp = &a->q_head;
	/* the common case takes the whole queue in O(1): emitters wait on this lock */
	if (a->q_len <= AUDIT_BATCH_MAX) {
		*n = a->q_len;
		a->q_head = NULL;
		a->q_tail = &a->q_head;
		a->q_len = 0;
		return head;
	}
	size_t k = 0;
	while (*pp && k < AUDIT_BATCH_MAX) {
		pp = &(*pp)->next;
		k++;
	}
	a->q_head = *pp;
	*pp = NULL;
	if (!a->q_head)
		a->q_tail = &a->q_head;
	a->q_len -= k;
	*n = k;
	return head;
}

/* Events trickling in one at a time would each cost a commit (two fsyncs:
 * store and anchor).  Unless someone is waiting in audit_flush() or the
 * handle is closing, wait up to LINGER_MS for more before committing: the
 * decision path never waits for this, and flushes cut it short. */
#define LINGER_MS 5

static void linger(struct audit *a)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += LINGER_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!a->stop && !a->flush_waiters && !a->commit_soon && a->q_len < AUDIT_BATCH_MAX)
		if (pthread_cond_timedwait(&a->cv_work, &a->mu, &until) == ETIMEDOUT)
			break;
}

static int writer_init(struct audit *a);

/* Frames the WAL may hold before the writer checkpoints it when idle.  Every
 * process that opens the store first (a session's writer, `agentsh audit ...`)
 * rebuilds the WAL index by reading the whole WAL: with sqlite's default
 * (1,000 pages, checkpointed inside the commit that crosses it) that was up to
 * 4 MB and ~2 ms of every session's start.  Checkpointing at 256 frames keeps
 * it under 1 MB.  A checkpoint is two fsyncs (~5 ms here), and a flush that
 * arrives meanwhile waits for it, so it starts only once a flush has been
 * answered and nothing is queued: for the shell, once the command's start is
 * durable and the command runs (docs/audit.md). */
#define WAL_IDLE_FRAMES 256
#define WAL_MAX_FRAMES 1000     /* even when busy, as sqlite would (interactive sessions do not flush) */

static int wal_frames_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct audit *)arg)->wal_frames = frames;
	return SQLITE_OK;
}

/* What can wait until nobody waits for the writer: retention (once per session;
 * one query when nothing has expired, prune.c) and the WAL checkpoint.  Never
 * ahead of a flush, and not before a flush was answered (see WAL_IDLE_FRAMES). */
static bool idle_pending(const struct audit *a)
{
	return !a->writer_err && a->flushed &&
	       ((a->prune_pending && a->committed) || a->wal_frames >= WAL_IDLE_FRAMES);
}

static void checkpoint(struct audit *a)
{
	int log = 0, done = 0;
	if (sqlite3_wal_checkpoint_v2(a->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK &&
	    done >= log)
		a->wal_frames = 0;
}

/* Called with a->mu held and the queue empty: while no flush waits, or when
 * stopping (then without the checkpoint). */
static void idle_work(struct audit *a, bool checkpoint_too)
{
	bool prune = a->prune_pending && a->committed && !a->writer_err;
	if (prune)
		a->prune_pending = false;
	pthread_mutex_unlock(&a->mu);
	if (prune)
		audit_prune_auto(a);
	if (checkpoint_too && a->wal_frames >= WAL_IDLE_FRAMES)
		checkpoint(a);
	pthread_mutex_lock(&a->mu);
}

/* Sleep until there is work; idle work is done once the flush that asked for
 * the last commit has returned (its waiter leaves after our broadcast). */
static void wait_work(struct audit *a)
{
	while (!a->q_head && !a->stop) {
		if (idle_pending(a) && !a->flush_waiters) {
			idle_work(a, true);
			continue;
		}
		if (!idle_pending(a)) {
			pthread_cond_wait(&a->cv_work, &a->mu);
			continue;
		}
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&a->cv_work, &a->mu, &t);
	}
}

static void *writer_main(void *arg)
{
	struct audit *a = arg;
	/* wdb, wst and mac are this thread's alone: no lock */
	int irc = writer_init(a);
	pthread_mutex_lock(&a->mu);
	if (irc && !a->writer_err)
		a->writer_err = irc;
	for (;;) {
		wait_work(a);
		if (!a->q_head && a->stop) {
			/* a session that never left the writer idle still prunes once
			 * (no checkpoint: closing must stay quick) */
			idle_work(a, false);
			break;
		}
		linger(a);
		a->commit_soon = false;         /* this batch takes what it asked for */
		size_t n;
		struct audit_rec *batch = take_batch(a, &n);
		int err = a->writer_err;
		pthread_mutex_unlock(&a->mu);
		int rc = err ? err : commit_retrying(a, batch);
		free_list(batch);
		pthread_mutex_lock(&a->mu);
		if (rc && !a->writer_err)
			a->writer_err = rc;
		a->committed += n;
		pthread_cond_broadcast(&a->cv_done);
		if (!rc && a->wal_frames >= WAL_MAX_FRAMES) {
			pthread_mutex_unlock(&a->mu);
			checkpoint(a);
			pthread_mutex_lock(&a->mu);
		}
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

/* The writer's connection, opened by the thread itself (audit_open does not
 * wait for it): recovery of the WAL index, pragmas, statements, HMAC. */
static int writer_init(struct audit *a)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	if (sqlite3_open_v2(a->db_path, &a->wdb, flags, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "cannot open the audit store %s for writing: %s", a->db_path,
				    a->wdb ? sqlite3_errmsg(a->wdb) : "out of memory");
	sqlite3_busy_timeout(a->wdb, a->busy_timeout_ms);
	int rc = wexec(a, a->sync_full ? "PRAGMA synchronous=FULL; PRAGMA temp_store=MEMORY"
				       : "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY");
	if (!rc && sqlite3_db_config(a->wdb, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->wdb));
	/* index pages of a large store stay in memory across batches */
	rc = rc ? rc : wexec(a, "PRAGMA cache_size=-65536");
	/* replaces sqlite's auto-checkpoint: see idle_work() */
	if (!rc)
		sqlite3_wal_hook(a->wdb, wal_frames_hook, a);
	/* the two every commit uses; the first also reads the schema, so a store
	 * sqlite cannot use fails here, before any commit */
	if (!rc && (!wst(a, ST_TAIL) || !wst(a, ST_INSERT)))
		rc = -EIO;
	if (!rc && audit_hmac_new(a->key, &a->mac))
		rc = audit_seterr(a, -EIO, "audit: cannot set up HMAC-SHA256 (OpenSSL)");
	return rc;
}

/* The thread starts with the first event or audit_prepare(), not in
 * audit_open().  Called with a->mu held. */
static int writer_thread_locked(struct audit *a)
{
	if (a->writer_started)
		return 0;
	int rc = -pthread_create(&a->writer, NULL, writer_main, a);
	if (rc)
		return audit_seterr(a, rc, "audit: cannot start the writer thread: %s", strerror(-rc));
	a->writer_started = true;
	return 0;
}

void audit_writer_stop(struct audit *a)
{
	pthread_mutex_lock(&a->mu);
	bool started = a->writer_started;
	pthread_mutex_unlock(&a->mu);
	if (started) {
		pthread_mutex_lock(&a->mu);
		a->stop = true;
		pthread_cond_broadcast(&a->cv_work);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->writer, NULL);
		a->writer_started = false;
	}
	for (int i = 0; i < ST_N; i++) {
		sqlite3_finalize(a->wst[i]);
		a->wst[i] = NULL;
	}
	sqlite3_close(a->wdb);
	a->wdb = NULL;
	free(a->cbuf);
	a->cbuf = NULL;
	a->ccap = 0;
	free_list(a->q_head);
	a->q_head = NULL;
	a->q_tail = &a->q_head;
}

int audit_command_begin(struct audit *a, const char *line, int64_t *command_id)
{
	struct audit_line *l = audit_line_new(line);
	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&a->mu);
	int64_t id = a->next_command++;
	a->current_command = id;
	audit_line_put(a->cur_line);
	a->cur_line = l;
	pthread_mutex_unlock(&a->mu);
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_COMMAND_START);
	ev.command_id = id;
	ev.command = line;
	ev.pid = getpid();
	/* the account, not getuid(): root runs the supervisor for it (--user,
	 * or setuid after the privilege split) */
	pthread_mutex_lock(&a->mu);
	ev.uid = a->session_uid;
	pthread_mutex_unlock(&a->mu);
	ev.layer = AUDIT_LAYER_SHELL;
	*command_id = id;
	return audit_emit(a, &ev);
}

int audit_command_end(struct audit *a, int64_t command_id, const struct audit_command_result *r)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_COMMAND_END);
	ev.command_id = command_id;
	ev.exit_status = r->exit_status;
	ev.duration_us = r->duration_us;
	ev.cpu_user_us = r->cpu_user_us;
	ev.cpu_sys_us = r->cpu_sys_us;
	ev.peak_rss_kb = r->peak_rss_kb;
	ev.message = r->message;
	ev.layer = AUDIT_LAYER_SHELL;
	int rc = audit_emit(a, &ev);
	pthread_mutex_lock(&a->mu);
	if (a->current_command == command_id) {
		a->current_command = 0;
		audit_line_put(a->cur_line);
		a->cur_line = NULL;
	}
	pthread_mutex_unlock(&a->mu);
	int frc = r->session_ends ? 0 : audit_flush(a);
	return rc ? rc : frc;
}

int audit_session_begin(struct audit *a, int64_t uid, const char *mode, const char *policy_name,
			const char *policy_source)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
	char details[64];
	ev.operation = mode;
	ev.pid = getpid();
	ev.ppid = getppid();
	ev.uid = uid;
	ev.layer = AUDIT_LAYER_SHELL;
	/* in the chained row, so retention cannot be shortened by editing the
	 * (unchained) sessions table: prune reads it from here */
	if (a->retention_days) {
		snprintf(details, sizeof details, "{\"retention_days\":%u}", a->retention_days);
		ev.details = details;
	}
	pthread_mutex_lock(&a->mu);
	a->prune_pending = true;
	a->session_uid = uid;
	pthread_mutex_unlock(&a->mu);
	int rc = audit_emit(a, &ev);
	if (rc || (!policy_name && !policy_source))
		return rc;
	struct audit_event pl = AUDIT_EVENT_INIT(AUDIT_POLICY_LOADED);
	pl.path = policy_source;
	pl.message = policy_name;
	pl.layer = AUDIT_LAYER_SHELL;
	return audit_emit(a, &pl);
}

int audit_session_end(struct audit *a, int64_t exit_status)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SESSION_END);
	ev.pid = getpid();
	ev.exit_status = exit_status;
	ev.layer = AUDIT_LAYER_SHELL;
	int rc = audit_emit(a, &ev);
	int frc = audit_flush(a);
	return rc ? rc : frc;
}

int audit_session_retention(const char *details)
{
	if (!details || !strstr(details, "retention_days"))
		return 0;
	json_t *j = json_loads(details, 0, NULL);
	json_int_t v = json_integer_value(json_object_get(j, "retention_days"));
	json_decref(j);
	/* the policy's own bound; anything beyond it (not written by agentsh) is
	 * read as "forever", the direction that never deletes early */
	return v > 0 && v <= AUDIT_RETENTION_MAX_DAYS ? (int)v : 0;
}

static int tail_tx(struct audit *a, sqlite3 *db, struct audit_hmac *h, int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, wsql[ST_TAIL], -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	int rc = sqlite3_step(st), ret = 0;
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == AUDIT_LINK_LEN) {
		*seq = sqlite3_column_int64(st, 0);
		memcpy(link, sqlite3_column_blob(st, 1), AUDIT_LINK_LEN);
	} else if (rc == SQLITE_DONE) {
		struct audit_base b;
		ret = audit_base_read(a, db, h, &b);
		*seq = b.seq;
		memcpy(link, b.link, AUDIT_LINK_LEN);
	} else
		ret = audit_seterr(a, -EIO, "audit store %s: cannot read the chain tail (run: agentsh audit verify)",
				   a->db_path);
	sqlite3_finalize(st);
	return ret;
}

int audit_append_tx(struct audit *a, sqlite3 *db, struct audit_hmac *h, const struct audit_event *ev,
		    int64_t *seq, unsigned char link[AUDIT_LINK_LEN])
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = tail_tx(a, db, h, seq, link);
	if (rc)
		return rc;
	++*seq;
	ssize_t n = audit_canon(ev, *seq, &buf, &cap);
	rc = n < 0 ? (int)n : audit_hmac2(h, link, AUDIT_LINK_LEN, buf, (size_t)n, link);
	if (!rc && sqlite3_prepare_v2(db, wsql[ST_INSERT], -1, &st, NULL) != SQLITE_OK)
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(db));
	if (!rc) {
		bind_event(st, ev, *seq, link);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = audit_seterr(a, -EIO, "audit store %s: write failed: %s", a->db_path, sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	free(buf);
	return rc;
}
