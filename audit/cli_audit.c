/* `agentsh audit verify|export`. */
#include "audit/audit_int.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define OUT(env) ((env) && (env)->out ? (env)->out : stdout)
#define ERR(env) ((env) && (env)->err ? (env)->err : stderr)

static int cmd_verify(int argc, char **argv, const struct audit_cli_env *env)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fprintf(ERR(env), "agentsh audit verify: unknown argument '%s' (usage: agentsh audit verify [--json])\n", argv[i]);
			return 2;
		}
	}
	struct audit *a;
	if (audit_cli_open(env, &a, ERR(env)))
		return 2;
	struct audit_verify_result r;
	int rc = audit_verify(a, &r);
	if (rc) {
		fprintf(ERR(env), "agentsh audit verify: %s\n", audit_strerror(a));
		audit_close(a);
		return 2;
	}
	FILE *o = OUT(env);
	if (json) {
		json_t *j = json_pack("{s:b, s:I, s:I}", "ok", r.ok, "events", (json_int_t)r.events,
				      "anchor_seq", (json_int_t)r.anchor_seq);
		if (!r.ok) {
			json_object_set_new(j, "first_bad_seq", json_integer(r.first_bad_seq));
			json_object_set_new(j, "reason", json_string(r.reason));
		}
		json_object_set_new(j, "store", json_string(a->db_path));
		json_object_set_new(j, "pruned_through", json_integer(r.pruned_through));
		json_object_set_new(j, "pruned_events", json_integer(r.pruned_events));
		json_dumpf(j, o, JSON_COMPACT);
		fputc('\n', o);
		json_decref(j);
	} else if (r.ok && r.pruned_through)
		fprintf(o, "audit: OK: %" PRId64 " events, chain intact from the pruned-through record (sequence %" PRId64
			", %" PRId64 " events removed by retention) up to sequence %" PRId64 " (anchor %" PRId64 ")\n",
			r.events, r.pruned_through, r.pruned_events, r.pruned_through + r.events, r.anchor_seq);
	else if (r.ok)
		fprintf(o, "audit: OK: %" PRId64 " events, chain intact up to sequence %" PRId64 " (anchor %" PRId64 ")\n",
			r.events, r.events, r.anchor_seq);
	else
		fprintf(o, "audit: FAILED at sequence %" PRId64 ": %s (store %s; %" PRId64 " rows read)\n",
			r.first_bad_seq, r.reason, a->db_path, r.events);
	audit_close(a);
	return r.ok ? 0 : 1;
}

/* OCSF 1.1: class and activity for an event; 0/0 = Base Event. */
static void ocsf_class(const struct audit_event *e, int *cls, int *cat, int *act)
{
	const char *op = e->operation ? e->operation : "";
	*cls = 0, *cat = 0, *act = 99;
	switch (e->type) {
	case AUDIT_FILE:
	case AUDIT_SOFT_DELETE:
		*cls = 1001, *cat = 1;
		*act = strstr(op, "creat") || !strcmp(op, "mkdir") ? 1 :
		       !strcmp(op, "open") || !strcmp(op, "read") ? 2 :
		       strstr(op, "write") || strstr(op, "trunc") ? 3 :
		       strstr(op, "unlink") || strstr(op, "rmdir") || strstr(op, "delete") || e->type == AUDIT_SOFT_DELETE ? 4 :
		       strstr(op, "rename") ? 5 : strstr(op, "chmod") || strstr(op, "chown") ? 6 : 99;
		break;
	case AUDIT_EXEC:
	case AUDIT_COMMAND_START:
		*cls = 1007, *cat = 1, *act = 1;
		break;
	case AUDIT_COMMAND_END:
		*cls = 1007, *cat = 1, *act = 2;
		break;
	case AUDIT_SIGNAL:
		*cls = 1007, *cat = 1, *act = 99;
		break;
	case AUDIT_NETWORK:
	case AUDIT_UNIX_SOCKET:
		*cls = 4001, *cat = 4, *act = 1;
		break;
	case AUDIT_DNS:
		*cls = 4003, *cat = 4, *act = 1;
		break;
	case AUDIT_SESSION_START:
		*cls = 3002, *cat = 3, *act = 1;
		break;
	case AUDIT_SESSION_END:
		*cls = 3002, *cat = 3, *act = 2;
		break;
	default:
		break;
	}
}

static json_t *ocsf_event(const struct audit_event *e, int64_t seq)
{
	int cls, cat, act;
	ocsf_class(e, &cls, &cat, &act);
	bool blocked = audit_event_blocked(e);
	json_t *o = json_pack("{s:i, s:i, s:i, s:I, s:I, s:i, s:s, s:i}",
			      "class_uid", cls, "category_uid", cat, "activity_id", act,
			      "type_uid", (json_int_t)cls * 100 + act, "time", (json_int_t)(e->ts_ns / 1000000),
			      "severity_id", blocked ? 3 : 1, "status", blocked ? "Failure" : "Success",
			      "status_id", blocked ? 2 : 1);
	json_object_set_new(o, "metadata", json_pack("{s:s, s:{s:s, s:s}, s:I}", "version", "1.1.0",
			    "product", "name", "agentsh", "vendor_name", "agentsh", "sequence", (json_int_t)seq));
	if (e->effective != AUDIT_DEC_NONE)
		json_object_set_new(o, "disposition_id", json_integer(blocked ? 2 : 1));
	json_t *actor = json_object(), *proc = json_object();
	if (e->pid >= 0)
		json_object_set_new(proc, "pid", json_integer(e->pid));
	if (e->command)
		json_object_set_new(proc, "cmd_line", json_string(e->command));
	json_object_set_new(actor, "process", proc);
	if (e->uid >= 0) {
		char uid[24];
		snprintf(uid, sizeof uid, "%" PRId64, e->uid);
		json_object_set_new(actor, "user", json_pack("{s:s}", "uid", uid));
	}
	if (e->session_id)
		json_object_set_new(actor, "session", json_pack("{s:s}", "uid", e->session_id));
	json_object_set_new(o, "actor", actor);
	if (e->path && (cls == 1001))
		json_object_set_new(o, "file", json_pack("{s:s}", "path", e->path));
	if (e->path && cls == 1007 && e->type == AUDIT_EXEC)
		json_object_set_new(o, "process", json_pack("{s:{s:s}, s:s?}", "file", "path", e->path, "cmd_line", e->argv));
	if (cls == 4001 || cls == 4003) {
		json_t *dst = json_object();
		if (e->address)
			json_object_set_new(dst, "ip", json_string(e->address));
		if (e->port >= 0)
			json_object_set_new(dst, "port", json_integer(e->port));
		if (e->dns_name)
			json_object_set_new(dst, "hostname", json_string(e->dns_name));
		if (e->path)
			json_object_set_new(dst, "path", json_string(e->path));
		json_object_set_new(o, "dst_endpoint", dst);
	}
	if (e->message)
		json_object_set_new(o, "message", json_string(e->message));
	/* everything agentsh-specific, unchanged, for collectors that want it */
	json_object_set_new(o, "unmapped", audit_event_json(e, seq));
	return o;
}

static int cmd_export(int argc, char **argv, const struct audit_cli_env *env)
{
	static const struct option lo[] = {
		{ "format", required_argument, 0, 'f' }, { "since", required_argument, 0, 's' },
		{ "session", required_argument, 0, 'S' }, { "output", required_argument, 0, 'o' }, { 0, 0, 0, 0 },
	};
	const char *fmt = "jsonl", *since = NULL, *session = NULL, *outp = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:s:S:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 's': since = optarg; break;
		case 'S': session = optarg; break;
		case 'o': outp = optarg; break;
		default:
			fprintf(ERR(env), "agentsh audit export: bad option '%s' (usage: agentsh audit export "
				"--format jsonl|ocsf [--since TIME] [--session ID] [--output FILE])\n", argv[optind - 1]);
			return 2;
		}
	}
	bool ocsf = strcmp(fmt, "ocsf") == 0;
	if (!ocsf && strcmp(fmt, "jsonl") != 0) {
		fprintf(ERR(env), "agentsh audit export: --format must be jsonl or ocsf, not '%s'\n", fmt);
		return 2;
	}
	int64_t since_ns = 0;
	if (since && audit_parse_time(since, &since_ns)) {
		fprintf(ERR(env), "agentsh audit export: --since '%s' is not a time (use 2026-01-31T12:00:00Z, @UNIXSECS or 2h)\n", since);
		return 2;
	}
	struct audit_cli_session cs;
	if (audit_cli_session_open(env, "agentsh audit export", session, true, outp, &cs))
		return 2;
	struct audit *a = cs.a;
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(a->db, "SELECT " AUDIT_ROW_COLUMNS " FROM events WHERE ts_ns >= ?1 "
				    "AND (?2 IS NULL OR session_id = ?2) ORDER BY seq", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, since_ns);
		if (*cs.sid)
			sqlite3_bind_text(st, 2, cs.sid, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct audit_event ev;
			int64_t seq;
			audit_row_event(st, &ev, &seq, NULL);
			json_t *j = ocsf ? ocsf_event(&ev, seq) : audit_event_json(&ev, seq);
			json_dumpf(j, cs.out, JSON_COMPACT);
			fputc('\n', cs.out);
			json_decref(j);
		}
		sqlite3_finalize(st);
	}
	int ret = rc == SQLITE_DONE ? 0 : -EIO;
	if (ret)
		fprintf(ERR(env), "agentsh audit export: reading %s failed: %s\n", a->db_path, sqlite3_errmsg(a->db));
	return audit_cli_session_close(env, "agentsh audit export", &cs, ret) ? 2 : 0;
}

static void prune_print(FILE *o, const struct audit_prune_result *r, bool dry, bool json)
{
	if (json) {
		json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "dry_run", dry, "events", (json_int_t)r->events,
				      "sessions", (json_int_t)r->sessions, "from_seq", (json_int_t)r->base_before + 1,
				      "through_seq", (json_int_t)r->through_seq, "prune_seq", (json_int_t)r->prune_seq);
		if (r->stop_seq)
			json_object_set_new(j, "stopped_at", json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)r->stop_seq,
					    "session", r->stop_session, "reason", r->stop_reason));
		json_dumpf(j, o, JSON_COMPACT);
		fputc('\n', o);
		json_decref(j);
		return;
	}
	if (r->events)
		fprintf(o, "audit prune%s: %s %" PRId64 " events (sequences %" PRId64 "-%" PRId64 ") of %" PRId64
			" expired sessions\n", dry ? " (dry run)" : "", dry ? "would delete" : "deleted", r->events,
			r->base_before + 1, r->through_seq, r->sessions);
	else
		fprintf(o, "audit prune%s: nothing to delete\n", dry ? " (dry run)" : "");
	if (r->stop_seq) {
		fprintf(o, "audit prune: the oldest event kept is sequence %" PRId64 " of session ", r->stop_seq);
		audit_fput_safe(r->stop_session, o);
		fprintf(o, ": %s\n", r->stop_reason);
	}
}

/* Root-only: deleting audit data is for the store's owner, never for an
 * account reaching a setuid agentsh. */
static int cmd_prune(int argc, char **argv, const struct audit_cli_env *env)
{
	bool json = false, dry = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--dry-run") == 0)
			dry = true;
		else {
			fprintf(ERR(env), "agentsh audit prune: unknown argument '%s' (usage: agentsh audit prune "
				"[--dry-run] [--json])\n", argv[i]);
			return 2;
		}
	}
	if (getuid() != 0 && getuid() != geteuid()) {
		fprintf(ERR(env), "agentsh audit prune: only root may delete audit data (run it as root)\n");
		return 2;
	}
	const char *db = env && env->db_path ? env->db_path : audit_default_path();
	if (access(db, F_OK) < 0) {
		int e = errno;
		fprintf(ERR(env), "agentsh audit prune: %s %s: %s%s\n", e == ENOENT ? "no audit store at" :
			"cannot reach the audit store", db, strerror(e), e == ENOENT ? " (nothing to prune)" :
			e == EACCES ? " (the store is root's: run it as root)" : "");
		return 2;
	}
	struct audit_opts o = { .no_owner_check = env && env->no_owner_check };
	struct audit *a = NULL;
	if (audit_open(db, &o, &a)) {
		fprintf(ERR(env), "agentsh audit prune: %s\n", audit_strerror(a));
		audit_close(a);
		return 2;
	}
	struct audit_prune_opts po = { .dry_run = dry };
	struct audit_prune_result r;
	int rc = audit_prune(a, &po, &r);
	if (rc)
		fprintf(ERR(env), "agentsh audit prune: %s\n", audit_strerror(a));
	else
		prune_print(OUT(env), &r, dry, json);
	audit_close(a);
	return rc ? (rc == -EBADMSG ? 1 : 2) : 0;
}

int audit_cli(int argc, char **argv, const struct audit_cli_env *env)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 1, argv + 1, env);
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1, env);
	if (argc >= 2 && strcmp(argv[1], "prune") == 0)
		return cmd_prune(argc - 1, argv + 1, env);
	fprintf(ERR(env), "usage: agentsh audit verify [--json]\n"
		"       agentsh audit prune [--dry-run] [--json]   (root: apply audit.retention_days)\n"
		"       agentsh audit export --format jsonl|ocsf [--since TIME] [--session ID] [--output FILE]\n");
	return 2;
}
