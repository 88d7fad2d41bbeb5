/* `policy generate [SESSION|latest] [--name N] [--threshold N] [--output F]`:
 * a policy that allows what one observed session did and nothing more than
 * the policy defaults already allow.  Paths collapse into DIR/<star> once a
 * directory holds --threshold distinct observed paths; sibling subdomains
 * collapse into *.parent; blocked operations come out as commented rules. */
#include "audit/audit_int.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ERR(env) ((env) && (env)->err ? (env)->err : stderr)

/* file operation words of the policy format (docs/policy.md) */
static const char *const fops[] = {
	"read", "open", "stat", "list", "readlink", "access", "exec", "write", "create", "delete",
	"rmdir", "mkdir", "rename", "link", "symlink", "chmod", "chown", "mknod", "truncate", "xattr",
};
#define NFOPS (sizeof fops / sizeof fops[0])

struct item {                   /* one observed path / name with what was done */
	char *key;
	uint32_t mask;          /* file ops, or unix ops */
	char *dec;              /* decision to write */
	uint64_t ports[8];
	size_t nports;
	bool done;
};

struct list {
	struct item *v;
	size_t n, cap;
};

static struct item *list_get(struct list *l, const char *key, const char *dec)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key) && !strcmp(l->v[i].dec, dec))
			return &l->v[i];
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct item *nv = realloc(l->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	struct item *it = &l->v[l->n];
	memset(it, 0, sizeof *it);
	it->key = strdup(key);
	it->dec = strdup(dec);
	if (!it->key || !it->dec)
		return NULL;
	l->n++;
	return it;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].dec);
	}
	free(l->v);
}

static int fop_index(const char *op)
{
	/* the supervisor names some operations after the syscall */
	if (op && !strcmp(op, "unlink"))
		op = "delete";
	for (size_t i = 0; op && i < NFOPS; i++)
		if (!strcmp(op, fops[i]))
			return (int)i;
	return -1;
}

/* YAML double-quoted scalar.  YAML text must be UTF-8: a byte that is not
 * part of a valid sequence is written as \xNN, which YAML reads as U+00NN, so
 * the policy still loads and that rule simply never matches the raw name
 * (such a path stays denied, which is the safe side). */
static void yq(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = audit_utf8_seq(p);
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f || n == 0)
			fprintf(o, "\\x%02x", *p);
		else
			fwrite(p, 1, n, o);
		p += n ? n : 1;
	}
	fputc('"', o);
}

/* A literal path as a policy glob: escape the glob metacharacters. */
static void yq_lit(FILE *o, const char *s)
{
	size_t n = strlen(s);
	char *b = malloc(2 * n + 1), *q = b;
	if (!b)
		return;
	for (const char *p = s; *p; p++) {
		if (strchr("*?[]{},\\", *p))
			*q++ = '\\';
		*q++ = *p;
	}
	*q = 0;
	yq(o, b);
	free(b);
}

struct gen {
	struct audit *a;
	FILE *o;
	const char *sid;
	unsigned threshold;
	struct list files, execs, nets, unixes, blocked_files;
	int nrules;
	int ret;
};

static int query(struct gen *g, const char *sql, void (*fn)(struct gen *, sqlite3_stmt *))
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(g->a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return g->ret = audit_seterr(g->a, -EIO, "policy generate: %s", sqlite3_errmsg(g->a->db));
	sqlite3_bind_text(st, 1, g->sid, -1, SQLITE_STATIC);
	int rc, n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(g, st);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		g->ret = audit_seterr(g->a, -EIO, "policy generate: %s", sqlite3_errmsg(g->a->db));
	return n;
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* what a rule should say for an observed, not blocked, operation */
static const char *keep_decision(const char *d)
{
	return d && !strcmp(d, "soft_delete") ? "soft_delete" : d && !strcmp(d, "approve") ? "approve" : "allow";
}

static void on_file(struct gen *g, sqlite3_stmt *st)
{
	int op = fop_index(col(st, 0));
	const char *dec = keep_decision(col(st, 3));
	/* the second path is checked for rename and link only (a symlink's is its content) */
	int last = op >= 0 && (!strcmp(fops[op], "rename") || !strcmp(fops[op], "link")) ? 2 : 1;
	for (int k = 1; k <= last; k++) {
		const char *p = col(st, k);
		if (!p || p[0] != '/' || op < 0)
			continue;
		struct item *it = list_get(&g->files, p, dec);
		if (it)
			it->mask |= 1u << op;
	}
}

static void write_ops(FILE *o, uint32_t mask, const char *const *names, size_t n);

/* A blocked file operation stays blocked: reads are allowed by default, and a
 * DIR/<star> glob may cover a path that was refused, so each one gets an
 * explicit deny ahead of the allow rules.  dec holds the rule that refused it. */
static void on_blocked_file(struct gen *g, sqlite3_stmt *st)
{
	int op = fop_index(col(st, 0));
	const char *p = col(st, 1);
	if (!p || p[0] != '/')
		return;
	struct item *it = list_get(&g->blocked_files, p, col(st, 2) ? col(st, 2) : "");
	if (it)
		it->mask |= op >= 0 ? 1u << op : (1u << NFOPS) - 1;
}

static void blocked_file_rules(struct gen *g)
{
	struct list *l = &g->blocked_files;
	for (size_t i = 0; i < l->n; i++) {
		fprintf(g->o, "  - name: keep-blocked-%d\n    description: ", ++g->nrules);
		char d[512];
		snprintf(d, sizeof d, "refused during the observed session%s%s", *l->v[i].dec ? " by rule " : "",
			 l->v[i].dec);
		yq(g->o, d);
		fputs("\n    paths: [", g->o);
		yq_lit(g->o, l->v[i].key);
		fputs("]\n", g->o);
		if (l->v[i].mask == (1u << NFOPS) - 1)
			fputs("    operations: [\"*\"]\n", g->o);
		else
			write_ops(g->o, l->v[i].mask, fops, NFOPS);
		fputs("    decision: deny\n", g->o);
	}
}

static void on_exec(struct gen *g, sqlite3_stmt *st)
{
	if (col(st, 0) && col(st, 0)[0] == '/')
		list_get(&g->execs, col(st, 0), keep_decision(col(st, 1)));
}

static void on_net(struct gen *g, sqlite3_stmt *st)
{
	const char *key = col(st, 0);
	if (!key)
		return;
	struct item *it = list_get(&g->nets, key, keep_decision(col(st, 3)));
	if (!it)
		return;
	it->mask = col(st, 1) ? 1 : 0;          /* 1: it is a domain */
	int64_t port = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
	for (size_t i = 0; i < it->nports; i++)
		if ((int64_t)it->ports[i] == port)
			return;
	if (port >= 0 && it->nports < 8)
		it->ports[it->nports++] = (uint64_t)port;
}

static const char *const uops[] = { "connect", "bind", "listen", "sendto" };

static void on_unix(struct gen *g, sqlite3_stmt *st)
{
	struct item *it = col(st, 1) ? list_get(&g->unixes, col(st, 1), keep_decision(col(st, 2))) : NULL;
	for (int i = 0; it && i < 4; i++)
		if (col(st, 0) && !strcmp(col(st, 0), uops[i]))
			it->mask |= 1u << i;
}

static void header(struct gen *g, const char *kind)
{
	fprintf(g->o, "\n%s:\n", kind);
}

static void write_ops(FILE *o, uint32_t mask, const char *const *names, size_t n)
{
	fputs("    operations: [", o);
	bool first = true;
	for (size_t i = 0; i < n; i++)
		if (mask & (1u << i)) {
			fprintf(o, "%s%s", first ? "" : ", ", names[i]);
			first = false;
		}
	fputs("]\n", o);
}

static size_t dirlen(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? (size_t)(s - p) : 0;
}

/* Directories with >= threshold observed paths of one decision become one
 * DIR/<star> rule with the union of their operations. */
static void file_globs(struct gen *g)
{
	struct list *l = &g->files;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].done)
			continue;
		size_t dl = dirlen(l->v[i].key), cnt = 0;
		uint32_t mask = 0;
		for (size_t j = i; j < l->n; j++)
			if (!l->v[j].done && dirlen(l->v[j].key) == dl && !strncmp(l->v[j].key, l->v[i].key, dl) &&
			    !strcmp(l->v[j].dec, l->v[i].dec)) {
				cnt++;
				mask |= l->v[j].mask;
			}
		if (cnt < g->threshold || g->threshold == 0)
			continue;
		char *dir = strndup(l->v[i].key, dl);
		fprintf(g->o, "  - name: observed-files-%d\n    description: %zu observed paths in this directory\n"
			"    paths: [", ++g->nrules, cnt);
		/* escape the directory, then append the wildcard */
		size_t n = strlen(dir ? dir : "");
		char *glob = malloc(2 * n + 3), *q = glob;
		for (const char *p = dir ? dir : ""; glob && *p; p++) {
			if (strchr("*?[]{},\\", *p))
				*q++ = '\\';
			*q++ = *p;
		}
		if (glob) {
			strcpy(q, "/*");
			yq(g->o, glob);
		}
		fputs("]\n", g->o);
		write_ops(g->o, mask, fops, NFOPS);
		fprintf(g->o, "    decision: %s\n", l->v[i].dec);
		for (size_t j = i; j < l->n; j++)
			if (!l->v[j].done && dirlen(l->v[j].key) == dl && !strncmp(l->v[j].key, l->v[i].key, dl) &&
			    !strcmp(l->v[j].dec, l->v[i].dec))
				l->v[j].done = true;
		free(glob);
		free(dir);
	}
}

/* The rest: one rule per (operation set, decision), literal paths. */
static void file_literals(struct gen *g)
{
	struct list *l = &g->files;
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].done)
			continue;
		fprintf(g->o, "  - name: observed-files-%d\n    paths:\n", ++g->nrules);
		for (size_t j = i; j < l->n; j++)
			if (!l->v[j].done && l->v[j].mask == l->v[i].mask && !strcmp(l->v[j].dec, l->v[i].dec)) {
				fputs("      - ", g->o);
				yq_lit(g->o, l->v[j].key);
				fputc('\n', g->o);
				if (j != i)
					l->v[j].done = true;
			}
		write_ops(g->o, l->v[i].mask, fops, NFOPS);
		fprintf(g->o, "    decision: %s\n", l->v[i].dec);
		l->v[i].done = true;
	}
}

static const char *parent_domain(const char *d)
{
	const char *dot = strchr(d, '.');
	/* keep at least two labels in the parent: never "*.com" */
	return dot && strchr(dot + 1, '.') ? dot + 1 : NULL;
}

static void write_ports(FILE *o, const struct item *it)
{
	if (!it->nports)
		return;
	fputs("    ports: [", o);
	for (size_t i = 0; i < it->nports; i++)
		fprintf(o, "%s%" PRIu64, i ? ", " : "", it->ports[i]);
	fputs("]\n", o);
}

static bool merge_ports(struct item *dst, const struct item *src)
{
	for (size_t i = 0; i < src->nports; i++) {
		bool have = false;
		for (size_t k = 0; k < dst->nports; k++)
			have |= dst->ports[k] == src->ports[i];
		if (!have && dst->nports < 8)
			dst->ports[dst->nports++] = src->ports[i];
	}
	return true;
}

static void net_rules(struct gen *g)
{
	struct list *l = &g->nets;
	for (size_t i = 0; i < l->n; i++) {
		struct item *it = &l->v[i];
		if (it->done)
			continue;
		struct item acc = *it;
		const char *par = it->mask ? parent_domain(it->key) : NULL;
		size_t siblings = 0;
		for (size_t j = i + 1; par && j < l->n; j++) {
			const char *pj = l->v[j].mask ? parent_domain(l->v[j].key) : NULL;
			if (!l->v[j].done && pj && !strcmp(pj, par) && !strcmp(l->v[j].dec, it->dec))
				siblings++;
		}
		fprintf(g->o, "  - name: observed-network-%d\n", ++g->nrules);
		if (siblings > 0) {
			for (size_t j = i + 1; j < l->n; j++) {
				const char *pj = l->v[j].mask ? parent_domain(l->v[j].key) : NULL;
				if (!l->v[j].done && pj && !strcmp(pj, par) && !strcmp(l->v[j].dec, it->dec)) {
					merge_ports(&acc, &l->v[j]);
					l->v[j].done = true;
				}
			}
			fputs("    domains: [", g->o);
			char w[512];
			snprintf(w, sizeof w, "*.%s", par);
			yq(g->o, w);
			fputs("]\n", g->o);
		} else if (it->mask) {
			fputs("    domains: [", g->o);
			yq(g->o, it->key);
			fputs("]\n", g->o);
		} else {
			char c[128];
			snprintf(c, sizeof c, "%s/%s", it->key, strchr(it->key, ':') ? "128" : "32");
			fputs("    cidrs: [", g->o);
			yq(g->o, c);
			fputs("]\n", g->o);
		}
		write_ports(g->o, &acc);
		fprintf(g->o, "    decision: %s\n", it->dec);
		it->done = true;
	}
}

static void on_blocked(struct gen *g, sqlite3_stmt *st)
{
	const char *type = col(st, 0), *op = col(st, 1), *tgt = col(st, 2), *rule = col(st, 4);
	if (!tgt)
		return;
	fprintf(g->o, "#\n# %s %s %s", sqlite3_column_int(st, 7) ? "redirected" : "blocked", type, op ? op : "");
	if (rule) {
		fputs(" by rule ", g->o);
		audit_fput_safe(rule, g->o);
	}
	fprintf(g->o, " (%lld times); to allow it, %sadd under %s:\n", sqlite3_column_int64(st, 5),
		!strcmp(type, "file") ? "remove its keep-blocked rule and " : "",
		!strcmp(type, "file") ? "file_rules" : !strcmp(type, "exec") ? "command_rules" :
		!strcmp(type, "network") ? "network_rules" : !strcmp(type, "unix_socket") ? "unix_socket_rules" :
		"the matching rule list");
	fprintf(g->o, "#  - name: allow-blocked-%d\n", ++g->nrules);
	if (!strcmp(type, "exec")) {
		fputs("#    commands: [", g->o);
		yq(g->o, tgt);
	} else if (!strcmp(type, "network")) {
		bool named = sqlite3_column_type(st, 6) != SQLITE_NULL;
		char c[128];
		snprintf(c, sizeof c, "%s/%s", tgt, strchr(tgt, ':') ? "128" : "32");
		fputs(named ? "#    domains: [" : "#    cidrs: [", g->o);
		yq(g->o, named ? tgt : c);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			fprintf(g->o, "]\n#    ports: [%lld", sqlite3_column_int64(st, 3));
	} else {
		fputs("#    paths: [", g->o);
		yq_lit(g->o, tgt);
		int fi = fop_index(op);
		if (fi >= 0 || (op && !strcmp(type, "unix_socket"))) {
			fputs("]\n#    operations: [", g->o);
			audit_fput_safe(fi >= 0 ? fops[fi] : op, g->o);
		}
	}
	fputs("]\n#    decision: allow\n", g->o);
}

/* A redirected operation never ran as asked, and its redirect_to cannot be
 * rebuilt from the event: it is listed with the blocked ones. */
#define ALLOWED "coalesce(effective, decision, 'allow') IN ('allow', 'audit', 'soft_delete', 'approve')"

static void generate(struct gen *g, const char *name)
{
	char ts[40];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	audit_fmt_time((int64_t)now.tv_sec * 1000000000, ts, sizeof ts);
	query(g, "SELECT operation, path, path2, coalesce(effective, decision) FROM events WHERE session_id = ?1"
	      " AND type IN ('file', 'soft_delete') AND " ALLOWED " ORDER BY seq", on_file);
	query(g, "SELECT operation, path, rule FROM events WHERE session_id = ?1 AND type IN ('file', 'soft_delete')"
	      " AND effective = 'deny' ORDER BY seq", on_blocked_file);
	query(g, "SELECT DISTINCT path, coalesce(effective, decision) FROM events WHERE session_id = ?1"
	      " AND type = 'exec' AND path IS NOT NULL AND " ALLOWED, on_exec);
	query(g, "SELECT coalesce(dns_name, address), dns_name, port, coalesce(effective, decision) FROM events"
	      " WHERE session_id = ?1 AND type = 'network' AND coalesce(dns_name, address) IS NOT NULL AND "
	      ALLOWED " ORDER BY seq", on_net);
	query(g, "SELECT operation, path, coalesce(effective, decision) FROM events WHERE session_id = ?1"
	      " AND type = 'unix_socket' AND " ALLOWED " ORDER BY seq", on_unix);
	fprintf(g->o, "# Generated by `agentsh policy generate` from session %s on %s.\n"
		"# It allows what the session was observed doing; anything else falls to the\n"
		"# defaults (commands, network, unix sockets and file writes denied); file\n"
		"# operations that were refused stay refused (keep-blocked rules).\n"
		"# Review it before use: every path below was touched by the observed workload.\n",
		g->sid, ts);
	fputs("version: 1\nname: ", g->o);
	yq(g->o, name);
	fputs("\ndescription: ", g->o);
	char d[256];
	snprintf(d, sizeof d, "Generated from audit session %s", g->sid);
	yq(g->o, d);
	fputc('\n', g->o);
	/* a locked-down policy should show every decision it makes */
	fputs("\naudit:\n  log_allowed: true\n  log_denied: true\n  log_approved: true\n", g->o);
	if (g->execs.n) {
		header(g, "command_rules");
		for (size_t i = 0; i < g->execs.n; i++) {
			fprintf(g->o, "  - name: observed-command-%d\n    commands: [", ++g->nrules);
			yq(g->o, g->execs.v[i].key);
			fprintf(g->o, "]\n    decision: %s\n", g->execs.v[i].dec);
		}
	}
	if (g->files.n || g->blocked_files.n) {
		header(g, "file_rules");
		blocked_file_rules(g);
		file_globs(g);
		file_literals(g);
	}
	if (g->nets.n) {
		header(g, "network_rules");
		net_rules(g);
	}
	if (g->unixes.n) {
		header(g, "unix_socket_rules");
		for (size_t i = 0; i < g->unixes.n; i++) {
			fprintf(g->o, "  - name: observed-unix-%d\n    paths: [", ++g->nrules);
			yq_lit(g->o, g->unixes.v[i].key);
			fputs("]\n", g->o);
			write_ops(g->o, g->unixes.v[i].mask, uops, 4);
			fprintf(g->o, "    decision: %s\n", g->unixes.v[i].dec);
		}
	}
	fputs("\n# ---- operations that were blocked during the session (not allowed above) ----\n", g->o);
	int nb = query(g, "SELECT type, operation, coalesce(path, dns_name, address, argv), port, rule, count(*), dns_name, effective = 'redirect'"
		       " FROM events WHERE session_id = ?1 AND (effective IN ('deny', 'redirect') OR type = 'surface_denied')"
		       " AND type NOT IN ('approval_resolved') GROUP BY 1, 2, 3, 4, 5 ORDER BY min(seq) LIMIT 200",
		       on_blocked);
	if (!nb)
		fputs("# none\n", g->o);
}

int policy_generate_cli(int argc, char **argv, const struct audit_cli_env *env)
{
	static const struct option lo[] = {
		{ "name", required_argument, 0, 'n' }, { "threshold", required_argument, 0, 't' },
		{ "output", required_argument, 0, 'o' }, { 0, 0, 0, 0 },
	};
	const char *name = "generated", *outp = NULL;
	long threshold = 5;
	int c;
	char *end;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "n:t:o:", lo, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'o')
			outp = optarg;
		else if (c == 't' && (threshold = strtol(optarg, &end, 10)) >= 0 && !*end && threshold < 1000000)
			;
		else {
			fprintf(ERR(env), "usage: policy generate [SESSION|latest] [--name NAME] [--threshold N] [--output FILE]\n");
			return 2;
		}
	}
	struct audit_cli_session cs;
	if (audit_cli_session_open(env, "policy generate", optind < argc ? argv[optind] : NULL, false, outp, &cs))
		return 2;
	struct gen g = { .a = cs.a, .o = cs.out, .sid = cs.sid, .threshold = (unsigned)threshold };
	generate(&g, name);
	if (g.ret)
		fprintf(ERR(env), "policy generate: %s\n", audit_strerror(cs.a));
	list_free(&g.files);
	list_free(&g.execs);
	list_free(&g.nets);
	list_free(&g.unixes);
	list_free(&g.blocked_files);
	g.ret = audit_cli_session_close(env, "policy generate", &cs, g.ret);
	return g.ret ? 2 : 0;
}
