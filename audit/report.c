/* `report [SESSION|latest] [--level summary|detailed] [--output FILE]`:
 * a Markdown account of one session, read from the store.  Everything the
 * agent could have influenced (paths, command lines, rule messages) goes
 * through md() so it cannot inject Markdown, HTML or terminal escapes. */
#include "audit/audit_int.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#define ERR(env) ((env) && (env)->err ? (env)->err : stderr)

static void md(FILE *f, const char *s)
{
	if (!s) {
		fputs("\\-", f);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = audit_utf8_seq(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)) || (n == 2 && p[0] == 0xC2 && p[1] < 0xA0)) {
			for (size_t i = 0; i < (n ? n : 1); i++)
				fprintf(f, "\\\\x%02x", p[i]);      /* renders as \xNN */
		} else if (*p == '&')
			fputs("&amp;", f);
		else if (n == 1 && strchr("\\`*_{}[]()#+-.!|<>~\"'", *p))
			fprintf(f, "\\%c", *p);
		else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
}

struct rep {
	struct audit *a;
	FILE *o;
	const char *sid;
	int ret;
};

typedef void (*row_fn)(struct rep *r, sqlite3_stmt *st);

static int each(struct rep *r, const char *sql, row_fn fn)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(r->a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return r->ret = audit_seterr(r->a, -EIO, "report: %s", sqlite3_errmsg(r->a->db));
	sqlite3_bind_text(st, 1, r->sid, -1, SQLITE_STATIC);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(r, st);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		r->ret = audit_seterr(r->a, -EIO, "report: %s", sqlite3_errmsg(r->a->db));
	return n;
}

static const char *txt(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void row_overview(struct rep *r, sqlite3_stmt *st)
{
	char t0[40], t1[40];
	int64_t a = sqlite3_column_int64(st, 0), b = sqlite3_column_int64(st, 1);
	audit_fmt_time(a, t0, sizeof t0);
	audit_fmt_time(b, t1, sizeof t1);
	fprintf(r->o, "| Session | ");
	md(r->o, r->sid);
	fprintf(r->o, " |\n| First event | %s |\n| Last event | %s |\n| Duration | %.1f s |\n", t0, t1,
		(double)(b - a) / 1e9);
	fprintf(r->o, "| Session ended | %s |\n", sqlite3_column_int64(st, 2) ? "yes" : "no (still running, or ended abnormally)");
	fprintf(r->o, "| Events | %lld |\n| Commands | %lld (%lld failed) |\n| Blocked operations | %lld |\n",
		sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
		sqlite3_column_int64(st, 6));
	if (sqlite3_column_type(st, 7) != SQLITE_NULL)
		fprintf(r->o, "| Account uid | %lld |\n", sqlite3_column_int64(st, 7));
}

static void row_decision(struct rep *r, sqlite3_stmt *st)
{
	fprintf(r->o, "| ");
	md(r->o, txt(st, 0));
	fprintf(r->o, " | ");
	md(r->o, txt(st, 1));
	fprintf(r->o, " | %lld |\n", sqlite3_column_int64(st, 2));
}

static void row_finding(struct rep *r, sqlite3_stmt *st)
{
	fputs("- ", r->o);
	md(r->o, txt(st, 0));
	fputs(": ", r->o);
	md(r->o, txt(st, 1));
	fputs(" ", r->o);
	md(r->o, txt(st, 2));

	if (txt(st, 3)) {
		fputs(" (rule ", r->o);
		md(r->o, txt(st, 3));
		fputc(')', r->o);
	}
	int64_t n = sqlite3_column_int64(st, 4);
	if (n > 1)
		fprintf(r->o, " \xc3\x97%" PRId64, n);
	fputc('\n', r->o);
}

static void row_command(struct rep *r, sqlite3_stmt *st)
{
	fprintf(r->o, "| %lld | ", sqlite3_column_int64(st, 0));
	md(r->o, txt(st, 1));
	fputs(" | ", r->o);
	if (sqlite3_column_type(st, 2) == SQLITE_NULL)
		fputs("(no end recorded)", r->o);
	else
		fprintf(r->o, "%lld", sqlite3_column_int64(st, 2));
	fprintf(r->o, " | %.3f |\n", sqlite3_column_type(st, 3) == SQLITE_NULL ? 0.0 :
		(double)sqlite3_column_int64(st, 3) / 1e6);
}

static void row_timeline(struct rep *r, sqlite3_stmt *st)
{
	char ts[40];
	audit_fmt_time(sqlite3_column_int64(st, 1), ts, sizeof ts);
	fprintf(r->o, "| %lld | %s | ", sqlite3_column_int64(st, 0), ts);
	for (int i = 2; i <= 6; i++) {
		md(r->o, txt(st, i));
		fputs(" | ", r->o);
	}
	fputc('\n', r->o);
}

#define TARGET "coalesce(path, dns_name, address, argv, command)"

static const char SQL_OVERVIEW[] =
	"SELECT min(ts_ns), max(ts_ns), sum(type = 'session_end'), count(*),"
	" sum(type = 'command_start'), sum(type = 'command_end' AND exit_status != 0),"
	" sum(effective = 'deny' OR type = 'surface_denied'),"
	" (SELECT uid FROM events WHERE session_id = ?1 AND uid IS NOT NULL ORDER BY seq LIMIT 1)"
	" FROM events WHERE session_id = ?1";
static const char SQL_DECISIONS[] =
	"SELECT type, coalesce(effective, decision, 'none'), count(*) FROM events WHERE session_id = ?1"
	" AND type NOT IN ('command_start', 'command_end') GROUP BY 1, 2 ORDER BY 1, 2";
static const char SQL_BLOCKED[] =
	"SELECT 'blocked', type || ' ' || coalesce(operation, ''), " TARGET ", rule, count(*) FROM events"
	" WHERE session_id = ?1 AND (effective = 'deny' OR type = 'surface_denied')"
	" AND type != 'approval_resolved' GROUP BY 2, 3, 4 ORDER BY 5 DESC LIMIT 100";
static const char SQL_APPROVALS_DENIED[] =
	"SELECT 'approval denied', coalesce(operation, ''), " TARGET ", rule, count(*) FROM events"
	" WHERE session_id = ?1 AND type = 'approval_resolved' AND effective = 'deny' GROUP BY 2, 3, 4";
static const char SQL_SOFT[] =
	"SELECT 'soft delete', coalesce(operation, 'delete'), path, rule, count(*) FROM events"
	" WHERE session_id = ?1 AND (type = 'soft_delete' OR effective = 'soft_delete') GROUP BY 2, 3, 4";
static const char SQL_SENSITIVE[] =
	"SELECT 'sensitive path', type || ' ' || coalesce(operation, ''), path, rule, count(*) FROM events"
	" WHERE session_id = ?1 AND path IS NOT NULL AND (path LIKE '%/.ssh/%' OR path LIKE '%/.gnupg/%'"
	" OR path LIKE '%/.aws/%' OR path LIKE '%/.env' OR path LIKE '%/.netrc' OR path LIKE '%id_rsa%'"
	" OR path LIKE '%id_ed25519%' OR path LIKE '/etc/shadow%' OR path LIKE '/etc/sudoers%'"
	" OR path LIKE '%/.kube/%' OR path LIKE '%/.docker/config.json' OR path LIKE '%credentials%')"
	" GROUP BY 2, 3, 4 ORDER BY 5 DESC LIMIT 50";
static const char SQL_NET[] =
	"SELECT CASE WHEN dns_name IS NULL THEN 'direct IP connection' ELSE 'unusual port' END,"
	" type || ' ' || coalesce(operation, ''), coalesce(dns_name, address) || ':' || port, rule, count(*)"
	" FROM events WHERE session_id = ?1 AND type = 'network' AND address IS NOT NULL"
	" AND (dns_name IS NULL OR port NOT IN (53, 80, 443)) GROUP BY 1, 2, 3, 4 ORDER BY 5 DESC LIMIT 50";
static const char SQL_REDIRECT[] =
	"SELECT 'redirected', coalesce(path, operation, ''), coalesce(path2, argv), rule, count(*) FROM events"
	" WHERE session_id = ?1 AND (type = 'redirect' OR effective = 'redirect') GROUP BY 2, 3, 4";
static const char SQL_FAILED[] =
	"SELECT 'failed command (exit ' || e.exit_status || ')', '', c.command, NULL, 1 FROM events e"
	" JOIN events c ON c.session_id = e.session_id AND c.command_id = e.command_id AND c.type = 'command_start'"
	" WHERE e.session_id = ?1 AND e.type = 'command_end' AND e.exit_status != 0 ORDER BY e.seq LIMIT 100";
static const char SQL_COMMANDS[] =
	"SELECT c.command_id, c.command, e.exit_status, e.duration_us FROM events c LEFT JOIN events e"
	" ON e.session_id = c.session_id AND e.command_id = c.command_id AND e.type = 'command_end'"
	" WHERE c.session_id = ?1 AND c.type = 'command_start' ORDER BY c.seq LIMIT 1000";
static const char SQL_TIMELINE[] =
	"SELECT seq, ts_ns, type, operation, " TARGET ", coalesce(effective, decision), rule FROM events"
	" WHERE session_id = ?1 ORDER BY seq LIMIT 10000";

static void section(struct rep *r, const char *title, const char *const *sqls, size_t n)
{
	fprintf(r->o, "\n### %s\n\n", title);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		found += each(r, sqls[i], row_finding);
	if (!found)
		fputs("None.\n", r->o);
}

static void write_report(struct rep *r, bool detailed)
{
	fputs("# agentsh session report\n\n## Overview\n\n| | |\n|---|---|\n", r->o);
	each(r, SQL_OVERVIEW, row_overview);
	fputs("\n## Decisions\n\n| event type | decision | count |\n|---|---|---|\n", r->o);
	each(r, SQL_DECISIONS, row_decision);
	fputs("\n## Findings\n", r->o);
	const char *crit[] = { SQL_BLOCKED, SQL_APPROVALS_DENIED };
	const char *warn[] = { SQL_SOFT, SQL_SENSITIVE, SQL_NET };
	const char *info[] = { SQL_REDIRECT, SQL_FAILED };
	section(r, "Critical", crit, 2);
	section(r, "Warning", warn, 3);
	section(r, "Info", info, 2);
	fputs("\n## Commands\n\n| # | command | exit | seconds |\n|---|---|---|---|\n", r->o);
	each(r, SQL_COMMANDS, row_command);
	if (detailed) {
		fputs("\n## Timeline\n\n| seq | time | type | operation | target | decision | rule |\n"
		      "|---|---|---|---|---|---|---|\n", r->o);
		each(r, SQL_TIMELINE, row_timeline);
	}
}

int report_cli(int argc, char **argv, const struct audit_cli_env *env)
{
	static const struct option lo[] = {
		{ "level", required_argument, 0, 'l' }, { "output", required_argument, 0, 'o' }, { 0, 0, 0, 0 },
	};
	const char *level = "summary", *outp = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "l:o:", lo, NULL)) != -1) {
		if (c == 'l')
			level = optarg;
		else if (c == 'o')
			outp = optarg;
		else {
			fprintf(ERR(env), "usage: report [SESSION|latest] [--level summary|detailed] [--output FILE]\n");
			return 2;
		}
	}
	bool detailed = strcmp(level, "detailed") == 0;
	if (!detailed && strcmp(level, "summary") != 0) {
		fprintf(ERR(env), "report: --level must be summary or detailed, not '%s'\n", level);
		return 2;
	}
	struct audit_cli_session cs;
	if (audit_cli_session_open(env, "report", optind < argc ? argv[optind] : NULL, false, outp, &cs))
		return 2;
	struct rep r = { .a = cs.a, .o = cs.out, .sid = cs.sid };
	write_report(&r, detailed);
	if (r.ret)
		fprintf(ERR(env), "report: %s\n", audit_strerror(cs.a));
	r.ret = audit_cli_session_close(env, "report", &cs, r.ret);
	return r.ret ? 2 : 0;
}
