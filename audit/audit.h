/* audit — the tamper-evident audit store (sqlite, WAL, HMAC-SHA256 chain),
 * the per-command event collector behind `--json`, and the read-back tools
 * (verify, export, query, tail, report, policy generation).
 *
 * Writing: open one `struct audit` per process, emit events from any thread.
 * audit_emit() copies the event into an in-memory queue and returns; a writer
 * thread batches the queue into sqlite transactions and extends the chain.
 * audit_flush() returns once everything emitted before it is durable
 * (committed with synchronous=FULL) — call it before a command's end is
 * reported to anyone.  See docs/audit.md for the exact guarantee.
 *
 * Errors: functions return 0 or -errno.  audit_strerror() gives the last
 * failure of a handle as a sentence (what failed, on what, what to do).
 */
#ifndef AGENTSH_AUDIT_H
#define AGENTSH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

enum audit_type {
	AUDIT_SESSION_START = 1,
	AUDIT_SESSION_END,
	AUDIT_POLICY_LOADED,
	AUDIT_COMMAND_START,
	AUDIT_COMMAND_END,
	AUDIT_EXEC,
	AUDIT_FILE,
	AUDIT_UNIX_SOCKET,
	AUDIT_NETWORK,
	AUDIT_DNS,
	AUDIT_SIGNAL,
	AUDIT_APPROVAL_REQUESTED,
	AUDIT_APPROVAL_RESOLVED,
	AUDIT_REDIRECT,
	AUDIT_SOFT_DELETE,
	AUDIT_LIMIT_HIT,
	AUDIT_DEGRADED,
	AUDIT_SURFACE_DENIED,   /* seccomp-kernel refusal of a forbidden syscall/ABI */
	AUDIT_PTY,              /* PTY activity (resize, approval prompt shown, ...) */
	AUDIT_PRUNE,            /* retention removed a prefix of the chain (or refused to) */
	AUDIT_TYPE_MAX
};

/* Policy vocabulary (policy/ decides; audit only records). */
enum audit_decision {
	AUDIT_DEC_NONE = 0,     /* no decision involved (e.g. session_start) */
	AUDIT_DEC_ALLOW,
	AUDIT_DEC_DENY,
	AUDIT_DEC_APPROVE,
	AUDIT_DEC_REDIRECT,
	AUDIT_DEC_AUDIT,
	AUDIT_DEC_SOFT_DELETE,
	AUDIT_DEC_MAX
};

enum audit_layer {
	AUDIT_LAYER_NONE = 0,
	AUDIT_LAYER_SECCOMP_KERNEL,
	AUDIT_LAYER_SECCOMP_NOTIFY,
	AUDIT_LAYER_LANDLOCK,
	AUDIT_LAYER_BPF,
	AUDIT_LAYER_CGROUP,
	AUDIT_LAYER_SUPERVISOR,
	AUDIT_LAYER_SHELL,
	AUDIT_LAYER_APPROVE,
	AUDIT_LAYER_MAX
};

/* Conventions the collector, report and policy generator rely on:
 *  - file events: operation is the policy's file operation word ("open",
 *    "write", "create", "delete"/"unlink", "rename", "mkdir", ...), path the
 *    absolute path, path2 the destination of rename/link;
 *  - exec: path = the binary, argv = the arguments;
 *  - network: address + port, dns_name when agentsh's resolver knew it;
 *  - effective REDIRECT: path = what was asked for, path2/argv = what ran;
 *  - effective SOFT_DELETE: details {"trash_token": T} (or a note containing
 *    "agentsh trash restore T");
 *  - approval_resolved: effective ALLOW/DENY, details {"outcome": "approved" |
 *    "denied" | "timeout", ...}; the operation itself is reported again by
 *    the enforcer with decision APPROVE and its effective outcome.
 * An event is "blocked" when its effective decision is DENY (or it is a
 * surface_denied), approval answers excepted. */

/* One event.  Every pointer is borrowed: audit_emit() copies what it needs.
 * Numeric fields use -1 for "not applicable"; start from AUDIT_EVENT_INIT so
 * that pid 0 / uid 0 are never recorded by accident.
 * NULL strings are stored as NULL. */
struct audit_event {
	enum audit_type type;
	const char *operation;      /* "open", "write", "unlink", "rename", "connect", "execve", ... */

	/* target */
	const char *path;           /* file, exec'd binary, unix socket path */
	const char *path2;          /* rename/link destination, redirect target binary */
	const char *argv;           /* argv joined by single spaces (shell-quoted by the caller if it wants) */
	const char *address;        /* remote IP address (text) */
	int64_t port;
	const char *dns_name;       /* the name that resolved to address, or the queried name */
	int64_t signal;
	int64_t target_pid;

	/* subject */
	int64_t pid, ppid, uid;

	/* decision */
	enum audit_decision decision;   /* what the policy said */
	enum audit_decision effective;  /* what happened (approve -> allow/deny after the human) */
	const char *rule;           /* name of the rule that matched ("default-deny-files", ...) */
	const char *message;        /* human-readable reason / note */
	int64_t err;                /* errno returned to the process (positive), 0 none, -1 n/a */
	enum audit_layer layer;
	/* a denial that changes nothing the agent could act on: the kernel
	 * would refuse it too, or it reads the session's own process state (ps
	 * reads every process's environ).  Recorded (the reason is in details),
	 * not announced, not reported as blocked. */
	bool quiet;

	/* context; NULL/0: filled from the handle (its session, current command) */
	const char *session_id;
	int64_t command_id;         /* per-session command number; 0 = the current one */
	const char *command;        /* the command line (command_start; optional elsewhere) */
	int64_t ts_ns;              /* wall clock, ns since epoch; 0 = now */

	/* command_end */
	int64_t exit_status;        /* exit code, or 128+signal */
	int64_t duration_us, cpu_user_us, cpu_sys_us, peak_rss_kb;

	/* approvals, soft delete, redirect */
	const char *approval_id;
	const char *approver;       /* who answered (user name), approval_resolved */
	const char *details;        /* optional JSON object text with anything else (trash token, ...) */
};

#define AUDIT_EVENT_INIT(t) ((struct audit_event){ .type = (t), .port = -1, .signal = -1, \
	.target_pid = -1, .pid = -1, .ppid = -1, .uid = -1, .err = -1, .exit_status = -1, \
	.duration_us = -1, .cpu_user_us = -1, .cpu_sys_us = -1, .peak_rss_kb = -1 })

const char *audit_type_name(enum audit_type t);          /* "file", "command_end", ... */
int audit_type_parse(const char *name, enum audit_type *out);
const char *audit_decision_name(enum audit_decision d);  /* "allow", "deny", ..., "" for NONE */
int audit_decision_parse(const char *name, enum audit_decision *out);
const char *audit_layer_name(enum audit_layer l);        /* "seccomp-kernel", ... */

struct audit_opts {
	const char *session_id;     /* default session of emitted events; NULL: generated */
	bool readonly;              /* open an existing store for reading only (verify/query/report) */
	bool no_owner_check;        /* tests only: skip "root-owned 0700 dir / 0600 file" checks */
	const char *key_path;       /* NULL: <db>.key next to the db */
	size_t queue_max;           /* events held in memory before audit_emit fails; 0: default (1M) */
	int busy_timeout_ms;        /* waiting for another writer; 0: default 10000 */
	/* false (default): a commit is in the kernel's page cache when it returns
	 * (survives the process being killed, not an OS crash); true: fsynced
	 * (survives an OS crash too, ~2 fsyncs per commit).  docs/audit.md. */
	bool sync_full;
	/* The session's audit.retention_days from its policy; 0: kept forever.
	 * Recorded (chained) in session_start by audit_session_begin(), which
	 * also prunes expired sessions once session_start is durable. */
	unsigned retention_days;
	/* The caller flushes (audit_flush) before it reports or runs anything, so
	 * the sqlite work of opening a current store (rebuilding the WAL index,
	 * which reads the whole WAL when no other process has the store open)
	 * may move to the writer thread, overlapping with the caller's next
	 * work; a store that then fails to open fails that flush.  Without it,
	 * audit_open() itself opens and checks the store.  New, older-schema and
	 * read-only stores are always opened in audit_open(). */
	bool defer_open;
};

struct audit;

/* Default store path: /var/lib/agentsh/audit.db as root; as another user
 * $XDG_STATE_HOME/agentsh/audit.db (reduced mode, not tamper-resistant
 * against that user; reported by doctor). Returns a static string. */
const char *audit_default_path(void);

/* Open (creating if needed) the store.  Creates the directory 0700 and the db
 * 0600 owned by the caller; refuses a directory or db writable by anyone else.
 * Sets WAL, runs schema migrations and loads (or creates, 0600) the HMAC key
 * (not for readonly).  The writer thread starts with the first event and
 * opens its own connection then (a failure there fails audit_flush()); see
 * defer_open.  On failure *out is still set (audit_strerror() says why;
 * audit_close() it). */
int audit_open(const char *db_path, const struct audit_opts *opts, struct audit **out);

/* Queue an event.  Thread-safe, O(1), never touches the disk (the first call
 * starts the writer thread).  Not async-signal-safe, and not for a forked
 * child before it execs (the queue lock may have been held at fork).  Returns
 * -ENOBUFS when the queue is full (writer stuck): the caller decides (the
 * enforcer fails closed), -EIO once the writer has failed. */
int audit_emit(struct audit *a, const struct audit_event *ev);

/* Wait until everything emitted so far (by this handle) is committed. */
int audit_flush(struct audit *a);
/* Start the writer thread now rather than with the first event: with
 * defer_open it opens the store (WAL index, statements, HMAC) while the caller
 * goes on; a failure there fails the next audit_flush().  NULL or read-only:
 * no-op.  0 or -errno (the thread could not start). */
int audit_prepare(struct audit *a);
/* The retention recorded by audit_session_begin(), for a store opened before
 * the policy that sets it was loaded (audit_opts.retention_days otherwise). */
void audit_set_retention(struct audit *a, unsigned days);
/* Ask the writer to commit what is queued now rather than linger for more, and
 * return at once: the commit overlaps with the caller's next work, and a later
 * audit_flush() only waits for what is left.  NULL or read-only: no-op. */
void audit_commit_soon(struct audit *a);

/* Flush, stop the writer, close.  NULL is a no-op. */
void audit_close(struct audit *a);

const char *audit_strerror(const struct audit *a);
const char *audit_session_id(const struct audit *a);

/* Session bracketing for the shell: session_start (mode: "interactive",
 * "command", "json", ...; uid = the account) and policy_loaded (name and
 * source file, NULL when none), and at the end session_end with the exit
 * status, flushed. */
int audit_session_begin(struct audit *a, int64_t uid, const char *mode, const char *policy_name,
			const char *policy_source);
int audit_session_end(struct audit *a, int64_t exit_status);

/* Command bracketing for the shell: emits command_start (line) and makes it
 * the current command of the handle (events with command_id 0 attach to it).
 * audit_command_end emits command_end with the result and flushes, unless
 * session_ends says the caller ends the session next: then the session end's
 * flush makes both durable in one commit (one writer round trip less on the
 * way out of every `-c`). */
int audit_command_begin(struct audit *a, const char *line, int64_t *command_id);
struct audit_command_result {
	int64_t exit_status;
	int64_t duration_us, cpu_user_us, cpu_sys_us, peak_rss_kb;
	const char *message;        /* e.g. "timed out", NULL */
	bool session_ends;          /* audit_session_end() follows at once: no flush of its own */
};
int audit_command_end(struct audit *a, int64_t command_id, const struct audit_command_result *r);

/* ---- per-command collector (fills the JSON result's events/guidance) ---- */

enum audit_events_mode { AUDIT_EVENTS_NONE, AUDIT_EVENTS_BLOCKED, AUDIT_EVENTS_SUMMARY, AUDIT_EVENTS_ALL };
int audit_events_mode_parse(const char *s, enum audit_events_mode *out);

struct audit_blocked {              /* the first blocked operation */
	char *type, *operation, *target, *rule, *message;
	char *note;                     /* the enforcer's note (details.note), e.g. why an approval failed */
	enum audit_decision decision, effective;
	enum audit_layer layer;
};

struct audit_summary {
	size_t file, network, blocked, other;   /* counts by bucket (blocked also counted in its bucket) */
	size_t approvals_denied, approvals_timed_out, soft_deletes, redirects, limits_hit;
	bool has_blocked;
	struct audit_blocked first_blocked;
	bool has_redirect;
	char *redirect_from, *redirect_to, *redirect_reason;
	bool has_soft_delete;
	char *soft_delete_path, *soft_delete_token;
	bool approval_required;                 /* a blocked op was an approve rule */
};

struct audit_collector;
/* Start collecting every event this handle emits for command_id (0: current). */
int audit_collect_begin(struct audit *a, int64_t command_id, struct audit_collector **out);
/* Stop collecting (keeps what was collected).  Safe to call twice. */
void audit_collect_end(struct audit *a, struct audit_collector *c);
const struct audit_summary *audit_collect_summary(const struct audit_collector *c);
/* The JSON result's "events" object for mode (new reference). */
json_t *audit_collect_events_json(const struct audit_collector *c, enum audit_events_mode mode);
void audit_collector_free(struct audit_collector *c);

/* One event as a JSON object (the export / events query format). */
json_t *audit_event_json(const struct audit_event *ev, int64_t seq);

/* ---- verification ---- */
struct audit_verify_result {
	bool ok;
	int64_t events;             /* rows checked */
	int64_t first_bad_seq;      /* -1 when ok */
	char reason[256];           /* "link mismatch", "missing sequence", "tail truncated", ... */
	int64_t anchor_seq;         /* tail recorded in the root-only anchor, -1 none */
	int64_t pruned_through;     /* the MACed pruned-through record's sequence, 0 none */
	int64_t pruned_events;      /* events removed by retention so far */
};
int audit_verify(struct audit *a, struct audit_verify_result *r);

/* ---- retention ----
 * The chain is one global sequence, so retention removes only a prefix: the
 * longest run of events from the start whose sessions have all expired (a
 * session expires retention_days after it ended; one that never ended counts
 * once its process is gone, from its last event).  A session with no recorded
 * retention (0, or a store older than schema 2) is kept forever and stops
 * pruning at its first event.  The removed prefix is replaced by a MACed
 * pruned-through record that verify starts from.  docs/audit.md. */
struct audit_prune_opts {
	bool dry_run;               /* plan only: nothing is deleted or written */
	int64_t now_ns;             /* 0: the wall clock (tests pass a fake one) */
	int64_t max_events;         /* 0: no limit; otherwise stop after this many */
};
struct audit_prune_result {
	int64_t base_before;        /* pruned-through sequence before this run (0 none) */
	int64_t through_seq;        /* ... and after it (the plan's, when dry_run) */
	int64_t events;             /* events deleted (would be, when dry_run) */
	int64_t sessions;           /* expired sessions whose events were (would be) deleted */
	int64_t prune_seq;          /* sequence of the prune event written, 0 none */
	/* why pruning stopped where it did */
	int64_t stop_seq;           /* first event kept, 0: none (store empty after the prefix) */
	char stop_session[128];
	char stop_reason[128];      /* "kept forever (no retention)", "still running", "expires 2026-..." */
};
/* Needs a read-write handle.  Prunes in transactions of a few thousand events;
 * verifies the chain of every row before deleting it (-EBADMSG with the bad
 * sequence in audit_strerror() when it fails: pruning would erase evidence).
 * Writes one prune event (who, how many, through which sequence). */
int audit_prune(struct audit *a, const struct audit_prune_opts *o, struct audit_prune_result *r);

/* ---- command-line entry points (argv[0] is the subcommand name) ---- */
struct audit_cli_env {
	const char *db_path;        /* NULL: audit_default_path() */
	FILE *out, *err;            /* NULL: stdout / stderr */
	bool no_owner_check;        /* tests */
};
int audit_cli(int argc, char **argv, const struct audit_cli_env *env);          /* audit verify|export|prune */
int events_cli(int argc, char **argv, const struct audit_cli_env *env);         /* events query|tail */
int report_cli(int argc, char **argv, const struct audit_cli_env *env);         /* report */
int policy_generate_cli(int argc, char **argv, const struct audit_cli_env *env);/* policy generate */

#endif
