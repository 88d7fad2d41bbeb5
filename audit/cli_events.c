/* `agentsh events query|tail`. */
#include "audit/audit_int.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OUT(env) ((env) && (env)->out ? (env)->out : stdout)
#define ERR(env) ((env) && (env)->err ? (env)->err : stderr)

struct filter {
	const char *session, *type, *decision, *path_like, *domain_like;
	int64_t since, until, limit, follow_secs;
	bool json, has_since, has_until;
	char sid[128];
};

/* Every filter is a bound parameter: no user text reaches the SQL. */
static const char QSQL[] = "SELECT " AUDIT_ROW_COLUMNS " FROM events WHERE seq > ?1"
	" AND (?2 IS NULL OR session_id = ?2) AND (?3 IS NULL OR type = ?3)"
	" AND (?4 IS NULL OR effective = ?4 OR decision = ?4)"
	" AND (?5 IS NULL OR ts_ns >= ?5) AND (?6 IS NULL OR ts_ns < ?6)"
	" AND (?7 IS NULL OR path LIKE ?7 OR path2 LIKE ?7)"
	" AND (?8 IS NULL OR dns_name LIKE ?8)";

static void print_text(const struct audit_event *e, int64_t seq, FILE *o)
{
	char ts[40];
	audit_fmt_time(e->ts_ns, ts, sizeof ts);
	fprintf(o, "%" PRId64 " %s %s", seq, ts, audit_type_name(e->type));
	if (e->operation) {
		fputc(' ', o);
		audit_fput_safe(e->operation, o);
	}
	const char *t = audit_event_target(e);
	if (t) {
		fputc(' ', o);
		audit_fput_safe(t, o);
	}
	if (e->port >= 0)
		fprintf(o, ":%" PRId64, e->port);
	if (e->effective != AUDIT_DEC_NONE || e->decision != AUDIT_DEC_NONE)
		fprintf(o, " %s", audit_decision_name(e->effective != AUDIT_DEC_NONE ? e->effective : e->decision));
	if (e->rule) {
		fputs(" rule=", o);
		audit_fput_safe(e->rule, o);
	}
	if (e->exit_status >= 0)
		fprintf(o, " exit=%" PRId64, e->exit_status);
	if (e->pid >= 0)
		fprintf(o, " pid=%" PRId64, e->pid);
	if (e->session_id) {
		fputs(" session=", o);
		audit_fput_safe(e->session_id, o);
	}
	fputc('\n', o);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Run the query for rows after `after`; prints them oldest first, returns
 * the last seq seen (or after) and the count in *n.  newest: with a limit,
 * the newest `limit` matching rows (what `events query` shows), else the
 * oldest (tail's polling, which must not skip rows). */
static int run_query(struct audit *a, const struct filter *f, int64_t after, int64_t limit, bool newest,
		     FILE *o, json_t *arr, int64_t *last, int64_t *n)
{
	char sql[sizeof QSQL + 128];
	if (newest)
		snprintf(sql, sizeof sql, "SELECT * FROM (%s ORDER BY seq DESC LIMIT ?9) ORDER BY seq", QSQL);
	else
		snprintf(sql, sizeof sql, "%s ORDER BY seq LIMIT ?9", QSQL);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
	sqlite3_bind_int64(st, 1, after);
	bind_opt(st, 2, *f->sid ? f->sid : NULL);
	bind_opt(st, 3, f->type);
	bind_opt(st, 4, f->decision);
	if (f->has_since)
		sqlite3_bind_int64(st, 5, f->since);
	if (f->has_until)
		sqlite3_bind_int64(st, 6, f->until);
	bind_opt(st, 7, f->path_like);
	bind_opt(st, 8, f->domain_like);
	sqlite3_bind_int64(st, 9, limit > 0 ? limit : -1);
	int rc;
	*last = after;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_event ev;
		int64_t seq;
		audit_row_event(st, &ev, &seq, NULL);
		if (seq > *last)
			*last = seq;
		(*n)++;
		if (arr)
			json_array_append_new(arr, audit_event_json(&ev, seq));
		else if (f->json) {
			json_t *j = audit_event_json(&ev, seq);
			json_dumpf(j, o, JSON_COMPACT);
			fputc('\n', o);
			json_decref(j);
		} else
			print_text(&ev, seq, o);
	}
	sqlite3_finalize(st);
	fflush(o);
	if (rc != SQLITE_DONE)
		return audit_seterr(a, -EIO, "audit store %s: query failed: %s", a->db_path, sqlite3_errmsg(a->db));
	return 0;
}

static int parse_filter(int argc, char **argv, struct filter *f, const struct audit_cli_env *env, bool tail)
{
	static const struct option lo[] = {
		{ "session", required_argument, 0, 'S' }, { "type", required_argument, 0, 't' },
		{ "decision", required_argument, 0, 'd' }, { "since", required_argument, 0, 's' },
		{ "until", required_argument, 0, 'u' }, { "path-like", required_argument, 0, 'p' },
		{ "domain-like", required_argument, 0, 'D' }, { "limit", required_argument, 0, 'n' },
		{ "json", no_argument, 0, 'j' }, { "for", required_argument, 0, 'F' }, { 0, 0, 0, 0 },
	};
	int c;
	char *end;
	optind = 0;
	opterr = 0;
	f->limit = tail ? 10 : 100;
	while ((c = getopt_long(argc, argv, "S:t:d:s:u:p:D:n:jF:", lo, NULL)) != -1) {
		switch (c) {
		case 'S': f->session = optarg; break;
		case 't': f->type = optarg; break;
		case 'd': f->decision = optarg; break;
		case 'p': f->path_like = optarg; break;
		case 'D': f->domain_like = optarg; break;
		case 'j': f->json = true; break;
		case 's':
			if (audit_parse_time(optarg, &f->since))
				goto badtime;
			f->has_since = true;
			break;
		case 'u':
			if (audit_parse_time(optarg, &f->until))
				goto badtime;
			f->has_until = true;
			break;
		case 'n':
			f->limit = strtoll(optarg, &end, 10);
			if (*end || f->limit < 0)
				goto usage;
			break;
		case 'F':
			f->follow_secs = strtoll(optarg, &end, 10);
			if (*end || f->follow_secs < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	enum audit_type t;
	enum audit_decision d;
	if (f->type && audit_type_parse(f->type, &t)) {
		fprintf(ERR(env), "agentsh events: --type '%s' is not an event type (e.g. file, network, exec, "
			"command_start, command_end, signal, approval_requested, soft_delete)\n", f->type);
		return 2;
	}
	if (f->decision && (audit_decision_parse(f->decision, &d) || d == AUDIT_DEC_NONE)) {
		fprintf(ERR(env), "agentsh events: --decision '%s' is not allow, deny, approve, redirect, "
			"audit or soft_delete\n", f->decision);
		return 2;
	}
	return optind < argc ? (fprintf(ERR(env), "agentsh events: unexpected argument '%s'\n", argv[optind]), 2) : 0;
badtime:
	fprintf(ERR(env), "agentsh events: '%s' is not a time (use 2026-01-31T12:00:00Z, @UNIXSECS or 2h)\n", optarg);
	return 2;
usage:
	fprintf(ERR(env), "usage: agentsh events query [--session ID|latest] [--type T] [--decision D] [--since TIME] "
		"[--until TIME] [--path-like PAT] [--domain-like PAT] [--limit N] [--json]\n"
		"       agentsh events tail [same filters] [-n N] [--for SECONDS]\n");
	return 2;
}

static int cmd_query(struct audit *a, struct filter *f, const struct audit_cli_env *env)
{
	json_t *arr = f->json ? json_array() : NULL;
	int64_t last, n;
	int rc = run_query(a, f, 0, f->limit, true, OUT(env), arr, &last, &n);
	if (!rc && arr) {
		json_dumpf(arr, OUT(env), JSON_INDENT(1));
		fputc('\n', OUT(env));
	}
	json_decref(arr);
	return rc;
}

static volatile sig_atomic_t tail_stop;
static void on_int(int s)
{
	(void)s;
	tail_stop = 1;
}

/* Follow: print the newest N, then poll for rows past the last one seen.
 * Polling a WAL store is cheap and needs no cooperation from the writers. */
static int cmd_tail(struct audit *a, struct filter *f, const struct audit_cli_env *env)
{
	int64_t last = 0, n, start = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT coalesce(max(seq), 0) FROM events", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		start = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	/* the last N matching rows, printed oldest first */
	int64_t from = 0;
	if (f->limit > 0) {
		if (sqlite3_prepare_v2(a->db, "SELECT coalesce(min(seq), 1) - 1 FROM (SELECT seq FROM events "
				       "ORDER BY seq DESC LIMIT ?1)", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, f->limit);
			if (sqlite3_step(st) == SQLITE_ROW)
				from = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
		int rc = run_query(a, f, from, -1, false, OUT(env), NULL, &last, &n);
		if (rc)
			return rc;
	}
	last = start;
	struct sigaction sa = { .sa_handler = on_int }, old;
	sigaction(SIGINT, &sa, &old);
	tail_stop = 0;
	time_t deadline = f->follow_secs ? time(NULL) + f->follow_secs : 0;
	int rc = 0;
	while (!tail_stop && (!deadline || time(NULL) < deadline)) {
		usleep(200000);
		if ((rc = run_query(a, f, last, 10000, false, OUT(env), NULL, &last, &n)))
			break;
	}
	sigaction(SIGINT, &old, NULL);
	return rc;
}

int events_cli(int argc, char **argv, const struct audit_cli_env *env)
{
	bool tail = argc >= 2 && strcmp(argv[1], "tail") == 0;
	if (argc < 2 || (!tail && strcmp(argv[1], "query") != 0)) {
		fprintf(ERR(env), "usage: agentsh events query|tail [filters] (agentsh events query --help)\n");
		return 2;
	}
	struct filter f = { 0 };
	int rc = parse_filter(argc - 1, argv + 1, &f, env, tail);
	if (rc)
		return rc;
	struct audit *a;
	if (audit_cli_open(env, &a, ERR(env)))
		return 2;
	if (f.session && audit_resolve_session(a, f.session, f.sid, sizeof f.sid))
		rc = -1;
	if (!rc)
		rc = tail ? cmd_tail(a, &f, env) : cmd_query(a, &f, env);
	if (rc)
		fprintf(ERR(env), "agentsh events: %s\n", audit_strerror(a));
	audit_close(a);
	return rc ? 2 : 0;
}
