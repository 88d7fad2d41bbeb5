/* The schema walk: YAML tree -> compiled struct policy.  Every problem is
 * reported with its line:col and the walk goes on, so one run lists all the
 * errors of a file; the caller throws the half-built policy away if any. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

struct cctx {
	const char *file;
	struct policy_diags *d;
	const struct policy_vars *vars;
	struct policy *p;
	size_t errors;
	bool oom;
};

#define ERR(c, n, code, ...)                                                            \
	do {                                                                            \
		pdiag((c)->d, POLICY_SEV_ERROR, (c)->file, (n) ? (n)->line : 0,          \
		      (n) ? (n)->col : 0, code, __VA_ARGS__);                           \
		(c)->errors++;                                                          \
	} while (0)

#define NK(a) (sizeof(a) / sizeof((a)[0]))

/* Keys of the reference format this agentsh does not enforce.  Loading a
 * policy without them would silently drop part of its meaning, so they are
 * errors that say so. */
static const char *const unsupported_keys[] = {
	"metadata", "registry_rules", "http_services", "providers", "process_contexts",
	"process_identities", "package_rules", "transparent_commands", "mcp_rules",
	"db_services", "database_rules", "database_connection_rules", "policies", "services",
	"chain_rules", "priority",
};

/* ------------------------------------------------------------ tree helpers */

static const struct ynode *map_get(const struct ynode *m, const char *key)
{
	if (!m || m->type != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kids[i]->type == Y_SCALAR && !strcmp(m->kids[i]->str, key))
			return m->kids[i + 1];
	return NULL;
}

/* Reports every key of map m that is not in known[], duplicates, and
 * non-scalar keys.  where = "command_rules[3]" etc. */
static void check_keys(struct cctx *c, const struct ynode *m, const char *const *known,
		       size_t nknown, const char *where)
{
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i];
		if (k->type != Y_SCALAR) {
			ERR(c, k, "wrong-type", "a key in %s is %s; keys must be plain names", where,
			    ynode_type_name(k));
			continue;
		}
		for (size_t j = 0; j < i; j += 2)
			if (m->kids[j]->type == Y_SCALAR && !strcmp(m->kids[j]->str, k->str)) {
				ERR(c, k, "duplicate-key",
				    "duplicate key '%s' in %s (first at line %u); keep one", k->str, where,
				    m->kids[j]->line);
				break;
			}
		bool ok = false;
		for (size_t j = 0; j < nknown; j++)
			if (!strcmp(known[j], k->str))
				ok = true;
		if (ok)
			continue;
		bool unsup = false;
		for (size_t j = 0; j < NK(unsupported_keys); j++)
			if (!strcmp(unsupported_keys[j], k->str))
				unsup = true;
		if (unsup) {
			ERR(c, k, "unsupported-key",
			    "key '%s' in %s is a reference agentsh feature this agentsh does not support; "
			    "remove it (a policy never loads with part of its meaning dropped)",
			    k->str, where);
			continue;
		}
		const char *dym = did_you_mean(k->str, known, nknown);
		if (dym)
			ERR(c, k, "unknown-key", "unknown key '%s' in %s (did you mean '%s'?)", k->str,
			    where, dym);
		else
			ERR(c, k, "unknown-key", "unknown key '%s' in %s (known keys: see agentsh-policy(5))",
			    k->str, where);
	}
}

static bool want(struct cctx *c, const struct ynode *n, enum ynode_type t, const char *where,
		 const char *key)
{
	if (n->type == t)
		return true;
	const char *exp = t == Y_SCALAR ? "a scalar" : t == Y_SEQ ? "a list" : "a mapping";
	ERR(c, n, "wrong-type", "'%s' in %s must be %s, not %s", key, where, exp,
	    ynode_type_name(n));
	return false;
}

static char *xstrdup(struct cctx *c, const char *s)
{
	char *r = s ? strdup(s) : NULL;
	if (s && !r)
		c->oom = true;
	return r;
}

static bool get_str(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		    char **out)
{
	const struct ynode *n = map_get(m, key);
	if (!n)
		return false;
	if (!want(c, n, Y_SCALAR, where, key))
		return false;
	free(*out);
	*out = xstrdup(c, n->str);
	return true;
}

static bool get_bool(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		     bool *out)
{
	const struct ynode *n = map_get(m, key);
	if (!n || !want(c, n, Y_SCALAR, where, key))
		return false;
	if (!strcmp(n->str, "true") || !strcmp(n->str, "yes") || !strcmp(n->str, "on"))
		*out = true;
	else if (!strcmp(n->str, "false") || !strcmp(n->str, "no") || !strcmp(n->str, "off"))
		*out = false;
	else {
		ERR(c, n, "wrong-type", "'%s' in %s must be true or false, not '%s'", key, where, n->str);
		return false;
	}
	return true;
}

static bool get_uint(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		     uint64_t max, uint64_t *out)
{
	const struct ynode *n = map_get(m, key);
	if (!n || !want(c, n, Y_SCALAR, where, key))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(n->str, &end, 10);
	if (!isdigit((unsigned char)n->str[0]) || *end || errno || v > max) {
		ERR(c, n, "wrong-type", "'%s' in %s must be a whole number from 0 to %llu, not '%s'", key,
		    where, (unsigned long long)max, n->str);
		return false;
	}
	*out = v;
	return true;
}

static bool get_duration(struct cctx *c, const struct ynode *m, const char *key, const char *where,
			 unsigned *ms)
{
	const struct ynode *n = map_get(m, key);
	if (!n || !want(c, n, Y_SCALAR, where, key))
		return false;
	if (parse_duration_ms(n->str, ms)) {
		ERR(c, n, "wrong-type", "'%s' in %s must be a duration like 30s, 5m, 2h or 1h30m, not '%s'",
		    key, where, n->str);
		return false;
	}
	return true;
}

/* A list of scalars.  Items are kept with their nodes for precise errors. */
static const struct ynode *get_list(struct cctx *c, const struct ynode *m, const char *key,
				    const char *where)
{
	const struct ynode *n = map_get(m, key);
	if (!n || !want(c, n, Y_SEQ, where, key))
		return NULL;
	bool ok = true;
	for (size_t i = 0; i < n->n; i++)
		if (n->kids[i]->type != Y_SCALAR) {
			ERR(c, n->kids[i], "wrong-type", "'%s' item %zu in %s must be a scalar, not %s", key,
			    i, where, ynode_type_name(n->kids[i]));
			ok = false;
		}
	return ok ? n : NULL;
}

static void strv_push(struct cctx *c, struct strv *v, const char *s)
{
	char **nv = realloc(v->v, (v->n + 2) * sizeof(char *));
	if (!nv) {
		c->oom = true;
		return;
	}
	v->v = nv;
	if (!(nv[v->n] = strdup(s))) {
		c->oom = true;
		return;
	}
	v->n++;
	nv[v->n] = NULL;
}

static void strv_free(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

/* Expand variables in a glob; reports errors at the node. */
static char *expand_at(struct cctx *c, const struct ynode *n, const char *where)
{
	char err[256];
	char *r = vars_expand(n->str, c->vars, err, sizeof(err));
	if (!r)
		ERR(c, n, "undefined-variable", "%s in %s: '%s'", err, where, n->str);
	return r;
}

static bool check_template(struct cctx *c, const struct ynode *m, const char *where)
{
	const struct ynode *n = map_get(m, "message");
	if (!n || n->type != Y_SCALAR)
		return true;
	static const char *const fields[] = { ".Path", ".Args", ".Command", ".RemoteAddr",
		".RemotePort", ".Domain", ".Operation", ".Rule" };
	for (const char *p = n->str; (p = strstr(p, "{{"));) {
		const char *e = strstr(p, "}}");
		if (!e) {
			ERR(c, n, "bad-template", "unterminated '{{' in the message of %s; close it with '}}'",
			    where);
			return false;
		}
		const char *f = p + 2;
		while (*f == ' ')
			f++;
		size_t fl = (size_t)(e - f);
		while (fl && f[fl - 1] == ' ')
			fl--;
		bool ok = false;
		for (size_t i = 0; i < NK(fields); i++)
			if (strlen(fields[i]) == fl && !memcmp(fields[i], f, fl))
				ok = true;
		if (!ok) {
			ERR(c, n, "bad-template",
			    "unknown template field '{{%.*s}}' in the message of %s (use .Path, .Args, "
			    ".Command, .RemoteAddr, .RemotePort, .Domain, .Operation or .Rule)",
			    (int)fl, f, where);
			return false;
		}
		p = e + 2;
	}
	return true;
}

/* name, description, decision, message, timeout */
static void rule_common(struct cctx *c, const struct ynode *m, const char *where,
			const char *list, size_t idx, uint32_t allowed, struct rule_common *rc)
{
	rc->line = m->line;
	rc->col = m->col;
	get_str(c, m, "name", where, &rc->name);
	if (!rc->name) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s[%zu]", list, idx);
		rc->name = xstrdup(c, buf);
	}
	get_str(c, m, "description", where, &rc->description);
	get_str(c, m, "message", where, &rc->message);
	check_template(c, m, where);
	get_duration(c, m, "timeout", where, &rc->timeout_ms);
	const struct ynode *d = map_get(m, "decision");
	rc->decision = POLICY_DENY;
	if (!d) {
		ERR(c, m, "missing-key", "%s has no 'decision'; add one of allow, deny, approve, audit…",
		    where);
		return;
	}
	if (!want(c, d, Y_SCALAR, where, "decision"))
		return;
	enum policy_decision dec;
	if (policy_decision_parse(d->str, &dec) || !(allowed & (1u << dec))) {
		char ok[128] = "";
		for (int i = 0; i < POLICY_NDECISIONS; i++)
			if (allowed & (1u << i)) {
				if (*ok)
					strcat(ok, ", ");
				strcat(ok, policy_decision_name((enum policy_decision)i));
			}
		const char *dym = NULL;
		static const char *const all[] = { "allow", "deny", "approve", "redirect", "audit",
			"soft_delete", "absorb" };
		if (policy_decision_parse(d->str, &dec))
			dym = did_you_mean(d->str, all, NK(all));
		ERR(c, d, "unknown-decision", "unknown decision '%s' in %s%s%s%s (valid here: %s)", d->str,
		    where, dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "", ok);
		return;
	}
	rc->decision = dec;
}

#define DEC(x) (1u << POLICY_##x)

static void compile_globs(struct cctx *c, const struct ynode *n, const char *s, bool icase,
			  struct glob **v, size_t *nv, const char *where)
{
	const char *err = NULL;
	int e = glob_compile_all(s, icase, v, nv, &err);
	if (e == -ENOMEM)
		c->oom = true;
	else if (e)
		ERR(c, n, "bad-glob", "invalid pattern '%s' in %s: %s", s, where, err);
}

/* ------------------------------------------------------------ file rules */

static void file_rule(struct cctx *c, const struct ynode *m, size_t idx, struct file_rule *r)
{
	static const char *const keys[] = { "name", "description", "paths", "operations", "decision",
		"message", "timeout", "redirect_to", "preserve_tree" };
	char where[64];
	snprintf(where, sizeof(where), "file_rules[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	rule_common(c, m, where, "file_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(REDIRECT) | DEC(AUDIT) | DEC(SOFT_DELETE),
		    &r->c);
	const struct ynode *paths = get_list(c, m, "paths", where);
	if (!map_get(m, "paths"))
		ERR(c, m, "missing-key", "%s ('%s') has no 'paths'; list the paths it applies to", where,
		    r->c.name);
	for (size_t i = 0; paths && i < paths->n; i++) {
		char *x = expand_at(c, paths->kids[i], where);
		if (!x)
			continue;
		if (x[0] != '/' && strncmp(x, "**", 2) != 0 && strncmp(x, "*", 1) != 0)
			ERR(c, paths->kids[i], "relative-path",
			    "path '%s' in %s is relative; write an absolute path or start it with '**/'", x,
			    where);
		strv_push(c, &r->paths, x);
		compile_globs(c, paths->kids[i], x, false, &r->globs, &r->nglobs, where);
		free(x);
	}
	const struct ynode *ops = get_list(c, m, "operations", where);
	if (!map_get(m, "operations"))
		r->ops = (1u << POLICY_FILE_NOPS) - 1;  /* reference: empty list = every operation */
	for (size_t i = 0; ops && i < ops->n; i++) {
		bool ok;
		uint32_t b = file_ops_from_word(ops->kids[i]->str, &ok);
		if (!ok) {
			static const char *const words[] = { "read", "open", "stat", "list", "readlink",
				"access", "write", "create", "delete", "rmdir", "mkdir", "rename", "link",
				"symlink", "chmod", "chown", "mknod", "truncate", "xattr", "exec", "*" };
			const char *dym = did_you_mean(ops->kids[i]->str, words, NK(words));
			ERR(c, ops->kids[i], "unknown-operation", "unknown file operation '%s' in %s%s%s%s",
			    ops->kids[i]->str, where, dym ? " (did you mean '" : "", dym ? dym : "",
			    dym ? "'?)" : "");
		}
		r->ops |= b;
	}
	if (ops && ops->n == 0)
		r->ops = (1u << POLICY_FILE_NOPS) - 1;
	get_str(c, m, "redirect_to", where, &r->redirect_to);
	get_bool(c, m, "preserve_tree", where, &r->preserve_tree);
	if (r->c.decision == POLICY_REDIRECT && !r->redirect_to)
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to' directory", where);
	if (r->redirect_to && r->c.decision != POLICY_REDIRECT)
		ERR(c, map_get(m, "redirect_to"), "useless-key",
		    "'redirect_to' in %s is only used with decision: redirect; remove it or change the decision",
		    where);
	if (r->redirect_to) {
		char err[256];
		char *x = vars_expand(r->redirect_to, c->vars, err, sizeof(err));
		if (!x)
			ERR(c, map_get(m, "redirect_to"), "undefined-variable", "%s in %s", err, where);
		else if (x[0] != '/')
			ERR(c, map_get(m, "redirect_to"), "relative-path",
			    "'redirect_to' in %s must be an absolute directory, not '%s'", where, x);
		free(r->redirect_to);
		r->redirect_to = x;
	}
	uint32_t del = POLICY_FILE_OP_BIT(POLICY_FILE_DELETE) | POLICY_FILE_OP_BIT(POLICY_FILE_RMDIR);
	if (r->c.decision == POLICY_SOFT_DELETE && (r->ops & ~del))
		ERR(c, map_get(m, "operations") ? map_get(m, "operations") : m, "bad-operations",
		    "%s has decision soft_delete, which only applies to delete and rmdir; limit "
		    "'operations' to those", where);
}

/* ------------------------------------------------------------ command rules */

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lower_strip_real(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t n = strlen(s);
	if (n > 5 && !strcmp(s + n - 5, ".real"))
		s[n - 5] = 0;
}

static void add_command(struct cctx *c, const struct ynode *n, const char *s, struct cmd_rule *r,
			const char *where)
{
	if (!*s) {
		ERR(c, n, "empty", "empty command name in %s", where);
		return;
	}
	bool slash = strchr(s, '/') != NULL;
	bool wild = false;
	for (const char *p = s; *p; p++)
		if (strchr("*?{\\", *p) || (*p == '[' && strchr(p, ']')))
			wild = true;
	if (!strcmp(s, "*") || !strcmp(s, "**")) {
		r->match_all = true;
	} else if (slash && !wild) {
		char **nv = realloc(r->exact, (r->nexact + 1) * sizeof(char *));
		if (!nv) { c->oom = true; return; }
		r->exact = nv;
		nv[r->nexact++] = xstrdup(c, s);
	} else if (slash) {
		compile_globs(c, n, s, false, &r->pglobs, &r->npglobs, where);
	} else if (!wild) {
		char **nv = realloc(r->bnames, (r->nbnames + 1) * sizeof(char *));
		if (!nv) { c->oom = true; return; }
		r->bnames = nv;
		nv[r->nbnames] = xstrdup(c, s);
		if (nv[r->nbnames])
			lower_strip_real(nv[r->nbnames++]);
	} else {
		compile_globs(c, n, s, true, &r->bglobs, &r->nbglobs, where);
	}
}

static void env_lists(struct cctx *c, const struct ynode *m, const char *akey, const char *dkey,
		      const char *where, struct env_rule *e)
{
	const struct ynode *a = get_list(c, m, akey, where), *d = get_list(c, m, dkey, where);
	for (size_t i = 0; a && i < a->n; i++) {
		strv_push(c, &e->allow_src, a->kids[i]->str);
		compile_globs(c, a->kids[i], a->kids[i]->str, false, &e->allow, &e->nallow, where);
		e->has_allow = true;
		e->set = true;
	}
	if (a)
		e->has_allow = e->set = true;
	for (size_t i = 0; d && i < d->n; i++) {
		strv_push(c, &e->deny_src, d->kids[i]->str);
		compile_globs(c, d->kids[i], d->kids[i]->str, false, &e->deny, &e->ndeny, where);
		e->set = true;
	}
}

static void cmd_redirect(struct cctx *c, const struct ynode *m, const char *where, struct cmd_rule *r)
{
	const struct ynode *rd = map_get(m, "redirect_to");
	if (!rd)
		return;
	char w2[96];
	snprintf(w2, sizeof(w2), "%s.redirect_to", where);
	if (!want(c, rd, Y_MAP, where, "redirect_to"))
		return;
	static const char *const keys[] = { "command", "args", "args_append", "environment" };
	check_keys(c, rd, keys, NK(keys), w2);
	if (!get_str(c, rd, "command", w2, &r->redir_cmd))
		ERR(c, rd, "missing-key", "%s has no 'command'; name the program to run instead", w2);
	const struct ynode *l;
	if ((l = get_list(c, rd, "args", w2)))
		for (size_t i = 0; i < l->n; i++)
			strv_push(c, &r->redir_args, l->kids[i]->str);
	if ((l = get_list(c, rd, "args_append", w2)))
		for (size_t i = 0; i < l->n; i++)
			strv_push(c, &r->redir_append, l->kids[i]->str);
	const struct ynode *env = map_get(rd, "environment");
	if (env && want(c, env, Y_MAP, w2, "environment"))
		for (size_t i = 0; i + 1 < env->n; i += 2) {
			const struct ynode *k = env->kids[i], *v = env->kids[i + 1];
			if (k->type != Y_SCALAR || v->type != Y_SCALAR || !*k->str || strchr(k->str, '=')) {
				ERR(c, k, "wrong-type", "%s.environment entries must be NAME: value", w2);
				continue;
			}
			char *kv;
			if (asprintf(&kv, "%s=%s", k->str, v->str) < 0) {
				c->oom = true;
				continue;
			}
			strv_push(c, &r->redir_env, kv);
			free(kv);
		}
}

static void cmd_context(struct cctx *c, const struct ynode *m, const char *where, struct cmd_rule *r)
{
	const struct ynode *n = map_get(m, "context");
	r->min_depth = 0;
	r->max_depth = -1;
	if (!n)
		return;
	if (n->type == Y_SEQ) {
		bool direct = false, nested = false;
		for (size_t i = 0; i < n->n; i++) {
			const struct ynode *k = n->kids[i];
			if (k->type == Y_SCALAR && !strcmp(k->str, "direct"))
				direct = true;
			else if (k->type == Y_SCALAR && !strcmp(k->str, "nested"))
				nested = true;
			else
				ERR(c, k, "wrong-type", "context in %s lists '%s'; use direct and/or nested", where,
				    k->type == Y_SCALAR ? k->str : "?");
		}
		r->min_depth = direct ? 0 : 1;
		r->max_depth = nested ? -1 : 0;
		if (!direct && !nested)
			r->max_depth = -2;      /* matches nothing: lint reports it */
	} else if (n->type == Y_MAP) {
		static const char *const keys[] = { "min_depth", "max_depth" };
		char w2[96];
		snprintf(w2, sizeof(w2), "%s.context", where);
		check_keys(c, n, keys, NK(keys), w2);
		for (int k = 0; k < 2; k++) {
			const struct ynode *v = map_get(n, keys[k]);
			if (!v || !want(c, v, Y_SCALAR, w2, keys[k]))
				continue;
			char *end;
			long x = strtol(v->str, &end, 10);
			if (*end || !*v->str || x < -1 || x > 1000)
				ERR(c, v, "wrong-type", "'%s' in %s must be a number from -1 (unlimited) to 1000",
				    keys[k], w2);
			else if (k == 0)
				r->min_depth = x < 0 ? 0 : (int)x;
			else
				r->max_depth = (int)x;
		}
	} else {
		ERR(c, n, "wrong-type", "'context' in %s must be a list ([direct, nested]) or a mapping "
		    "({min_depth, max_depth})", where);
	}
}

static void cmd_rule(struct cctx *c, const struct ynode *m, size_t idx, struct cmd_rule *r)
{
	static const char *const keys[] = { "name", "description", "commands", "args_patterns",
		"decision", "message", "timeout", "redirect_to", "context", "env_allow", "env_deny",
		"env_max_bytes", "env_max_keys", "env_block_iteration" };
	char where[64];
	snprintf(where, sizeof(where), "command_rules[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	rule_common(c, m, where, "command_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(REDIRECT) | DEC(AUDIT), &r->c);
	const struct ynode *cmds = get_list(c, m, "commands", where);
	for (size_t i = 0; cmds && i < cmds->n; i++) {
		char *x = expand_at(c, cmds->kids[i], where);
		if (!x)
			continue;
		strv_push(c, &r->commands, x);
		add_command(c, cmds->kids[i], x, r, where);
		free(x);
	}
	if (!map_get(m, "commands") || (cmds && cmds->n == 0))
		r->match_all = true;    /* reference: no commands = every command */
	if (r->exact)
		qsort(r->exact, r->nexact, sizeof(char *), cmpstr);
	if (r->bnames)
		qsort(r->bnames, r->nbnames, sizeof(char *), cmpstr);
	const struct ynode *ap = get_list(c, m, "args_patterns", where);
	if (ap && ap->n) {
		r->args = calloc(ap->n, sizeof(regex_t));
		if (!r->args)
			c->oom = true;
		for (size_t i = 0; r->args && i < ap->n; i++) {
			const struct ynode *k = ap->kids[i];
			int e = regcomp(&r->args[r->nargs], k->str, REG_EXTENDED | REG_NOSUB);
			if (e) {
				char eb[128];
				regerror(e, &r->args[r->nargs], eb, sizeof(eb));
				ERR(c, k, "bad-regex", "invalid regular expression '%s' in %s: %s (POSIX extended "
				    "syntax: no (?i), \\d or lazy quantifiers)", k->str, where, eb);
				continue;
			}
			strv_push(c, &r->args_src, k->str);
			r->nargs++;
		}
	}
	cmd_context(c, m, where, r);
	cmd_redirect(c, m, where, r);
	if (r->c.decision == POLICY_REDIRECT && !r->redir_cmd && !map_get(m, "redirect_to"))
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to: {command: …}'",
		    where);
	if (r->redir_cmd && r->c.decision != POLICY_REDIRECT)
		ERR(c, map_get(m, "redirect_to"), "useless-key",
		    "'redirect_to' in %s is only used with decision: redirect", where);
	env_lists(c, m, "env_allow", "env_deny", where, &r->env);
	uint64_t v;
	if (get_uint(c, m, "env_max_bytes", where, 1ull << 30, &v))
		r->env.max_bytes = v, r->env.set = true;
	if (get_uint(c, m, "env_max_keys", where, 1ull << 20, &v))
		r->env.max_keys = v, r->env.set = true;
	if (get_bool(c, m, "env_block_iteration", where, &r->env.block_iteration))
		r->env.set = true;
}

/* ------------------------------------------------------------ network rules */

static void net_ports(struct cctx *c, const struct ynode *l, const char *where, struct net_rule *r)
{
	r->ports = calloc(l->n ? l->n : 1, sizeof(*r->ports));
	if (!r->ports) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		const char *s = l->kids[i]->str;
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		bool ok = isdigit((unsigned char)*s);
		if (ok && *end == '-') {
			const char *h = end + 1;
			ok = isdigit((unsigned char)*h);
			hi = strtoul(h, &end, 10);
		}
		if (!ok || *end || lo < 1 || hi > 65535 || lo > hi) {
			ERR(c, l->kids[i], "bad-port",
			    "invalid port '%s' in %s; use a number 1-65535 or a range like 8000-8100", s, where);
			continue;
		}
		r->ports[r->nports].lo = (uint16_t)lo;
		r->ports[r->nports].hi = (uint16_t)hi;
		r->nports++;
	}
}

static void net_rule(struct cctx *c, const struct ynode *m, size_t idx, struct net_rule *r)
{
	static const char *const keys[] = { "name", "description", "domains", "ports", "cidrs",
		"decision", "message", "timeout" };
	char where[64];
	snprintf(where, sizeof(where), "network_rules[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	rule_common(c, m, where, "network_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(AUDIT), &r->c);
	const struct ynode *l = get_list(c, m, "domains", where);
	for (size_t i = 0; l && i < l->n; i++) {
		char *x = expand_at(c, l->kids[i], where);
		if (!x)
			continue;
		for (char *p = x; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		size_t xl = strlen(x);
		if (xl && x[xl - 1] == '.')
			x[xl - 1] = 0;
		strv_push(c, &r->domains, x);
		if (!strcmp(x, "*"))
			r->domain_any = true;
		else if (!*x || strchr(x, '/') || strchr(x, ':'))
			ERR(c, l->kids[i], "bad-domain", "invalid domain '%s' in %s; write a host name or a "
			    "pattern like *.example.com (put IP ranges in 'cidrs', ports in 'ports')",
			    l->kids[i]->str, where);
		else
			compile_globs(c, l->kids[i], x, true, &r->dglobs, &r->ndglobs, where);
		free(x);
	}
	if (l && l->n == 0)
		ERR(c, l, "empty", "'domains' in %s is empty; remove it or list names", where);
	if ((l = get_list(c, m, "cidrs", where))) {
		r->cidrs = calloc(l->n ? l->n : 1, sizeof(*r->cidrs));
		if (!r->cidrs)
			c->oom = true;
		for (size_t i = 0; r->cidrs && i < l->n; i++) {
			if (parse_cidr(l->kids[i]->str, &r->cidrs[r->ncidrs]))
				ERR(c, l->kids[i], "bad-cidr", "invalid CIDR '%s' in %s; write e.g. 10.0.0.0/8 or "
				    "fd00::/8", l->kids[i]->str, where);
			else
				r->ncidrs++;
		}
		if (l->n == 0)
			ERR(c, l, "empty", "'cidrs' in %s is empty; remove it or list ranges", where);
	}
	if ((l = get_list(c, m, "ports", where))) {
		net_ports(c, l, where, r);
		if (l->n == 0)
			ERR(c, l, "empty", "'ports' in %s is empty; remove it or list ports", where);
	}
}

/* ------------------------------------------------------------ unix socket rules */

static void unix_rule(struct cctx *c, const struct ynode *m, size_t idx, struct unix_rule *r)
{
	static const char *const keys[] = { "name", "description", "paths", "operations", "decision",
		"message", "timeout" };
	char where[64];
	snprintf(where, sizeof(where), "unix_socket_rules[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	rule_common(c, m, where, "unix_socket_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(AUDIT), &r->c);
	const struct ynode *l = get_list(c, m, "paths", where);
	if (!map_get(m, "paths"))
		ERR(c, m, "missing-key", "%s has no 'paths'; list socket paths or @abstract names", where);
	for (size_t i = 0; l && i < l->n; i++) {
		char *x = expand_at(c, l->kids[i], where);
		if (!x)
			continue;
		strv_push(c, &r->paths, x);
		compile_globs(c, l->kids[i], x, false, &r->globs, &r->nglobs, where);
		free(x);
	}
	r->ops = 0xf;
	if ((l = get_list(c, m, "operations", where)) && l->n) {
		r->ops = 0;
		for (size_t i = 0; i < l->n; i++) {
			const char *s = l->kids[i]->str;
			int k = !strcmp(s, "connect") ? 0 : !strcmp(s, "bind") ? 1 : !strcmp(s, "listen") ? 2
				: !strcmp(s, "sendto") ? 3 : !strcmp(s, "*") ? 4 : -1;
			if (k < 0)
				ERR(c, l->kids[i], "unknown-operation", "unknown socket operation '%s' in %s (use "
				    "connect, bind, listen, sendto)", s, where);
			else
				r->ops |= k == 4 ? 0xf : 1u << k;
		}
	}
}

/* ------------------------------------------------------------ signal rules */

static void sig_target(struct cctx *c, const struct ynode *m, const char *where, struct sig_rule *r)
{
	const struct ynode *t = map_get(m, "target");
	r->tt = TT_ANY;
	if (!t)
		return;
	if (!want(c, t, Y_MAP, where, "target"))
		return;
	char w2[96];
	snprintf(w2, sizeof(w2), "%s.target", where);
	static const char *const keys[] = { "type", "pattern", "min", "max" };
	check_keys(c, t, keys, NK(keys), w2);
	const struct ynode *ty = map_get(t, "type");
	if (!ty) {
		ERR(c, t, "missing-key", "%s has no 'type'", w2);
		return;
	}
	if (!want(c, ty, Y_SCALAR, w2, "type"))
		return;
	static const char *const types[] = { "self", "children", "descendants", "siblings", "session",
		"parent", "external", "system", "user", "process", "pid_range" };
	size_t k;
	for (k = 0; k < NK(types); k++)
		if (!strcmp(types[k], ty->str))
			break;
	if (k == NK(types)) {
		const char *dym = did_you_mean(ty->str, types, NK(types));
		ERR(c, ty, "unknown-target", "unknown signal target type '%s' in %s%s%s%s", ty->str, w2,
		    dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
		return;
	}
	r->tt = (enum sig_tt)k;
	if (r->tt == TT_PROCESS) {
		if (!get_str(c, t, "pattern", w2, &r->tpattern))
			ERR(c, t, "missing-key", "%s has type process but no 'pattern' (a comm glob)", w2);
		else
			compile_globs(c, map_get(t, "pattern"), r->tpattern, false, &r->tglob, &r->ntglob, w2);
	}
	if (r->tt == TT_PID_RANGE) {
		uint64_t lo = 0, hi = 0;
		bool a = get_uint(c, t, "min", w2, 4194304, &lo), b = get_uint(c, t, "max", w2, 4194304, &hi);
		if (!a || !b || lo > hi)
			ERR(c, t, "missing-key", "%s has type pid_range and needs 'min' <= 'max'", w2);
		r->tmin = (long)lo;
		r->tmax = (long)hi;
	}
}

static void sig_rule(struct cctx *c, const struct ynode *m, size_t idx, struct sig_rule *r)
{
	static const char *const keys[] = { "name", "description", "signals", "target", "decision",
		"fallback", "redirect_to", "message", "timeout" };
	char where[64];
	snprintf(where, sizeof(where), "signal_rules[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	rule_common(c, m, where, "signal_rules", idx, 0x7f, &r->c);
	const struct ynode *l = get_list(c, m, "signals", where);
	if (!map_get(m, "signals"))
		ERR(c, m, "missing-key", "%s has no 'signals'; list names, numbers or groups like @all",
		    where);
	for (size_t i = 0; l && i < l->n; i++) {
		const char *s = l->kids[i]->str;
		strv_push(c, &r->signals, s);
		uint64_t mask;
		int sig;
		if (s[0] == '@') {
			if (sig_group_mask(s, &mask))
				ERR(c, l->kids[i], "bad-signal", "unknown signal group '%s' in %s (use @all, "
				    "@fatal, @job, @reload, @ignore)", s, where);
			else
				r->sigs |= mask;
		} else if ((sig = policy_signal_parse(s)) > 0) {
			r->sigs |= (uint64_t)1 << (sig - 1);
		} else {
			ERR(c, l->kids[i], "bad-signal", "unknown signal '%s' in %s (use SIGTERM, TERM, 15 "
			    "or a group)", s, where);
		}
	}
	sig_target(c, m, where, r);
	const struct ynode *fb = map_get(m, "fallback");
	if (fb && want(c, fb, Y_SCALAR, where, "fallback")) {
		if (policy_decision_parse(fb->str, &r->fallback))
			ERR(c, fb, "unknown-decision", "unknown fallback decision '%s' in %s", fb->str, where);
		else
			r->has_fallback = true;
	}
	const struct ynode *rd = map_get(m, "redirect_to");
	if (rd && want(c, rd, Y_SCALAR, where, "redirect_to")) {
		r->redirect_sig = policy_signal_parse(rd->str);
		if (r->redirect_sig <= 0)
			ERR(c, rd, "bad-signal", "'redirect_to' in %s must be a signal, not '%s'", where,
			    rd->str);
	}
	if (r->c.decision == POLICY_REDIRECT && !rd)
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to' signal", where);
}

/* ------------------------------------------------------------ redirects */

static void dns_redirect(struct cctx *c, const struct ynode *m, size_t idx, struct dns_redirect *r)
{
	static const char *const keys[] = { "name", "match", "resolve_to", "visibility", "on_failure" };
	char where[64];
	snprintf(where, sizeof(where), "dns_redirects[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	r->line = m->line;
	get_str(c, m, "name", where, &r->name);
	if (!r->name)
		r->name = xstrdup(c, where);
	if (!get_str(c, m, "match", where, &r->match_src))
		ERR(c, m, "missing-key", "%s has no 'match' regular expression", where);
	else if (regcomp(&r->re, r->match_src, REG_EXTENDED | REG_NOSUB | REG_ICASE)) {
		ERR(c, map_get(m, "match"), "bad-regex", "invalid regular expression '%s' in %s",
		    r->match_src, where);
		free(r->match_src);
		r->match_src = NULL;
	}
	struct policy_cidr ip;
	if (!get_str(c, m, "resolve_to", where, &r->resolve_to))
		ERR(c, m, "missing-key", "%s has no 'resolve_to' IP address", where);
	else if (parse_cidr(r->resolve_to, &ip) || strchr(r->resolve_to, '/'))
		ERR(c, map_get(m, "resolve_to"), "bad-ip", "'resolve_to' in %s must be an IP address", where);
	char *s = NULL;
	if (get_str(c, m, "visibility", where, &s) && strcmp(s, "silent") && strcmp(s, "audit_only") &&
	    strcmp(s, "warn"))
		ERR(c, map_get(m, "visibility"), "bad-value", "visibility in %s must be silent, audit_only or warn", where);
	free(s);
	s = NULL;
	if (get_str(c, m, "on_failure", where, &s) && strcmp(s, "fail_closed") && strcmp(s, "fail_open") &&
	    strcmp(s, "retry_original"))
		ERR(c, map_get(m, "on_failure"), "bad-value",
		    "on_failure in %s must be fail_closed, fail_open or retry_original", where);
	free(s);
}

static void connect_redirect(struct cctx *c, const struct ynode *m, size_t idx,
			     struct connect_redirect *r)
{
	static const char *const keys[] = { "name", "match", "redirect_to", "redirect_to_unix", "tls",
		"visibility", "message", "on_failure" };
	char where[64];
	snprintf(where, sizeof(where), "connect_redirects[%zu]", idx);
	check_keys(c, m, keys, NK(keys), where);
	r->line = m->line;
	get_str(c, m, "name", where, &r->name);
	if (!r->name)
		r->name = xstrdup(c, where);
	get_str(c, m, "message", where, &r->message);
	if (!get_str(c, m, "match", where, &r->match_src))
		ERR(c, m, "missing-key", "%s has no 'match' regular expression (on host:port)", where);
	else if (regcomp(&r->re, r->match_src, REG_EXTENDED | REG_NOSUB | REG_ICASE)) {
		ERR(c, map_get(m, "match"), "bad-regex", "invalid regular expression '%s' in %s",
		    r->match_src, where);
		free(r->match_src);
		r->match_src = NULL;
	}
	char *to = NULL;
	if (get_str(c, m, "redirect_to", where, &to)) {
		char *colon = strrchr(to, ':');
		char *end = NULL;
		unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
		if (!colon || colon == to || !end || *end || port < 1 || port > 65535)
			ERR(c, map_get(m, "redirect_to"), "bad-value", "'redirect_to' in %s must be host:port", where);
		else {
			*colon = 0;
			r->host = xstrdup(c, to[0] == '[' ? to + 1 : to);
			if (r->host && r->host[0] && r->host[strlen(r->host) - 1] == ']')
				r->host[strlen(r->host) - 1] = 0;
			r->port = (uint16_t)port;
		}
	}
	free(to);
	get_str(c, m, "redirect_to_unix", where, &r->unix_path);
	if (!r->host && !r->unix_path && !map_get(m, "redirect_to"))
		ERR(c, m, "missing-key", "%s needs 'redirect_to' (host:port) or 'redirect_to_unix'", where);
	const struct ynode *tls = map_get(m, "tls");
	if (tls && want(c, tls, Y_MAP, where, "tls")) {
		static const char *const tk[] = { "mode", "sni" };
		char w2[96];
		snprintf(w2, sizeof(w2), "%s.tls", where);
		check_keys(c, tls, tk, NK(tk), w2);
		char *mode = NULL;
		if (get_str(c, tls, "mode", w2, &mode) && strcmp(mode, "passthrough") &&
		    strcmp(mode, "rewrite_sni"))
			ERR(c, map_get(tls, "mode"), "bad-value", "tls.mode in %s must be passthrough or rewrite_sni", where);
		free(mode);
	}
}

/* ------------------------------------------------------------ sections */

static void env_policy(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "allow", "deny", "max_bytes", "max_keys", "block_iteration" };
	if (!want(c, m, Y_MAP, "the policy", "env_policy"))
		return;
	check_keys(c, m, keys, NK(keys), "env_policy");
	env_lists(c, m, "allow", "deny", "env_policy", &c->p->env);
	uint64_t v;
	if (get_uint(c, m, "max_bytes", "env_policy", 1ull << 30, &v))
		c->p->env.max_bytes = v;
	if (get_uint(c, m, "max_keys", "env_policy", 1ull << 20, &v))
		c->p->env.max_keys = v;
	get_bool(c, m, "block_iteration", "env_policy", &c->p->env.block_iteration);
	c->p->env.set = true;
}

static void env_inject(struct cctx *c, const struct ynode *m)
{
	if (!want(c, m, Y_MAP, "the policy", "env_inject"))
		return;
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i], *v = m->kids[i + 1];
		if (k->type != Y_SCALAR || v->type != Y_SCALAR || !*k->str || strchr(k->str, '=')) {
			ERR(c, k, "wrong-type", "env_inject entries must be NAME: value");
			continue;
		}
		char *kv;
		if (asprintf(&kv, "%s=%s", k->str, v->str) < 0) {
			c->oom = true;
			continue;
		}
		strv_push(c, &c->p->env_inject, kv);
		free(kv);
	}
}

static void resource_limits(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "max_memory_mb", "memory_swap_max_mb", "cpu_quota_percent",
		"disk_read_bps_max", "disk_write_bps_max", "net_bandwidth_mbps", "pids_max",
		"command_timeout", "session_timeout", "idle_timeout" };
	const char *w = "resource_limits";
	if (!want(c, m, Y_MAP, "the policy", w))
		return;
	check_keys(c, m, keys, NK(keys), w);
	struct policy_limits *l = &c->p->limits;
	uint64_t v;
	if (get_uint(c, m, "max_memory_mb", w, 1ull << 40, &v)) l->max_memory_mb = v;
	if (get_uint(c, m, "memory_swap_max_mb", w, 1ull << 40, &v)) l->memory_swap_max_mb = v, l->memory_swap_set = true;
	if (get_uint(c, m, "cpu_quota_percent", w, 100000, &v)) l->cpu_quota_percent = (unsigned)v;
	if (get_uint(c, m, "disk_read_bps_max", w, UINT64_MAX, &v)) l->disk_read_bps_max = v;
	if (get_uint(c, m, "disk_write_bps_max", w, UINT64_MAX, &v)) l->disk_write_bps_max = v;
	if (get_uint(c, m, "net_bandwidth_mbps", w, 1000000, &v)) l->net_bandwidth_mbps = (unsigned)v;
	if (get_uint(c, m, "pids_max", w, 4194304, &v)) l->pids_max = (unsigned)v;
	unsigned ms;
	if (get_duration(c, m, "command_timeout", w, &ms)) l->command_timeout_s = ms / 1000;
	if (get_duration(c, m, "session_timeout", w, &ms)) l->session_timeout_s = ms / 1000;
	if (get_duration(c, m, "idle_timeout", w, &ms)) l->idle_timeout_s = ms / 1000;
}

static void audit_section(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "log_allowed", "log_denied", "log_approved",
		"include_stdout", "include_stderr", "include_file_content", "retention_days" };
	if (!want(c, m, Y_MAP, "the policy", "audit"))
		return;
	check_keys(c, m, keys, NK(keys), "audit");
	struct policy_audit_settings *a = &c->p->audit;
	get_bool(c, m, "log_allowed", "audit", &a->log_allowed);
	get_bool(c, m, "log_denied", "audit", &a->log_denied);
	get_bool(c, m, "log_approved", "audit", &a->log_approved);
	get_bool(c, m, "include_stdout", "audit", &a->include_stdout);
	get_bool(c, m, "include_stderr", "audit", &a->include_stderr);
	get_bool(c, m, "include_file_content", "audit", &a->include_file_content);
	uint64_t v;
	if (get_uint(c, m, "retention_days", "audit", 100000, &v))
		a->retention_days = (unsigned)v;
}

static void defaults_section(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "commands", "network", "unix_sockets", "file_read",
		"file_write", "signals" };
	if (!want(c, m, Y_MAP, "the policy", "defaults"))
		return;
	check_keys(c, m, keys, NK(keys), "defaults");
	enum policy_decision *slot[] = { &c->p->defaults.commands, &c->p->defaults.network,
		&c->p->defaults.unix_sockets, &c->p->defaults.file_read, &c->p->defaults.file_write,
		&c->p->defaults.signals };
	for (size_t i = 0; i < NK(keys); i++) {
		const struct ynode *v = map_get(m, keys[i]);
		if (!v || !want(c, v, Y_SCALAR, "defaults", keys[i]))
			continue;
		enum policy_decision d;
		if (policy_decision_parse(v->str, &d) ||
		    (d != POLICY_ALLOW && d != POLICY_DENY && d != POLICY_AUDIT && d != POLICY_APPROVE))
			ERR(c, v, "unknown-decision", "defaults.%s must be allow, deny, audit or approve, not '%s'",
			    keys[i], v->str);
		else
			*slot[i] = d;
		if (i == 5)
			c->p->defaults.signals_set = true;
	}
}

/* Allocates the rule array and runs fn on each entry. */
#define RULE_LIST(KEY, ARR, N, FN)                                                      \
	do {                                                                            \
		const struct ynode *l_ = map_get(root, KEY);                            \
		if (!l_ || !want(c, l_, Y_SEQ, "the policy", KEY))                      \
			break;                                                          \
		p->ARR = calloc(l_->n ? l_->n : 1, sizeof(*p->ARR));                    \
		if (!p->ARR) {                                                          \
			c->oom = true;                                                  \
			break;                                                          \
		}                                                                       \
		for (size_t i_ = 0; i_ < l_->n; i_++) {                                 \
			char w_[64];                                                    \
			snprintf(w_, sizeof(w_), "%s[%zu]", KEY, i_);                   \
			if (!want(c, l_->kids[i_], Y_MAP, w_, "a rule"))                \
				continue;                                               \
			FN(c, l_->kids[i_], i_, &p->ARR[p->N]);                          \
			p->N++;                                                         \
		}                                                                       \
	} while (0)

int policy_compile(struct ynode *root, const char *file, const struct policy_vars *vars,
		   struct policy *p, struct policy_diags *d)
{
	struct cctx cc = { .file = file, .d = d, .vars = vars, .p = p }, *c = &cc;
	static const char *const keys[] = { "version", "name", "description", "file_rules",
		"command_rules", "network_rules", "unix_socket_rules", "signal_rules", "env_policy",
		"env_inject", "resource_limits", "dns_redirects", "connect_redirects", "audit",
		"defaults" };
	p->defaults = (struct policy_defaults){ .commands = POLICY_DENY, .network = POLICY_DENY,
		.unix_sockets = POLICY_DENY, .file_read = POLICY_ALLOW, .file_write = POLICY_DENY,
		.signals = POLICY_DENY };
	if (root->type != Y_MAP) {
		ERR(c, root, "wrong-type", "a policy must be a mapping of keys (version, name, rules…), not %s",
		    ynode_type_name(root));
		return -EINVAL;
	}
	check_keys(c, root, keys, NK(keys), "the policy");
	uint64_t v = 0;
	if (!map_get(root, "version"))
		ERR(c, root, "missing-key", "the policy has no 'version'; add 'version: 1'");
	else if (get_uint(c, root, "version", "the policy", 1000, &v) && v != 1)
		ERR(c, map_get(root, "version"), "bad-version",
		    "unsupported policy version %llu; this agentsh reads version 1", (unsigned long long)v);
	p->version = (unsigned)v;
	if (!get_str(c, root, "name", "the policy", &p->name) && !map_get(root, "name"))
		ERR(c, root, "missing-key", "the policy has no 'name'; add 'name: <something>'");
	get_str(c, root, "description", "the policy", &p->description);

	RULE_LIST("file_rules", files, nfiles, file_rule);
	RULE_LIST("command_rules", cmds, ncmds, cmd_rule);
	RULE_LIST("network_rules", nets, nnets, net_rule);
	RULE_LIST("unix_socket_rules", unixes, nunixes, unix_rule);
	RULE_LIST("signal_rules", sigs, nsigs, sig_rule);
	RULE_LIST("dns_redirects", dnsr, ndnsr, dns_redirect);
	RULE_LIST("connect_redirects", conr, nconr, connect_redirect);
	p->has_signal_rules = map_get(root, "signal_rules") != NULL;

	const struct ynode *n;
	if ((n = map_get(root, "env_policy")))
		env_policy(c, n);
	if ((n = map_get(root, "env_inject")))
		env_inject(c, n);
	if ((n = map_get(root, "resource_limits")))
		resource_limits(c, n);
	if ((n = map_get(root, "audit")))
		audit_section(c, n);
	if ((n = map_get(root, "defaults")))
		defaults_section(c, n);
	if (c->oom)
		return -ENOMEM;
	if (c->errors)
		return -EINVAL;
	return fidx_build(p->files, p->nfiles, &p->fidx);
}

/* ------------------------------------------------------------ freeing */

static void globs_free(struct glob *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		glob_free(&g[i]);
	free(g);
}

static void rc_free(struct rule_common *c)
{
	free(c->name);
	free(c->description);
	free(c->message);
}

static void env_free(struct env_rule *e)
{
	globs_free(e->allow, e->nallow);
	globs_free(e->deny, e->ndeny);
	strv_free(&e->allow_src);
	strv_free(&e->deny_src);
}

static void strs_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void policy_free_contents(struct policy *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		struct file_rule *r = &p->files[i];
		rc_free(&r->c);
		strv_free(&r->paths);
		globs_free(r->globs, r->nglobs);
		free(r->redirect_to);
	}
	free(p->files);
	for (size_t i = 0; i < p->ncmds; i++) {
		struct cmd_rule *r = &p->cmds[i];
		rc_free(&r->c);
		strv_free(&r->commands);
		strs_free(r->exact, r->nexact);
		strs_free(r->bnames, r->nbnames);
		globs_free(r->pglobs, r->npglobs);
		globs_free(r->bglobs, r->nbglobs);
		strv_free(&r->args_src);
		for (size_t k = 0; k < r->nargs; k++)
			regfree(&r->args[k]);
		free(r->args);
		free(r->redir_cmd);
		strv_free(&r->redir_args);
		strv_free(&r->redir_append);
		strv_free(&r->redir_env);
		env_free(&r->env);
	}
	free(p->cmds);
	for (size_t i = 0; i < p->nnets; i++) {
		struct net_rule *r = &p->nets[i];
		rc_free(&r->c);
		strv_free(&r->domains);
		globs_free(r->dglobs, r->ndglobs);
		free(r->cidrs);
		free(r->ports);
	}
	free(p->nets);
	for (size_t i = 0; i < p->nunixes; i++) {
		rc_free(&p->unixes[i].c);
		strv_free(&p->unixes[i].paths);
		globs_free(p->unixes[i].globs, p->unixes[i].nglobs);
	}
	free(p->unixes);
	for (size_t i = 0; i < p->nsigs; i++) {
		rc_free(&p->sigs[i].c);
		strv_free(&p->sigs[i].signals);
		free(p->sigs[i].tpattern);
		globs_free(p->sigs[i].tglob, p->sigs[i].ntglob);
	}
	free(p->sigs);
	for (size_t i = 0; i < p->ndnsr; i++) {
		free(p->dnsr[i].name);
		if (p->dnsr[i].match_src)
			regfree(&p->dnsr[i].re);
		free(p->dnsr[i].match_src);
		free(p->dnsr[i].resolve_to);
	}
	free(p->dnsr);
	for (size_t i = 0; i < p->nconr; i++) {
		free(p->conr[i].name);
		if (p->conr[i].match_src)
			regfree(&p->conr[i].re);
		free(p->conr[i].match_src);
		free(p->conr[i].host);
		free(p->conr[i].unix_path);
		free(p->conr[i].message);
	}
	free(p->conr);
	env_free(&p->env);
	strv_free(&p->env_inject);
	free(p->name);
	free(p->description);
	free(p->source);
	free(p->sha256);
	fidx_free(p->fidx);
}
