/* file_rules and command_rules entries. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/compile_int.h"

/* ------------------------------------------------------------ file rules */

void pol_file_rule(struct cctx *c, const struct ynode *m, size_t idx, struct file_rule *r)
{
	static const char *const keys[] = { "name", "description", "paths", "operations", "decision",
		"message", "timeout", "redirect_to", "preserve_tree" };
	char where[64];
	snprintf(where, sizeof(where), "file_rules[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	pol_rule_common(c, m, where, "file_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(REDIRECT) | DEC(AUDIT) | DEC(SOFT_DELETE),
		    &r->c);
	const struct ynode *paths = pol_get_list(c, m, "paths", where);
	if (!pol_map_get(m, "paths"))
		ERR(c, m, "missing-key", "%s ('%s') has no 'paths'; list the paths it applies to", where,
		    r->c.name);
	for (size_t i = 0; paths && i < paths->n; i++) {
		char *x = pol_expand_at(c, paths->kids[i], where);
		if (!x)
			continue;
		if (x[0] != '/' && strncmp(x, "**", 2) != 0 && strncmp(x, "*", 1) != 0)
			ERR(c, paths->kids[i], "relative-path",
			    "path '%s' in %s is relative; write an absolute path or start it with '**/'", x,
			    where);
		pol_strv_push(c, &r->paths, x);
		pol_compile_globs(c, paths->kids[i], x, false, &r->globs, &r->nglobs, where);
		free(x);
	}
	const struct ynode *ops = pol_get_list(c, m, "operations", where);
	if (!pol_map_get(m, "operations"))
		r->ops = (1u << POLICY_FILE_NOPS) - 1;  /* reference: empty list = every operation */
	for (size_t i = 0; ops && i < ops->n; i++) {
		bool ok;
		uint32_t b = pol_file_ops_from_word(ops->kids[i]->str, &ok);
		if (!ok) {
			static const char *const words[] = { "read", "open", "stat", "list", "readlink",
				"access", "write", "create", "delete", "rmdir", "mkdir", "rename", "link",
				"symlink", "chmod", "chown", "mknod", "truncate", "xattr", "exec", "*" };
			const char *dym = pol_did_you_mean(ops->kids[i]->str, words, NK(words));
			ERR(c, ops->kids[i], "unknown-operation", "unknown file operation '%s' in %s%s%s%s",
			    ops->kids[i]->str, where, dym ? " (did you mean '" : "", dym ? dym : "",
			    dym ? "'?)" : "");
		}
		r->ops |= b;
	}
	if (ops && ops->n == 0)
		r->ops = (1u << POLICY_FILE_NOPS) - 1;
	pol_get_str(c, m, "redirect_to", where, &r->redirect_to);
	pol_get_bool(c, m, "preserve_tree", where, &r->preserve_tree);
	if (r->c.decision == POLICY_REDIRECT && !r->redirect_to)
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to' directory", where);
	if (r->redirect_to && r->c.decision != POLICY_REDIRECT)
		ERR(c, pol_map_get(m, "redirect_to"), "useless-key",
		    "'redirect_to' in %s is only used with decision: redirect; remove it or change the decision",
		    where);
	if (r->redirect_to) {
		char err[256];
		char *x = pol_vars_expand(r->redirect_to, c->vars, err, sizeof(err));
		if (!x)
			ERR(c, pol_map_get(m, "redirect_to"), "undefined-variable", "%s in %s", err, where);
		else if (x[0] != '/')
			ERR(c, pol_map_get(m, "redirect_to"), "relative-path",
			    "'redirect_to' in %s must be an absolute directory, not '%s'", where, x);
		free(r->redirect_to);
		r->redirect_to = x;
	}
	uint32_t del = POLICY_FILE_OP_BIT(POLICY_FILE_DELETE) | POLICY_FILE_OP_BIT(POLICY_FILE_RMDIR);
	if (r->c.decision == POLICY_SOFT_DELETE && (r->ops & ~del))
		ERR(c, pol_map_get(m, "operations") ? pol_map_get(m, "operations") : m, "bad-operations",
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
		nv[r->nexact++] = pol_xstrdup(c, s);
	} else if (slash) {
		pol_compile_globs(c, n, s, false, &r->pglobs, &r->npglobs, where);
	} else if (!wild) {
		char **nv = realloc(r->bnames, (r->nbnames + 1) * sizeof(char *));
		if (!nv) { c->oom = true; return; }
		r->bnames = nv;
		nv[r->nbnames] = pol_xstrdup(c, s);
		if (nv[r->nbnames])
			lower_strip_real(nv[r->nbnames++]);
	} else {
		pol_compile_globs(c, n, s, true, &r->bglobs, &r->nbglobs, where);
	}
}

void pol_env_lists(struct cctx *c, const struct ynode *m, const char *akey, const char *dkey,
		      const char *where, struct env_rule *e)
{
	const struct ynode *a = pol_get_list(c, m, akey, where), *d = pol_get_list(c, m, dkey, where);
	for (size_t i = 0; a && i < a->n; i++) {
		pol_strv_push(c, &e->allow_src, a->kids[i]->str);
		pol_compile_globs(c, a->kids[i], a->kids[i]->str, false, &e->allow, &e->nallow, where);
		e->has_allow = true;
		e->set = true;
	}
	if (a)
		e->has_allow = e->set = true;
	for (size_t i = 0; d && i < d->n; i++) {
		pol_strv_push(c, &e->deny_src, d->kids[i]->str);
		pol_compile_globs(c, d->kids[i], d->kids[i]->str, false, &e->deny, &e->ndeny, where);
		e->set = true;
	}
}

static void cmd_redirect(struct cctx *c, const struct ynode *m, const char *where, struct cmd_rule *r)
{
	const struct ynode *rd = pol_map_get(m, "redirect_to");
	if (!rd)
		return;
	char w2[96];
	snprintf(w2, sizeof(w2), "%s.redirect_to", where);
	if (!pol_want(c, rd, Y_MAP, where, "redirect_to"))
		return;
	static const char *const keys[] = { "command", "args", "args_append", "environment" };
	pol_check_keys(c, rd, keys, NK(keys), w2);
	if (!pol_get_str(c, rd, "command", w2, &r->redir_cmd))
		ERR(c, rd, "missing-key", "%s has no 'command'; name the program to run instead", w2);
	const struct ynode *l;
	if ((l = pol_get_list(c, rd, "args", w2)))
		for (size_t i = 0; i < l->n; i++)
			pol_strv_push(c, &r->redir_args, l->kids[i]->str);
	if ((l = pol_get_list(c, rd, "args_append", w2)))
		for (size_t i = 0; i < l->n; i++)
			pol_strv_push(c, &r->redir_append, l->kids[i]->str);
	const struct ynode *env = pol_map_get(rd, "environment");
	if (env && pol_want(c, env, Y_MAP, w2, "environment"))
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
			pol_strv_push(c, &r->redir_env, kv);
			free(kv);
		}
}

static void cmd_context(struct cctx *c, const struct ynode *m, const char *where, struct cmd_rule *r)
{
	const struct ynode *n = pol_map_get(m, "context");
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
		pol_check_keys(c, n, keys, NK(keys), w2);
		for (int k = 0; k < 2; k++) {
			const struct ynode *v = pol_map_get(n, keys[k]);
			if (!v || !pol_want(c, v, Y_SCALAR, w2, keys[k]))
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

void pol_cmd_rule(struct cctx *c, const struct ynode *m, size_t idx, struct cmd_rule *r)
{
	static const char *const keys[] = { "name", "description", "commands", "args_patterns",
		"decision", "message", "timeout", "redirect_to", "context", "env_allow", "env_deny",
		"env_max_bytes", "env_max_keys", "env_block_iteration" };
	char where[64];
	snprintf(where, sizeof(where), "command_rules[%zu]", idx);
	pol_check_keys(c, m, keys, NK(keys), where);
	pol_rule_common(c, m, where, "command_rules", idx,
		    DEC(ALLOW) | DEC(DENY) | DEC(APPROVE) | DEC(REDIRECT) | DEC(AUDIT), &r->c);
	const struct ynode *cmds = pol_get_list(c, m, "commands", where);
	for (size_t i = 0; cmds && i < cmds->n; i++) {
		char *x = pol_expand_at(c, cmds->kids[i], where);
		if (!x)
			continue;
		pol_strv_push(c, &r->commands, x);
		add_command(c, cmds->kids[i], x, r, where);
		free(x);
	}
	if (!pol_map_get(m, "commands") || (cmds && cmds->n == 0))
		r->match_all = true;    /* reference: no commands = every command */
	if (r->exact)
		qsort(r->exact, r->nexact, sizeof(char *), cmpstr);
	if (r->bnames)
		qsort(r->bnames, r->nbnames, sizeof(char *), cmpstr);
	const struct ynode *ap = pol_get_list(c, m, "args_patterns", where);
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
			pol_strv_push(c, &r->args_src, k->str);
			r->nargs++;
		}
	}
	cmd_context(c, m, where, r);
	cmd_redirect(c, m, where, r);
	if (r->c.decision == POLICY_REDIRECT && !r->redir_cmd && !pol_map_get(m, "redirect_to"))
		ERR(c, m, "missing-key", "%s has decision redirect but no 'redirect_to: {command: …}'",
		    where);
	if (r->redir_cmd && r->c.decision != POLICY_REDIRECT)
		ERR(c, pol_map_get(m, "redirect_to"), "useless-key",
		    "'redirect_to' in %s is only used with decision: redirect", where);
	pol_env_lists(c, m, "env_allow", "env_deny", where, &r->env);
	uint64_t v;
	if (pol_get_uint(c, m, "env_max_bytes", where, 1ull << 30, &v))
		r->env.max_bytes = v, r->env.set = true;
	if (pol_get_uint(c, m, "env_max_keys", where, 1ull << 20, &v))
		r->env.max_keys = v, r->env.set = true;
	if (pol_get_bool(c, m, "env_block_iteration", where, &r->env.block_iteration))
		r->env.set = true;
}

