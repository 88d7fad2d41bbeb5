/* audit — private declarations shared by the module's files. */
#ifndef AGENTSH_AUDIT_INT_H
#define AGENTSH_AUDIT_INT_H

#include "audit/audit.h"

#include <pthread.h>
#include <sqlite3.h>

#define AUDIT_LINK_LEN 32               /* HMAC-SHA256 */
#define AUDIT_KEY_LEN 32
#define AUDIT_SCHEMA_VERSION 2          /* = number of migrations in store.c */
#define AUDIT_RETENTION_MAX_DAYS 100000  /* policy's bound; days * 1 day in ns fits in int64_t */
#define AUDIT_BATCH_MAX 16384           /* events per transaction: bounds lock hold time */

/* A queued event: a struct audit_event whose strings live in buf[]. */
/* The current command line, shared by every event of the command (so each
 * event carries its line without a copy per event).  refs is atomic: records
 * are released by the writer thread. */
struct audit_line {
	int refs;
	char s[];
};

struct audit_rec {
	struct audit_rec *next;
	struct audit_event ev;
	int64_t seq;                    /* assigned by the writer */
	struct audit_line *line;        /* ev.command points into it, or NULL */
	char buf[];
};

struct audit_collector {
	struct audit_collector *next;   /* in the handle's list while active */
	int64_t command_id;
	bool active;
	struct audit_summary sum;
	struct audit_rec *kept_head, **kept_tail;
	size_t kept, kept_blocked;
};

struct audit_hmac;                      /* keyed HMAC context, reusable */

struct audit {
	char *db_path, *key_path, *anchor_path;
	char session_id[64];
	bool readonly;
	sqlite3 *db;                    /* caller's connection (verify, queries) */
	sqlite3 *wdb;                   /* the writer thread's own connection */
	sqlite3_stmt *wst[8];           /* writer's cached statements */
	unsigned char *cbuf;            /* writer's canonical-serialisation buffer */
	size_t ccap;
	struct audit_hmac *mac;         /* writer thread only (made by it) */
	unsigned char key[AUDIT_KEY_LEN];
	bool have_key;
	char err[512];

	/* queue, guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	struct audit_rec *q_head, **q_tail;
	size_t q_len, q_max;
	uint64_t emitted, committed;    /* counts of events this handle queued / made durable */
	int writer_err;                 /* sticky: first write failure (-errno) */
	bool stop, writer_started;
	unsigned flush_waiters;         /* threads inside audit_flush(): commit now */
	bool commit_soon;               /* audit_commit_soon(): commit now, nobody waits */
	pthread_t writer;
	int64_t current_command, next_command;
	int64_t session_uid;            /* the account the session's commands run as */
	struct audit_line *cur_line;    /* line of current_command */
	struct audit_collector *collectors;
	int busy_timeout_ms;
	bool sync_full;                 /* fsync each commit (and the anchor) */
	unsigned retention_days;        /* this session's, recorded in session_start */
	bool prune_pending;             /* writer prunes when next idle (after session start) */
	int wal_frames;                 /* writer only: frames in the WAL after its last commit */
	bool flushed;                   /* an audit_flush() has returned 0 (set there) */
};

/* base.c: the MACed pruned-through record (table chain_base) */
struct audit_base {
	bool present;
	int64_t seq, count, ts_ns;      /* last pruned sequence, events pruned so far, when */
	unsigned char link[AUDIT_LINK_LEN];     /* the link of row seq: the chain resumes from it */
};
/* Absent: present=false, seq 0, genesis link.  -EBADMSG (audit_strerror says
 * why) when the record fails its MAC or is not unique. */
int audit_base_read(struct audit *a, sqlite3 *db, struct audit_hmac *h, struct audit_base *b);
/* Insert or replace the record (MAC computed here), inside the caller's transaction. */
int audit_base_write(struct audit *a, sqlite3 *db, struct audit_hmac *h, const struct audit_base *b);
/* The writer's retention pass after the session_start commit (writer thread,
 * on wdb): bounded, and a failure is recorded as a prune event, not fatal. */
void audit_prune_auto(struct audit *a);

/* names.c */
int audit_layer_parse(const char *name, enum audit_layer *out);
const char *audit_str_or_null(const char *s);

/* event.c */
struct audit_rec *audit_rec_new(const struct audit_event *ev);
struct audit_rec *audit_rec_clone(const struct audit_rec *r);
void audit_rec_free(struct audit_rec *r);
struct audit_line *audit_line_new(const char *s);
void audit_line_put(struct audit_line *l);
/* canonical, unambiguous byte serialisation of an event and its sequence
 * number; *buf grown with realloc.  Returns the length or -ENOMEM. */
ssize_t audit_canon(const struct audit_event *ev, int64_t seq, unsigned char **buf, size_t *cap);
bool audit_event_blocked(const struct audit_event *ev);

/* crypto.c */
int audit_key_load(const char *path, bool create, unsigned char key[AUDIT_KEY_LEN], char *err, size_t errlen);
int audit_hmac_new(const unsigned char key[AUDIT_KEY_LEN], struct audit_hmac **out);
void audit_hmac_free(struct audit_hmac *h);
/* out = HMAC(key, a || b) */
int audit_hmac2(struct audit_hmac *h, const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[AUDIT_LINK_LEN]);
void audit_genesis(struct audit_hmac *h, unsigned char out[AUDIT_LINK_LEN]);

/* anchor.c: the root-only tail record that makes truncation detectable */
int audit_anchor_advance(struct audit *a, struct audit_hmac *h, int64_t seq, const unsigned char link[AUDIT_LINK_LEN]);
/* 0 and *seq=-1 when there is no anchor; -EBADMSG when it fails its MAC */
int audit_anchor_read(struct audit *a, struct audit_hmac *h, int64_t *seq, unsigned char link[AUDIT_LINK_LEN]);

/* verify.c: check rows (after, through] (through < 0: to the end) against
 * the chain starting from link; link is advanced to the last good row.
 * r->ok false with first_bad_seq when a row fails. */
int audit_chain_range(struct audit *a, sqlite3 *db, struct audit_hmac *h, int64_t after,
		      unsigned char link[AUDIT_LINK_LEN], int64_t through, struct audit_verify_result *r);

/* store.c */
int audit_seterr(struct audit *a, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int audit_schema(struct audit *a);
/* a->db of a writable handle is opened on first use (audit_open leaves it to
 * the writer when the store is current): verify and prune call this */
int audit_db_ready(struct audit *a);
/* a fresh HMAC context keyed with the store's key (loads it if needed) */
int audit_hmac_for(struct audit *a, struct audit_hmac **out);
int audit_row_event(sqlite3_stmt *st, struct audit_event *ev, int64_t *seq, const void **link);
#define AUDIT_ROW_COLUMNS \
	"seq, ts_ns, session_id, command_id, type, operation, path, path2, argv, address, port, " \
	"dns_name, signal, target_pid, pid, ppid, uid, decision, effective, rule, message, err, layer, " \
	"command, exit_status, duration_us, cpu_user_us, cpu_sys_us, peak_rss_kb, approval_id, approver, " \
	"details, link"

/* writer.c */
void audit_writer_stop(struct audit *a);
int audit_commit_batch(struct audit *a, struct audit_rec *batch);
/* Append one event inside the caller's open write transaction on db (not the
 * writer's queue): the prune event commits atomically with its deletion.
 * The caller advances the anchor with *seq/link after COMMIT. */
int audit_append_tx(struct audit *a, sqlite3 *db, struct audit_hmac *h, const struct audit_event *ev,
		    int64_t *seq, unsigned char link[AUDIT_LINK_LEN]);
int audit_session_retention(const char *details);     /* details' retention_days, 0 none */

/* collect.c */
void audit_collect_event(struct audit *a, const struct audit_rec *r);   /* under a->mu */

/* cli_util.c */
int audit_cli_open(const struct audit_cli_env *env, struct audit **out, FILE *err);
/* The common start of a read-back command about one session (report,
 * policy generate, audit export): the store opened read-only, SESSION
 * resolved (NULL: "latest", or every session when all_if_null: sid ""), and
 * the output opened (--output FILE, else the env's stdout).  On failure it
 * has printed "<cmd>: why" and left nothing open. */
struct audit_cli_session {
	struct audit *a;
	FILE *out;
	const char *out_path;           /* NULL: out is not ours to close */
	char sid[128];
};
int audit_cli_session_open(const struct audit_cli_env *env, const char *cmd, const char *session,
			   bool all_if_null, const char *out_path, struct audit_cli_session *cs);
/* Closes the output (a failed write is reported as "<cmd>: writing FILE
 * failed") and the store.  Returns rc, or -EIO when rc was 0 and the output
 * could not be written. */
int audit_cli_session_close(const struct audit_cli_env *env, const char *cmd, struct audit_cli_session *cs, int rc);
int audit_parse_time(const char *s, int64_t *ns);
int audit_resolve_session(struct audit *a, const char *arg, char *out, size_t outlen);
void audit_fmt_time(int64_t ns, char *buf, size_t len);
void audit_fput_safe(const char *s, FILE *f);
size_t audit_utf8_seq(const unsigned char *p);
const char *audit_event_target(const struct audit_event *e);

#endif
