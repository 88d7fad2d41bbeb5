/* Lint for approvals.accounts / approvals.rules against one policy: an approve
 * rule that no approver could ever answer for some account (the account's and
 * the rule's entries share no method or approver), and approvers named in the
 * configuration who are not enrolled.  The broker denies such requests at
 * once (fail closed); this says so before a session runs into it.
 *
 * The enrolled names are read from the approver store's file names
 * (NAME.totp, u2f_keys lines "NAME:..."): policy depends on no other module,
 * and only names are needed, never secrets.  An unreadable store (not root)
 * skips that check with a note. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

#define APPROVERS_DEFAULT "/etc/agentsh/approvers"
#define M_TOTP 1u
#define M_WEBAUTHN 2u
#define M_CONFIRM 4u

static unsigned methods_of(const struct agentsh_approval_scope *s, bool human_only)
{
	unsigned m = 0;
	if (!s || !s->methods)
		m = M_TOTP | M_WEBAUTHN | M_CONFIRM;
	for (size_t i = 0; s && s->methods && i < s->nmethods; i++)
		m |= !strcmp(s->methods[i], "totp") ? M_TOTP : !strcmp(s->methods[i], "webauthn") ? M_WEBAUTHN
			: !strcmp(s->methods[i], "confirm") ? M_CONFIRM : 0;
	return human_only ? m : m & ~M_CONFIRM;
}

static bool listed(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* Do the two approver lists (NULL: anyone) share a name? */
static bool approvers_meet(const struct agentsh_approval_scope *a, const struct agentsh_approval_scope *r)
{
	if (!a || !a->approvers)
		return !r || !r->approvers || r->napprovers;
	if (!r || !r->approvers)
		return a->napprovers;
	for (size_t i = 0; i < a->napprovers; i++)
		if (listed(r->approvers, r->napprovers, a->approvers[i]))
			return true;
	return false;
}

static const struct agentsh_approval_scope *find(const struct agentsh_approval_scope *v, size_t n,
						 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}

static int lint_rule(const struct policy *p, const struct rule_common *c, const struct agentsh_config *cfg,
		     struct policy_diags *d)
{
	const struct agentsh_approval_scope *r = find(cfg->approvals.rule_scopes, cfg->approvals.nrule_scopes,
						      c->name);
	bool ho = cfg->approvals.human_only;
	int n = 0;
	/* the rule alone, then with each account's entry */
	for (size_t i = 0; i <= cfg->approvals.naccount_scopes; i++) {
		const struct agentsh_approval_scope *a = i ? &cfg->approvals.account_scopes[i - 1] : NULL;
		if (!a && !r)
			continue;
		bool nom = !(methods_of(a, ho) & methods_of(r, ho));
		bool noa = !approvers_meet(a, r) && (methods_of(a, ho) & methods_of(r, ho)) != M_CONFIRM;
		if (!nom && !noa)
			continue;
		pol_pdiag(d, POLICY_SEV_WARNING, policy_source(p), c->line, 1, "no-approver",
			  "rule '%s' can never be approved%s%s: %s%s%s%s share no %s in %s, so every request "
			  "it raises is denied", c->name, a ? " for account " : "", a ? a->name : "",
			  a ? "approvals.accounts." : "", a ? a->name : "", a && r ? " and approvals.rules." : r ?
			  "approvals.rules." : "", r ? r->name : "", nom ? "method" : "approver",
			  cfg->path ? cfg->path : "the configuration");
		n++;
		if (!a)
			break;  /* the rule's own entry is empty: one warning is enough */
	}
	return n;
}

static void push(char ***v, size_t *n, char *s)
{
	char **nv = s ? realloc(*v, (*n + 1) * sizeof(char *)) : NULL;
	if (!nv) {
		free(s);
		return;
	}
	*v = nv;
	nv[(*n)++] = s;
}

static int enrolled(const char *dir, char ***out, size_t *n)
{
	DIR *dd = opendir(dir);
	char path[4096], *line = NULL;
	size_t cap = 0;
	if (!dd)
		return -1;
	*out = NULL;
	*n = 0;
	for (struct dirent *e; (e = readdir(dd));) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".totp"))
			push(out, n, strndup(e->d_name, l - 5));
	}
	closedir(dd);
	snprintf(path, sizeof(path), "%s/u2f_keys", dir);
	FILE *f = fopen(path, "r");
	while (f && getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');
		if (colon)
			push(out, n, strndup(line, (size_t)(colon - line)));
	}
	if (f)
		fclose(f);
	free(line);
	return 0;
}

static int lint_enrolled(const struct agentsh_config *cfg, struct policy_diags *d)
{
	const char *dir = cfg->approvals.approvers_dir ? cfg->approvals.approvers_dir : APPROVERS_DEFAULT;
	char **names = NULL;
	size_t nn = 0;
	int w = 0;
	if (!cfg->approvals.naccount_scopes && !cfg->approvals.nrule_scopes)
		return 0;
	if (enrolled(dir, &names, &nn) < 0) {
		pol_pdiag(d, POLICY_SEV_NOTE, cfg->path, 0, 0, "approvers-unchecked",
			  "cannot read the approver store %s (run as root to check that the approvers named in "
			  "approvals.accounts/rules are enrolled)", dir);
		return 0;
	}
	for (int k = 0; k < 2; k++) {
		const struct agentsh_approval_scope *v = k ? cfg->approvals.rule_scopes : cfg->approvals.account_scopes;
		size_t nv = k ? cfg->approvals.nrule_scopes : cfg->approvals.naccount_scopes;
		for (size_t i = 0; i < nv; i++)
			for (size_t j = 0; j < v[i].napprovers; j++)
				if (!listed(names, nn, v[i].approvers[j])) {
					pol_pdiag(d, POLICY_SEV_WARNING, cfg->path, v[i].line, v[i].col, "no-approver",
						  "approver '%s' in approvals.%s.%s is not enrolled in %s: requests it "
						  "covers are denied until it is ('agentsh approver add %s --totp')",
						  v[i].approvers[j], k ? "rules" : "accounts", v[i].name, dir,
						  v[i].approvers[j]);
					w++;
				}
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return w;
}

int pol_lint_approval_scopes(const struct policy *p, const struct agentsh_config *cfg, struct policy_diags *d)
{
	int n = 0;
	if (!cfg || !cfg->present)
		return 0;
#define EACH(arr, cnt)                                                    \
	for (size_t i = 0; i < p->cnt; i++)                               \
		if (p->arr[i].c.decision == POLICY_APPROVE)               \
			n += lint_rule(p, &p->arr[i].c, cfg, d);
	EACH(files, nfiles)
	EACH(cmds, ncmds)
	EACH(nets, nnets)
	EACH(unixes, nunixes)
	EACH(sigs, nsigs)
#undef EACH
	return n + lint_enrolled(cfg, d);
}
