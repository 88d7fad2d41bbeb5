/* The schema walk's helpers: typed, positioned access to the YAML tree and
 * "unknown key" reporting with suggestions. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/compile_int.h"

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

const struct ynode *pol_map_get(const struct ynode *m, const char *key)
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
void pol_check_keys(struct cctx *c, const struct ynode *m, const char *const *known,
		       size_t nknown, const char *where)
{
	/* first line of each known key: duplicates found in O(keys x known) */
	unsigned first[32] = { 0 };
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i];
		if (k->type != Y_SCALAR) {
			ERR(c, k, "wrong-type", "a key in %s is %s; keys must be plain names", where,
			    pol_ynode_type_name(k));
			continue;
		}
		bool ok = false;
		for (size_t j = 0; j < nknown && !ok; j++) {
			if (strcmp(known[j], k->str))
				continue;
			ok = true;
			if (j < 32 && first[j])
				ERR(c, k, "duplicate-key",
				    "duplicate key '%s' in %s (first at line %u); keep one", k->str, where,
				    first[j]);
			else if (j < 32)
				first[j] = k->line;
		}
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
		const char *dym = pol_did_you_mean(k->str, known, nknown);
		if (dym)
			ERR(c, k, "unknown-key", "unknown key '%s' in %s (did you mean '%s'?)", k->str,
			    where, dym);
		else
			ERR(c, k, "unknown-key", "unknown key '%s' in %s (known keys: see agentsh-policy(5))",
			    k->str, where);
	}
}

bool pol_want(struct cctx *c, const struct ynode *n, enum ynode_type t, const char *where,
		 const char *key)
{
	if (n->type == t)
		return true;
	const char *exp = t == Y_SCALAR ? "a scalar" : t == Y_SEQ ? "a list" : "a mapping";
	ERR(c, n, "wrong-type", "'%s' in %s must be %s, not %s", key, where, exp,
	    pol_ynode_type_name(n));
	return false;
}

char *pol_xstrdup(struct cctx *c, const char *s)
{
	char *r = s ? strdup(s) : NULL;
	if (s && !r)
		c->oom = true;
	return r;
}

bool pol_get_str(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		    char **out)
{
	const struct ynode *n = pol_map_get(m, key);
	if (!n)
		return false;
	if (!pol_want(c, n, Y_SCALAR, where, key))
		return false;
	free(*out);
	*out = pol_xstrdup(c, n->str);
	return true;
}

bool pol_get_bool(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		     bool *out)
{
	const struct ynode *n = pol_map_get(m, key);
	if (!n || !pol_want(c, n, Y_SCALAR, where, key))
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

bool pol_get_uint(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		     uint64_t max, uint64_t *out)
{
	const struct ynode *n = pol_map_get(m, key);
	if (!n || !pol_want(c, n, Y_SCALAR, where, key))
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

bool pol_get_duration(struct cctx *c, const struct ynode *m, const char *key, const char *where,
			 unsigned *ms)
{
	const struct ynode *n = pol_map_get(m, key);
	if (!n || !pol_want(c, n, Y_SCALAR, where, key))
		return false;
	if (pol_parse_duration_ms(n->str, ms)) {
		ERR(c, n, "wrong-type", "'%s' in %s must be a duration like 30s, 5m, 2h or 1h30m, not '%s'",
		    key, where, n->str);
		return false;
	}
	return true;
}

/* A list of scalars.  Items are kept with their nodes for precise errors. */
const struct ynode *pol_get_list(struct cctx *c, const struct ynode *m, const char *key,
				    const char *where)
{
	const struct ynode *n = pol_map_get(m, key);
	if (!n || !pol_want(c, n, Y_SEQ, where, key))
		return NULL;
	bool ok = true;
	for (size_t i = 0; i < n->n; i++)
		if (n->kids[i]->type != Y_SCALAR) {
			ERR(c, n->kids[i], "wrong-type", "'%s' item %zu in %s must be a scalar, not %s", key,
			    i, where, pol_ynode_type_name(n->kids[i]));
			ok = false;
		}
	return ok ? n : NULL;
}

void pol_strv_push(struct cctx *c, struct strv *v, const char *s)
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

void pol_strv_free(struct strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

/* Expand variables in a glob; reports errors at the node. */
char *pol_expand_at(struct cctx *c, const struct ynode *n, const char *where)
{
	char err[256];
	char *r = pol_vars_expand(n->str, c->vars, err, sizeof(err));
	if (!r)
		ERR(c, n, "undefined-variable", "%s in %s: '%s'", err, where, n->str);
	return r;
}

static bool check_template(struct cctx *c, const struct ynode *m, const char *where)
{
	const struct ynode *n = pol_map_get(m, "message");
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
void pol_rule_common(struct cctx *c, const struct ynode *m, const char *where,
			const char *list, size_t idx, uint32_t allowed, struct rule_common *rc)
{
	rc->line = m->line;
	rc->col = m->col;
	pol_get_str(c, m, "name", where, &rc->name);
	if (!rc->name) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s[%zu]", list, idx);
		rc->name = pol_xstrdup(c, buf);
	}
	pol_get_str(c, m, "description", where, &rc->description);
	pol_get_str(c, m, "message", where, &rc->message);
	check_template(c, m, where);
	pol_get_duration(c, m, "timeout", where, &rc->timeout_ms);
	const struct ynode *d = pol_map_get(m, "decision");
	rc->decision = POLICY_DENY;
	if (!d) {
		ERR(c, m, "missing-key", "%s has no 'decision'; add one of allow, deny, approve, audit…",
		    where);
		return;
	}
	if (!pol_want(c, d, Y_SCALAR, where, "decision"))
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
			dym = pol_did_you_mean(d->str, all, NK(all));
		ERR(c, d, "unknown-decision", "unknown decision '%s' in %s%s%s%s (valid here: %s)", d->str,
		    where, dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "", ok);
		return;
	}
	rc->decision = dec;
}

void pol_compile_globs(struct cctx *c, const struct ynode *n, const char *s, bool icase,
			  struct glob **v, size_t *nv, const char *where)
{
	const char *err = NULL;
	int e = pol_glob_compile_all(s, icase, v, nv, &err);
	if (e == -ENOMEM)
		c->oom = true;
	else if (e)
		ERR(c, n, "bad-glob", "invalid pattern '%s' in %s: %s", s, where, err);
}

