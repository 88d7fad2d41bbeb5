/* Opening the store: location and ownership checks, schema and migrations. */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

/* Migrations: index i brings the schema from version i to i+1.  Never edit a
 * released step; append a new one.
 * No index on path or dns_name: --path-like/--domain-like are substring
 * matches an index cannot serve, and each index costs every insert (the
 * write rate is the budget that matters, docs/audit.md). */
static const char *const migrations[] = {
	"CREATE TABLE events("
	" seq INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, session_id TEXT, command_id INTEGER,"
	" type TEXT NOT NULL, operation TEXT, path TEXT, path2 TEXT, argv TEXT, address TEXT,"
	" port INTEGER, dns_name TEXT, signal INTEGER, target_pid INTEGER, pid INTEGER, ppid INTEGER,"
	" uid INTEGER, decision TEXT, effective TEXT, rule TEXT, message TEXT, err INTEGER, layer TEXT,"
	" command TEXT, exit_status INTEGER, duration_us INTEGER, cpu_user_us INTEGER,"
	" cpu_sys_us INTEGER, peak_rss_kb INTEGER, approval_id TEXT, approver TEXT, details TEXT,"
	" link BLOB NOT NULL);"
	"CREATE INDEX events_session ON events(session_id, command_id);"
	"CREATE INDEX events_type_ts ON events(type, ts_ns);"
	"CREATE INDEX events_ts ON events(ts_ns);"
	"CREATE INDEX events_denied ON events(effective) WHERE effective = 'deny';"
	"CREATE TABLE sessions(session_id TEXT PRIMARY KEY, started_ns INTEGER, ended_ns INTEGER,"
	" uid INTEGER, pid INTEGER, first_seq INTEGER, last_seq INTEGER);"
	"CREATE INDEX sessions_started ON sessions(started_ns);"
	"CREATE TABLE commands(session_id TEXT NOT NULL, command_id INTEGER NOT NULL, line TEXT,"
	" started_ns INTEGER, ended_ns INTEGER, exit_status INTEGER, duration_us INTEGER,"
	" cpu_user_us INTEGER, cpu_sys_us INTEGER, peak_rss_kb INTEGER, start_seq INTEGER,"
	" PRIMARY KEY(session_id, command_id));"
	"CREATE TABLE approvals(approval_id TEXT PRIMARY KEY, session_id TEXT, command_id INTEGER,"
	" requested_ns INTEGER, resolved_ns INTEGER, operation TEXT, target TEXT, rule TEXT,"
	" outcome TEXT, approver TEXT, request_seq INTEGER, resolve_seq INTEGER);",
	/* 2: retention.  A session's retention is recorded from its policy (NULL:
	 * kept forever, which is what every session of a version-1 store gets);
	 * chain_base is the MACed pruned-through record verify starts from
	 * (prune.c); the start_seq index serves the pruning of commands. */
	"ALTER TABLE sessions ADD COLUMN retention_days INTEGER;"
	"CREATE TABLE chain_base(id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL,"
	" link BLOB NOT NULL, count INTEGER NOT NULL, pruned_ns INTEGER NOT NULL, mac BLOB NOT NULL);"
	"CREATE INDEX commands_start ON commands(start_seq);",
};

int audit_seterr(struct audit *a, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->err, sizeof a->err, fmt, ap);
	va_end(ap);
	return rc;
}

const char *audit_strerror(const struct audit *a)
{
	return a ? a->err : "audit store not open";
}

const char *audit_session_id(const struct audit *a)
{
	return a->session_id;
}

/* The path may be chosen by the environment only when we are not running
 * setuid: an agent must not redirect the root store somewhere it can write. */
const char *audit_default_path(void)
{
	static char buf[4096];
	const char *env = getenv("AGENTSH_AUDIT_DB");
	if (env && *env && getuid() == geteuid() && getgid() == getegid())
		return env;
	if (geteuid() == 0)
		return "/var/lib/agentsh/audit.db";
	const char *st = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (st && *st)
		snprintf(buf, sizeof buf, "%s/agentsh/audit.db", st);
	else
		snprintf(buf, sizeof buf, "%s/.local/state/agentsh/audit.db", home ? home : "/tmp");
	return buf;
}

static int check_owner(struct audit *a, const char *what, const char *path, const struct stat *st, mode_t bad)
{
	if (st->st_uid != geteuid() || (st->st_mode & bad))
		return audit_seterr(a, -EPERM, "audit %s %s is owned by uid %u with mode %04o; it must be owned "
				    "by uid %u and not writable by others (fix: chown %u %s && chmod %s %s)",
				    what, path, st->st_uid, st->st_mode & 07777, geteuid(), geteuid(), path,
				    bad == 077 ? "600" : "700", path);
	return 0;
}

/* Parents of the store's directory (e.g. ~/.local/state in reduced mode):
 * created 0755 like any state directory; only the last one is private. */
static void mkdir_parents(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", dir);
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return;
		*p = '/';
	}
}

static const int latest_version = (int)(sizeof migrations / sizeof migrations[0]);
_Static_assert(sizeof migrations / sizeof migrations[0] == AUDIT_SCHEMA_VERSION, "AUDIT_SCHEMA_VERSION");

/* An SQLite header in WAL mode at the latest schema version: the store needs
 * nothing before its first write, so the sqlite work of opening it can go to
 * the writer thread (see audit_open).  Versions only grow, so the db file's
 * header at the latest version proves the schema even when the WAL holds a
 * newer page 1; anything else (a new, old or foreign file) takes the full path. */
static bool header_current(int fd)
{
	unsigned char h[100];
	if (pread(fd, h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h, "SQLite format 3", 16) != 0)
		return false;
	uint32_t v = (uint32_t)h[60] << 24 | (uint32_t)h[61] << 16 | (uint32_t)h[62] << 8 | h[63];
	return h[18] == 2 && h[19] == 2 && v == (uint32_t)latest_version;
}

static int prepare_location(struct audit *a, const struct audit_opts *o, bool *current)
{
	char *tmp = strdup(a->db_path);
	if (!tmp)
		return -ENOMEM;
	const char *dir = dirname(tmp);
	struct stat st;
	int rc = 0;
	if (!o->readonly)
		mkdir_parents(dir);
	if (!o->readonly && mkdir(dir, 0700) < 0 && errno != EEXIST)
		rc = audit_seterr(a, -errno, "cannot create the audit directory %s: %s (create it, owned by "
				  "uid %u, mode 0700)", dir, strerror(errno), geteuid());
	else if (stat(dir, &st) < 0)
		rc = audit_seterr(a, -errno, "cannot use the audit directory %s: %s", dir, strerror(errno));
	else if (!o->no_owner_check)
		rc = check_owner(a, "directory", dir, &st, 022);
	if (!rc && !o->readonly) {
		int fd = open(a->db_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = audit_seterr(a, -errno, "cannot open the audit store %s: %s", a->db_path, strerror(errno));
		else {
			if (fstat(fd, &st) == 0 && !o->no_owner_check)
				rc = check_owner(a, "store", a->db_path, &st, 077);
			*current = !rc && header_current(fd);
			close(fd);
		}
	}
	free(tmp);
	return rc;
}

static int exec_sql(struct audit *a, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(a->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		audit_seterr(a, -EIO, "audit store %s: %s (while running: %.60s...)", a->db_path,
			     msg ? msg : sqlite3_errmsg(a->db), sql);
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* Switching a new store to WAL needs its exclusive lock, and sqlite does not call the busy
 * handler while this connection holds a shared lock another one waits to upgrade (it would
 * deadlock): with many processes creating the same store at once (audit_load.sh: 20), one
 * could fail with "database is locked" at once.  Retried here, within the busy timeout. */
static int set_wal(struct audit *a)
{
	struct timespec nap = { 0, 5 * 1000 * 1000 };
	for (int waited = 0;; waited += 5) {
		int rc = sqlite3_exec(a->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || waited >= a->busy_timeout_ms)
			return exec_sql(a, "PRAGMA journal_mode=WAL");   /* once more, for the message */
		nanosleep(&nap, NULL);
	}
}

static int user_version(struct audit *a, int *v)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
	int rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return *v < 0 ? audit_seterr(a, -EIO, "audit store %s: cannot read its schema version: %s",
				     a->db_path, sqlite3_errmsg(a->db)) : 0;
}

/* Run every missing migration in one IMMEDIATE transaction, so two agentsh
 * processes opening a new store at once do not both create the tables. */
int audit_schema(struct audit *a)
{
	int v, rc;
	const int latest = latest_version;
	/* the usual case, a current store, needs no write lock (which would wait
	 * for whichever session is committing); the check is repeated under it */
	if (user_version(a, &v) == 0 && v == latest)
		return 0;
	if ((rc = exec_sql(a, "BEGIN IMMEDIATE")))
		return rc;
	if ((rc = user_version(a, &v)))
		goto out;
	if (v > latest) {
		rc = audit_seterr(a, -EPROTO, "audit store %s has schema version %d, newer than this agentsh "
				  "understands (%d): upgrade agentsh", a->db_path, v, latest);
		goto out;
	}
	for (; v < latest; v++) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if ((rc = exec_sql(a, migrations[v])) || (rc = exec_sql(a, pragma)))
			goto out;
	}
	return exec_sql(a, "COMMIT");
out:
	sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void new_session_id(char *buf, size_t len)
{
	unsigned char r[4] = { 0 };
	RAND_bytes(r, sizeof r);
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "s-%s-%02x%02x%02x%02x", ts, r[0], r[1], r[2], r[3]);
}

static int open_db(struct audit *a, const struct audit_opts *o, bool current)
{
	int flags = (o->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	if (o->readonly && access(a->db_path, F_OK) < 0)
		return audit_seterr(a, -errno, "no audit store at %s: %s (nothing recorded yet, or the store is "
				    "elsewhere: audit.db in /etc/agentsh/config.yaml)", a->db_path, strerror(errno));
	if (sqlite3_open_v2(a->db_path, &a->db, flags, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "cannot open the audit store %s: %s", a->db_path,
				    a->db ? sqlite3_errmsg(a->db) : "out of memory");
	sqlite3_busy_timeout(a->db, a->busy_timeout_ms);
	/* sqlite puts spilled sorts and statement journals in $TMPDIR: installed
	 * setuid, a directory the caller chose, where root has nothing to write */
	if (sqlite3_exec(a->db, "PRAGMA temp_store=MEMORY", NULL, NULL, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
	if (o->readonly) {
		int v, rc = user_version(a, &v);
		if (rc)
			return rc;
		if (v == 0)
			return audit_seterr(a, -ENOENT, "audit store %s is empty: nothing has been recorded yet",
					    a->db_path);
		return 0;
	}
	/* WAL is persistent: a header that says so needs no statement to set it,
	 * and the schema check below is then the only query (one read) */
	int rc = current ? 0 : set_wal(a);
	rc = rc ? rc : exec_sql(a, a->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
	/* the WAL is synced per commit (FULL) or left to the page cache (NORMAL);
	 * either way checkpointing belongs to the writer's auto-checkpoint, not
	 * to the close of every short session (that fsync was a third of the
	 * cost of `agentsh -c true`) */
	if (!rc && sqlite3_db_config(a->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)
		rc = audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
	return rc ? rc : audit_schema(a);
}

/* The key's bytes only: the writer thread builds its HMAC context (OpenSSL's
 * provider set-up is a third of a millisecond) off the caller's path. */
static int load_key(struct audit *a, bool create)
{
	int rc = audit_key_load(a->key_path, create, a->key, a->err, sizeof a->err);
	a->have_key = rc == 0;
	return rc;
}

int audit_db_ready(struct audit *a)
{
	static const struct audit_opts rw;
	return a->db ? 0 : open_db(a, &rw, false);
}

int audit_hmac_for(struct audit *a, struct audit_hmac **out)
{
	if (!a->have_key) {
		int rc = audit_key_load(a->key_path, false, a->key, a->err, sizeof a->err);
		if (rc)
			return rc;
		a->have_key = true;
	}
	return audit_hmac_new(a->key, out);
}

static char *suffixed(const char *path, const char *sfx)
{
	char *s = NULL;
	return asprintf(&s, "%s%s", path, sfx) < 0 ? NULL : s;
}

int audit_open(const char *db_path, const struct audit_opts *opts, struct audit **out)
{
	static const struct audit_opts defaults;
	const struct audit_opts *o = opts ? opts : &defaults;
	*out = NULL;
	struct audit *a = calloc(1, sizeof *a);
	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv_work, NULL);
	pthread_cond_init(&a->cv_done, NULL);
	a->q_tail = &a->q_head;
	a->q_max = o->queue_max ? o->queue_max : 1000000;
	a->busy_timeout_ms = o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 10000;
	a->readonly = o->readonly;
	a->sync_full = o->sync_full;
	a->retention_days = o->retention_days;
	a->next_command = 1;
	a->session_uid = getuid();     /* until audit_session_begin() names the account */
	a->db_path = strdup(db_path ? db_path : audit_default_path());
	a->key_path = a->db_path ? (o->key_path ? strdup(o->key_path) : suffixed(a->db_path, ".key")) : NULL;
	a->anchor_path = a->db_path ? suffixed(a->db_path, ".anchor") : NULL;
	if (o->session_id)
		snprintf(a->session_id, sizeof a->session_id, "%s", o->session_id);
	else
		new_session_id(a->session_id, sizeof a->session_id);
	int rc = !a->db_path || !a->key_path || !a->anchor_path ? -ENOMEM : 0;
	bool current = false;
	rc = rc ? rc : prepare_location(a, o, &current);
	/* The writer's connection, statements and HMAC context are always the
	 * writer thread's first work; with defer_open a current store is not
	 * touched here at all (audit.h).  New, old (migrations) and read-only
	 * stores are opened here. */
	if (!rc && (o->readonly || !current || !o->defer_open))
		rc = open_db(a, o, current);
	rc = rc ? rc : (o->readonly ? 0 : load_key(a, true));
	*out = a;       /* even on failure, so the caller can read audit_strerror() */
	return rc;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	audit_writer_stop(a);
	audit_line_put(a->cur_line);
	for (struct audit_collector *c = a->collectors; c; c = c->next)
		c->active = false;
	sqlite3_close(a->db);
	audit_hmac_free(a->mac);
	OPENSSL_cleanse(a->key, sizeof a->key);
	free(a->db_path);
	free(a->key_path);
	free(a->anchor_path);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv_work);
	pthread_cond_destroy(&a->cv_done);
	free(a);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int64_t col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

/* Decode a row selected with AUDIT_ROW_COLUMNS.  Strings stay owned by the
 * statement (valid until the next step).  -EBADMSG: a vocabulary column holds
 * something no agentsh writes (tampering or corruption). */
int audit_row_event(sqlite3_stmt *st, struct audit_event *ev, int64_t *seq, const void **link)
{
	*ev = AUDIT_EVENT_INIT(0);
	*seq = sqlite3_column_int64(st, 0);
	ev->ts_ns = sqlite3_column_int64(st, 1);
	ev->session_id = col_text(st, 2);
	ev->command_id = col_int(st, 3);
	int bad = audit_type_parse(col_text(st, 4), &ev->type);
	ev->operation = col_text(st, 5);
	ev->path = col_text(st, 6);
	ev->path2 = col_text(st, 7);
	ev->argv = col_text(st, 8);
	ev->address = col_text(st, 9);
	ev->port = col_int(st, 10);
	ev->dns_name = col_text(st, 11);
	ev->signal = col_int(st, 12);
	ev->target_pid = col_int(st, 13);
	ev->pid = col_int(st, 14);
	ev->ppid = col_int(st, 15);
	ev->uid = col_int(st, 16);
	bad |= audit_decision_parse(col_text(st, 17), &ev->decision);
	bad |= audit_decision_parse(col_text(st, 18), &ev->effective);
	ev->rule = col_text(st, 19);
	ev->message = col_text(st, 20);
	ev->err = col_int(st, 21);
	bad |= audit_layer_parse(col_text(st, 22), &ev->layer);
	ev->command = col_text(st, 23);
	ev->exit_status = col_int(st, 24);
	ev->duration_us = col_int(st, 25);
	ev->cpu_user_us = col_int(st, 26);
	ev->cpu_sys_us = col_int(st, 27);
	ev->peak_rss_kb = col_int(st, 28);
	ev->approval_id = col_text(st, 29);
	ev->approver = col_text(st, 30);
	ev->details = col_text(st, 31);
	if (link)
		*link = sqlite3_column_bytes(st, 32) == AUDIT_LINK_LEN ? sqlite3_column_blob(st, 32) : NULL;
	return bad ? -EBADMSG : 0;
}
