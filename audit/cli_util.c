/* Shared helpers of the read-back commands: opening the store read-only,
 * time and session arguments, and printing untrusted text safely. */
#include "audit/audit_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int audit_cli_open(const struct audit_cli_env *env, struct audit **out, FILE *err)
{
	struct audit_opts o = { .readonly = true, .no_owner_check = env && env->no_owner_check };
	const char *db = env && env->db_path ? env->db_path : audit_default_path();
	int rc = audit_open(db, &o, out);
	if (rc) {
		fprintf(err, "agentsh: %s\n", audit_strerror(*out));
		audit_close(*out);
		*out = NULL;
	}
	return rc;
}

#define ERR(env) ((env) && (env)->err ? (env)->err : stderr)

int audit_cli_session_open(const struct audit_cli_env *env, const char *cmd, const char *session,
			   bool all_if_null, const char *out_path, struct audit_cli_session *cs)
{
	memset(cs, 0, sizeof *cs);
	if (audit_cli_open(env, &cs->a, ERR(env)))
		return -EIO;
	int rc = session || !all_if_null ? audit_resolve_session(cs->a, session, cs->sid, sizeof cs->sid) : 0;
	if (rc)
		fprintf(ERR(env), "%s: %s\n", cmd, audit_strerror(cs->a));
	else if (!(cs->out = out_path ? fopen(out_path, "we") : (env && env->out ? env->out : stdout))) {
		rc = -errno;
		fprintf(ERR(env), "%s: cannot write %s: %s\n", cmd, out_path, strerror(errno));
	}
	if (rc) {
		audit_close(cs->a);
		cs->a = NULL;
	}
	cs->out_path = out_path;
	return rc;
}

int audit_cli_session_close(const struct audit_cli_env *env, const char *cmd, struct audit_cli_session *cs, int rc)
{
	if (cs->out_path && cs->out && fclose(cs->out) != 0 && !rc) {
		fprintf(ERR(env), "%s: writing %s failed: %s\n", cmd, cs->out_path, strerror(errno));
		rc = -EIO;
	}
	cs->out = NULL;
	audit_close(cs->a);
	cs->a = NULL;
	return rc;
}

/* "2026-11-27T04:00:00Z", "2026-11-27 04:00:00" (UTC), "@1700000000" (unix
 * seconds), or a duration back from now: "90s", "10m", "2h", "7d". */
int audit_parse_time(const char *s, int64_t *ns)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	/* bounded so that seconds * 1e9 stays inside int64_t (year 2262) */
	const long long max_s = 9000000000LL;
	if (s[0] == '@') {
		long long v = strtoll(s + 1, &end, 10);
		if (*end || end == s + 1 || v < 0 || v > max_s)
			return -EINVAL;
		*ns = (int64_t)v * 1000000000;
		return 0;
	}
	if (isdigit((unsigned char)s[0])) {
		long long v = strtoll(s, &end, 10);
		int64_t mul = 0;
		if (end != s && *end && end[1] == 0 && v >= 0 && v <= max_s / 86400) {
			switch (*end) {
			case 's': mul = 1; break;
			case 'm': mul = 60; break;
			case 'h': mul = 3600; break;
			case 'd': mul = 86400; break;
			}
		}
		if (mul) {
			*ns = ((int64_t)time(NULL) - (int64_t)v * mul) * 1000000000;
			return 0;
		}
	}
	struct tm tm = { 0 };
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e)
		e = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!e) {
		memset(&tm, 0, sizeof tm);
		e = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!e || (*e && strcmp(e, "Z") != 0))
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t < 0 || t > max_s)
		return -EINVAL;
	*ns = (int64_t)t * 1000000000;
	return 0;
}

void audit_fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)((ns / 1000000) % 1000));
}

/* "latest" (or NULL): the session of the newest event (a prune record does
 * not count: `audit prune` would otherwise become the latest session); else
 * an exact id or a unique prefix. */
int audit_resolve_session(struct audit *a, const char *arg, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	bool latest = !arg || strcmp(arg, "latest") == 0;
	const char *sql = latest ?
		"SELECT session_id FROM events WHERE session_id IS NOT NULL AND type <> 'prune' "
		"ORDER BY seq DESC LIMIT 1" :
		"SELECT DISTINCT session_id FROM events WHERE session_id = ?1 OR "
		"substr(session_id, 1, length(?1)) = ?1 LIMIT 2";
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return audit_seterr(a, -EIO, "audit store %s: %s", a->db_path, sqlite3_errmsg(a->db));
	if (!latest)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int n = 0, rc = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(st, 0);
		if (n++ == 0)
			snprintf(out, outlen, "%s", sid ? sid : "");
		else if (strcmp(out, sid ? sid : "") != 0)
			rc = audit_seterr(a, -EEXIST, "session '%s' is ambiguous: give more of its id "
					  "(agentsh events query --type session_start lists them)", arg);
	}
	sqlite3_finalize(st);
	if (!rc && n == 0)
		rc = latest ? audit_seterr(a, -ENOENT, "the audit store %s holds no session yet", a->db_path)
			    : audit_seterr(a, -ENOENT, "no session '%s' in the audit store %s (list them: "
					   "agentsh events query --type session_start)", arg, a->db_path);
	return rc;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 if it is not one.
 * Overlong forms and surrogates count as invalid. */
size_t audit_utf8_seq(const unsigned char *p)
{
	size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 :
		   (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if ((n == 2 && p[0] < 0xC2) || (n == 4 && p[0] > 0xF4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((n == 3 && p[0] == 0xE0 && p[1] < 0xA0) || (n == 3 && p[0] == 0xED && p[1] >= 0xA0) ||
	    (n == 4 && p[0] == 0xF0 && p[1] < 0x90) || (n == 4 && p[0] == 0xF4 && p[1] >= 0x90))
		return 0;
	return n;
}

/* True for what a terminal may act on: C0, DEL, and C1 (U+0080..U+009F). */
static bool is_control(const unsigned char *p, size_t n)
{
	return (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (n == 2 && p[0] == 0xC2 && p[1] < 0xA0);
}

/* Untrusted text (paths, command lines) to a terminal: control characters
 * and bytes that are not UTF-8 would let an agent rewrite the operator's
 * screen, so they become \xNN. */
void audit_fput_safe(const char *s, FILE *f)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
		size_t n = audit_utf8_seq(p);
		if (n == 0 || is_control(p, n)) {
			for (size_t i = 0; i < (n ? n : 1); i++)
				fprintf(f, "\\x%02x", p[i]);
		} else
			fwrite(p, 1, n, f);
		p += n ? n : 1;
	}
}
