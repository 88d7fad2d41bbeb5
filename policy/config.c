/* /etc/agentsh/config.yaml (root-owned) and the choice of a session's policy. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/policy_int.h"


#define NK(a) (sizeof(a) / sizeof((a)[0]))

struct cfgctx { const char *file; struct policy_diags *d; size_t errors; };

#define CERR(c, n, ...)                                                                      \
	do {                                                                                 \
		pol_pdiag((c)->d, POLICY_SEV_ERROR, (c)->file, (n) ? (n)->line : 0, (n) ? (n)->col : 0, \
		      "config", __VA_ARGS__);                                                \
		(c)->errors++;                                                               \
	} while (0)

static void keys_check(struct cfgctx *c, const struct ynode *m, const char *const *known, size_t n,
		       const char *where)
{
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct ynode *k = m->kids[i];
		bool ok = false;
		for (size_t j = 0; k->type == Y_SCALAR && j < n; j++)
			ok |= !strcmp(known[j], k->str);
		if (ok)
			continue;
		const char *dym = k->type == Y_SCALAR ? pol_did_you_mean(k->str, known, n) : NULL;
		CERR(c, k, "unknown key '%s' in %s%s%s%s", k->type == Y_SCALAR ? k->str : "?", where,
		     dym ? " (did you mean '" : "", dym ? dym : "", dym ? "'?)" : "");
	}
}

static const struct ynode *mget(const struct ynode *m, const char *key)
{
	for (size_t i = 0; m && m->type == Y_MAP && i + 1 < m->n; i += 2)
		if (m->kids[i]->type == Y_SCALAR && !strcmp(m->kids[i]->str, key))
			return m->kids[i + 1];
	return NULL;
}

static void cstr(struct cfgctx *c, const struct ynode *m, const char *key, const char *where, char **out)
{
	const struct ynode *n = mget(m, key);
	if (!n)
		return;
	if (n->type != Y_SCALAR) {
		CERR(c, n, "'%s' in %s must be a string", key, where);
		return;
	}
	free(*out);
	*out = strdup(n->str);
}

static void cbool(struct cfgctx *c, const struct ynode *m, const char *key, const char *where, bool *out)
{
	const struct ynode *n = mget(m, key);
	if (!n)
		return;
	if (n->type == Y_SCALAR && !strcmp(n->str, "true"))
		*out = true;
	else if (n->type == Y_SCALAR && !strcmp(n->str, "false"))
		*out = false;
	else
		CERR(c, n, "'%s' in %s must be true or false", key, where);
}

static void cuint(struct cfgctx *c, const struct ynode *m, const char *key, const char *where,
		  bool duration, uint64_t *out)
{
	const struct ynode *n = mget(m, key);
	if (!n)
		return;
	unsigned ms;
	char *end = NULL;
	if (n->type == Y_SCALAR && duration && pol_parse_duration_ms(n->str, &ms) == 0) {
		*out = ms / 1000;
		return;
	}
	if (n->type == Y_SCALAR && isdigit((unsigned char)n->str[0])) {
		unsigned long long v = strtoull(n->str, &end, 10);
		if (!*end) {
			*out = v;
			return;
		}
	}
	CERR(c, n, "'%s' in %s must be %s", key, where, duration ? "a duration like 5m" : "a number");
}

static void cmap(struct cfgctx *c, const struct ynode *m, const char *key, struct agentsh_config_map **v,
		 size_t *nv)
{
	const struct ynode *n = mget(m, key);
	if (!n)
		return;
	if (n->type != Y_MAP) {
		CERR(c, n, "'%s' must be a mapping of name: policy", key);
		return;
	}
	*v = calloc(n->n / 2 + 1, sizeof(**v));
	for (size_t i = 0; *v && i + 1 < n->n; i += 2) {
		if (n->kids[i]->type != Y_SCALAR || n->kids[i + 1]->type != Y_SCALAR) {
			CERR(c, n->kids[i], "entries of '%s' must be name: policy", key);
			continue;
		}
		(*v)[*nv].key = strdup(n->kids[i]->str);
		(*v)[*nv].policy = strdup(n->kids[i + 1]->str);
		(*nv)++;
	}
}

/* ---------------------------------------------------- approvals scopes */

#define CWARN(c, n, ...)                                                                     \
	pol_pdiag((c)->d, POLICY_SEV_WARNING, (c)->file, (n) ? (n)->line : 0, (n) ? (n)->col : 0, \
		  "config", __VA_ARGS__)

static const char *const approval_methods[] = { "totp", "webauthn", "confirm" };

/* A list of names; *out stays NULL when absent, else NULL-terminated. */
static void cnames(struct cfgctx *c, const struct ynode *m, const char *key, const char *where,
		   bool methods, char ***out, size_t *n)
{
	const struct ynode *l = mget(m, key);
	if (!l)
		return;
	if (l->type != Y_SEQ) {
		CERR(c, l, "'%s' in %s must be a list, like [%s]", key, where,
		     methods ? "webauthn, totp" : "alice, bob");
		return;
	}
	if (!(*out = calloc(l->n + 1, sizeof(char *))))
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct ynode *e = l->kids[i];
		bool ok = e->type == Y_SCALAR && *e->str;
		for (size_t j = 0; ok && methods && j < NK(approval_methods); j++)
			if (!strcmp(e->str, approval_methods[j]))
				goto known;
		if (ok && !methods)
			goto known;
		const char *dym = ok ? pol_did_you_mean(e->str, approval_methods, NK(approval_methods)) : NULL;
		if (methods)
			CERR(c, e, "unknown approval method '%s' in %s (use totp, webauthn or confirm)%s%s%s",
			     ok ? e->str : "?", where, dym ? "; did you mean '" : "", dym ? dym : "",
			     dym ? "'?" : "");
		else
			CERR(c, e, "'%s' entries in %s must be approver names", key, where);
		continue;
known:
		(*out)[(*n)++] = strdup(e->str);
	}
}

static void scope_warn(struct cfgctx *c, const struct ynode *v, const struct agentsh_approval_scope *s,
		       const char *where, bool human_only)
{
	if (s->methods && !s->nmethods)
		CWARN(c, v, "%s lists no method: every request it covers is denied", where);
	if (s->approvers && !s->napprovers)
		CWARN(c, v, "%s lists no approver: every request it covers is denied", where);
	for (size_t i = 0; i < s->nmethods; i++)
		if (!strcmp(s->methods[i], "confirm") && !human_only)
			CWARN(c, v, "%s allows 'confirm', which is only accepted on human-only sessions "
			      "(approvals.human_only: true); here it has no effect", where);
}

static void scopes(struct cfgctx *c, const struct ynode *m, const char *key, bool human_only,
		   struct agentsh_approval_scope **out, size_t *nout)
{
	static const char *const k[] = { "methods", "approvers" };
	const struct ynode *n = mget(m, key);
	if (!n)
		return;
	if (n->type != Y_MAP) {
		CERR(c, n, "'approvals.%s' must be a mapping of %s: { methods: [...], approvers: [...] }",
		     key, !strcmp(key, "accounts") ? "account" : "rule");
		return;
	}
	if (!(*out = calloc(n->n / 2 + 1, sizeof(**out))))
		return;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *kn = n->kids[i], *v = n->kids[i + 1];
		char where[300];
		if (kn->type != Y_SCALAR || v->type != Y_MAP) {
			CERR(c, kn, "entries of 'approvals.%s' must be NAME: { methods: [...], approvers: [...] }",
			     key);
			continue;
		}
		for (size_t j = 0; j < *nout; j++)
			if (!strcmp((*out)[j].name, kn->str))
				CERR(c, kn, "'%s' appears twice in approvals.%s (line %u)", kn->str, key,
				     (*out)[j].line);
		snprintf(where, sizeof(where), "approvals.%s.%s", key, kn->str);
		keys_check(c, v, k, NK(k), where);
		struct agentsh_approval_scope *s = &(*out)[(*nout)++];
		s->name = strdup(kn->str);
		s->line = kn->line;
		s->col = kn->col;
		cnames(c, v, "methods", where, true, &s->methods, &s->nmethods);
		cnames(c, v, "approvers", where, false, &s->approvers, &s->napprovers);
		scope_warn(c, v, s, where, human_only);
	}
}

static void scopes_free(struct agentsh_approval_scope *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		for (size_t j = 0; j < v[i].nmethods; j++)
			free(v[i].methods[j]);
		free(v[i].methods);
		for (size_t j = 0; j < v[i].napprovers; j++)
			free(v[i].approvers[j]);
		free(v[i].approvers);
	}
	free(v);
}

static void config_walk(struct cfgctx *c, const struct ynode *root, struct agentsh_config *cfg)
{
	static const char *const top[] = { "policy_dir", "default_policy", "accounts", "groups",
		"allow_user_policy", "manifest", "audit", "session", "approvals" };
	if (root->type != Y_MAP) {
		CERR(c, root, "the configuration must be a mapping of keys");
		return;
	}
	keys_check(c, root, top, NK(top), "the configuration");
	cstr(c, root, "policy_dir", "the configuration", &cfg->policy_dir);
	cstr(c, root, "default_policy", "the configuration", &cfg->default_policy);
	cmap(c, root, "accounts", &cfg->accounts, &cfg->naccounts);
	cmap(c, root, "groups", &cfg->groups, &cfg->ngroups);
	cbool(c, root, "allow_user_policy", "the configuration", &cfg->allow_user_policy);
	cstr(c, root, "manifest", "the configuration", &cfg->manifest);
	uint64_t v;
	const struct ynode *n;
	if ((n = mget(root, "audit"))) {
		static const char *const k[] = { "db", "key", "stdout_cap", "sync" };
		if (n->type != Y_MAP)
			CERR(c, n, "'audit' must be a mapping");
		else {
			keys_check(c, n, k, NK(k), "audit");
			cstr(c, n, "db", "audit", &cfg->audit.db);
			cstr(c, n, "key", "audit", &cfg->audit.key);
			v = 0;
			cuint(c, n, "stdout_cap", "audit", false, &v);
			cfg->audit.stdout_cap = (size_t)v;
			const struct ynode *sy = mget(n, "sync");
			if (sy && sy->type == Y_SCALAR && !strcmp(sy->str, "full"))
				cfg->audit.sync_full = true;
			else if (sy && !(sy->type == Y_SCALAR && !strcmp(sy->str, "normal")))
				CERR(c, sy, "'sync' in audit must be full or normal");
		}
	}
	if ((n = mget(root, "session"))) {
		static const char *const k[] = { "shell", "allow_degraded", "prompt", "command_timeout" };
		if (n->type != Y_MAP)
			CERR(c, n, "'session' must be a mapping");
		else {
			keys_check(c, n, k, NK(k), "session");
			cstr(c, n, "shell", "session", &cfg->session.shell);
			cbool(c, n, "allow_degraded", "session", &cfg->session.allow_degraded);
			cstr(c, n, "prompt", "session", &cfg->session.prompt);
			v = 0;
			cuint(c, n, "command_timeout", "session", true, &v);
			cfg->session.command_timeout = (unsigned)v;
		}
	}
	if ((n = mget(root, "approvals"))) {
		static const char *const k[] = { "socket", "default_timeout", "max_pending",
			"approvers_dir", "approver_accounts", "human_only", "accounts", "rules" };
		if (n->type != Y_MAP) {
			CERR(c, n, "'approvals' must be a mapping");
			return;
		}
		keys_check(c, n, k, NK(k), "approvals");
		cstr(c, n, "socket", "approvals", &cfg->approvals.socket);
		v = 0;
		cuint(c, n, "default_timeout", "approvals", true, &v);
		cfg->approvals.default_timeout = (unsigned)v;
		v = 0;
		cuint(c, n, "max_pending", "approvals", false, &v);
		cfg->approvals.max_pending = (unsigned)v;
		cstr(c, n, "approvers_dir", "approvals", &cfg->approvals.approvers_dir);
		cbool(c, n, "human_only", "approvals", &cfg->approvals.human_only);
		const struct ynode *l = mget(n, "approver_accounts");
		if (l && l->type != Y_SEQ)
			CERR(c, l, "'approver_accounts' must be a list of account names");
		else if (l) {
			cfg->approvals.approver_accounts = calloc(l->n + 1, sizeof(char *));
			for (size_t i = 0; cfg->approvals.approver_accounts && i < l->n; i++)
				if (l->kids[i]->type == Y_SCALAR)
					cfg->approvals.approver_accounts[cfg->approvals.napprover_accounts++] =
						strdup(l->kids[i]->str);
				else
					CERR(c, l->kids[i], "'approver_accounts' entries must be account names");
		}
		scopes(c, n, "accounts", cfg->approvals.human_only, &cfg->approvals.account_scopes,
		       &cfg->approvals.naccount_scopes);
		scopes(c, n, "rules", cfg->approvals.human_only, &cfg->approvals.rule_scopes,
		       &cfg->approvals.nrule_scopes);
	}
}

static struct agentsh_config *config_defaults(void)
{
	struct agentsh_config *cfg = calloc(1, sizeof(*cfg));
	if (cfg)
		cfg->check_owner = true;
	if (cfg && !(cfg->policy_dir = strdup(AGENTSH_POLICY_DIR))) {
		free(cfg);
		return NULL;
	}
	return cfg;
}

int policy_config_load_ex(const char *path, bool check_owner, struct agentsh_config **out,
			  struct policy_diags *diags)
{
	*out = NULL;
	if (!path)
		path = AGENTSH_CONFIG_PATH;
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		*out = config_defaults();
		return *out ? 0 : -ENOMEM;
	}
	/* The agent must not be able to choose or edit its own rules. */
	if (check_owner) {
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "config",
			      "not a regular file; the configuration must be a plain root-owned file");
			return -EPERM;
		}
		if (st.st_uid != 0 || (st.st_mode & 022)) {
			pol_pdiag(diags, POLICY_SEV_ERROR, path, 0, 0, "config",
			      "refused: owned by uid %u with mode %03o; it must be owned by root and not "
			      "writable by group or others (chown root:root; chmod 644)",
			      (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
			return -EPERM;
		}
	}
	char *buf;
	size_t len;
	int e = policy_read_file(path, &buf, &len, diags);
	if (e)
		return e;
	struct cfgctx c = { .file = path, .d = diags };
	struct ynode *root = pol_ytree_parse(buf, len, path, diags);
	free(buf);
	if (!root)
		return -EINVAL;
	struct agentsh_config *cfg = config_defaults();
	if (!cfg) {
		pol_ytree_free(root);
		return -ENOMEM;
	}
	config_walk(&c, root, cfg);
	pol_ytree_free(root);
	cfg->present = true;
	cfg->check_owner = check_owner;
	cfg->path = strdup(path);
	if (c.errors) {
		policy_config_free(cfg);
		return -EINVAL;
	}
	*out = cfg;
	return 0;
}

int policy_config_load(const char *path, struct agentsh_config **out, struct policy_diags *diags)
{
	return policy_config_load_ex(path, true, out, diags);
}

static void map_free(struct agentsh_config_map *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].key);
		free(m[i].policy);
	}
	free(m);
}

void policy_config_free(struct agentsh_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->policy_dir);
	free(cfg->default_policy);
	map_free(cfg->accounts, cfg->naccounts);
	map_free(cfg->groups, cfg->ngroups);
	free(cfg->manifest);
	free(cfg->audit.db);
	free(cfg->audit.key);
	free(cfg->session.shell);
	free(cfg->session.prompt);
	free(cfg->approvals.socket);
	free(cfg->approvals.approvers_dir);
	for (size_t i = 0; i < cfg->approvals.napprover_accounts; i++)
		free(cfg->approvals.approver_accounts[i]);
	free(cfg->approvals.approver_accounts);
	scopes_free(cfg->approvals.account_scopes, cfg->approvals.naccount_scopes);
	scopes_free(cfg->approvals.rule_scopes, cfg->approvals.nrule_scopes);
	free(cfg);
}

/* ------------------------------------------------------------ selection */

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* NAME -> <dir>/NAME.yaml or .yml; FILE (contains '/') as is. */
static int resolve(const struct agentsh_config *cfg, const char *ref, char *out, size_t len,
		   struct policy_diags *d)
{
	if (strchr(ref, '/')) {
		snprintf(out, len, "%s", ref);
		return 0;
	}
	if (!valid_name(ref)) {
		pol_pdiag(d, POLICY_SEV_ERROR, ref, 0, 0, "select",
		      "invalid policy name '%s': use letters, digits, '-' and '_', or give a path", ref);
		return -EINVAL;
	}
	const char *dir = cfg && cfg->policy_dir ? cfg->policy_dir : AGENTSH_POLICY_DIR;
	static const char *const ext[] = { ".yaml", ".yml" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(out, len, "%s/%s%s", dir, ref, ext[i]);
		if (access(out, F_OK) == 0)
			return 0;
	}
	pol_pdiag(d, POLICY_SEV_ERROR, ref, 0, 0, "select",
	      "no policy named '%s' in %s (looked for %s.yaml and %s.yml)", ref, dir, ref, ref);
	return -ENOENT;
}

/* The file's SHA-256 must be listed in the manifest ("<hex>  <path or name>"). */
static int manifest_check(const struct agentsh_config *cfg, const char *path, const char *sha,
			  struct policy_diags *d)
{
	char *buf;
	size_t len;
	int e = pol_read_file_ex(cfg->manifest, cfg->check_owner ? POL_READ_ROOT_OWNED : 0, &buf, &len, d);
	if (e)
		return e;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	bool ok = false;
	for (char *line = strtok(buf, "\n"); line && !ok; line = strtok(NULL, "\n")) {
		char hex[65], name[4096];
		if (sscanf(line, "%64s %4095s", hex, name) != 2)
			continue;
		const char *n = name[0] == '*' ? name + 1 : name;
		const char *nb = strrchr(n, '/') ? strrchr(n, '/') + 1 : n;
		if (!strcasecmp(hex, sha) && (!strcmp(n, path) || !strcmp(nb, base)))
			ok = true;
	}
	free(buf);
	if (!ok) {
		pol_pdiag(d, POLICY_SEV_ERROR, path, 0, 0, "manifest",
		      "refused: its SHA-256 %s is not listed for it in the manifest %s; if the change is "
		      "intended, update the manifest (sha256sum %s)", sha, cfg->manifest, path);
		return -EPERM;
	}
	return 0;
}

/* chosen = picked with --policy by someone allowed to: whatever they point
 * at is their choice.  Policies the configuration assigns must be root-owned
 * and not writable by others, or the agent could edit its own rules. */
static int load_checked(const struct agentsh_config *cfg, const char *ref, bool chosen,
			const struct policy_vars *vars, struct policy **out, struct policy_diags *d)
{
	char path[4096];
	int e = resolve(cfg, ref, path, sizeof(path), d);
	if (e)
		return e;
	unsigned flags = !chosen && cfg && cfg->check_owner ? POL_READ_ROOT_OWNED : 0;
	e = pol_load_file_ex(path, flags, vars, out, d);
	if (e)
		return e;
	if (cfg && cfg->manifest && (e = manifest_check(cfg, path, policy_sha256(*out), d))) {
		policy_free(*out);
		*out = NULL;
	}
	return e;
}

static const char *account_policy(const struct agentsh_config *cfg, uid_t uid, const gid_t *gids,
				  size_t ngids)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		for (size_t i = 0; i < cfg->naccounts; i++)
			if (!strcmp(cfg->accounts[i].key, pw.pw_name))
				return cfg->accounts[i].policy;
	for (size_t g = 0; g < ngids; g++) {
		struct group gr, *grp = NULL;
		if (getgrgid_r(gids[g], &gr, buf, sizeof(buf), &grp) || !grp)
			continue;
		for (size_t i = 0; i < cfg->ngroups; i++)
			if (!strcmp(cfg->groups[i].key, gr.gr_name))
				return cfg->groups[i].policy;
	}
	return cfg->default_policy;
}

int policy_select(const struct agentsh_config *cfg, uid_t uid, const gid_t *gids, size_t ngids,
		  const char *requested, bool is_root, const struct policy_vars *vars,
		  struct policy **out, struct policy_diags *diags)
{
	*out = NULL;
	if (requested) {
		if (!is_root && !(cfg && cfg->allow_user_policy)) {
			pol_pdiag(diags, POLICY_SEV_ERROR, requested, 0, 0, "select",
			      "--policy refused: only root may choose a policy (an administrator can set "
			      "allow_user_policy: true in %s)", cfg && cfg->path ? cfg->path : AGENTSH_CONFIG_PATH);
			return -EPERM;
		}
		return load_checked(cfg, requested, true, vars, out, diags);
	}
	const char *ref = cfg ? account_policy(cfg, uid, gids, ngids) : NULL;
	if (ref)
		return load_checked(cfg, ref, false, vars, out, diags);
	if (cfg && cfg->present) {
		/* a configuration exists but names no policy: its policy dir's default */
		char path[4096];
		snprintf(path, sizeof(path), "%s/default.yaml", cfg->policy_dir);
		if (access(path, F_OK) == 0)
			return load_checked(cfg, path, false, vars, out, diags);
	}
	return policy_load_embedded(vars, out, diags);
}
