/* The schema walk: YAML tree -> compiled struct policy.  Every problem is
 * reported with its line:col and the walk goes on, so one run lists all the
 * errors of a file; the caller throws the half-built policy away if any.
 * Rule entries are in compile_rules.c and compile_net.c, helpers in
 * compile_util.c. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "policy/compile_int.h"

/* Tests only: compile without indexes, to compare indexed evaluation with
 * the plain linear scan (tests/unit/policy_match.c). */
bool pol_index_disabled;

/* ------------------------------------------------------------ sections */

static void env_policy(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "allow", "deny", "max_bytes", "max_keys", "block_iteration" };
	if (!pol_want(c, m, Y_MAP, "the policy", "env_policy"))
		return;
	pol_check_keys(c, m, keys, NK(keys), "env_policy");
	pol_env_lists(c, m, "allow", "deny", "env_policy", &c->p->env);
	uint64_t v;
	if (pol_get_uint(c, m, "max_bytes", "env_policy", 1ull << 30, &v))
		c->p->env.max_bytes = v;
	if (pol_get_uint(c, m, "max_keys", "env_policy", 1ull << 20, &v))
		c->p->env.max_keys = v;
	pol_get_bool(c, m, "block_iteration", "env_policy", &c->p->env.block_iteration);
	c->p->env.set = true;
}

static void env_inject(struct cctx *c, const struct ynode *m)
{
	if (!pol_want(c, m, Y_MAP, "the policy", "env_inject"))
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
		pol_strv_push(c, &c->p->env_inject, kv);
		free(kv);
	}
}

static void resource_limits(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "max_memory_mb", "memory_swap_max_mb", "cpu_quota_percent",
		"disk_read_bps_max", "disk_write_bps_max", "net_bandwidth_mbps", "pids_max",
		"command_timeout", "session_timeout", "idle_timeout" };
	const char *w = "resource_limits";
	if (!pol_want(c, m, Y_MAP, "the policy", w))
		return;
	pol_check_keys(c, m, keys, NK(keys), w);
	struct policy_limits *l = &c->p->limits;
	uint64_t v;
	if (pol_get_uint(c, m, "max_memory_mb", w, 1ull << 40, &v)) l->max_memory_mb = v;
	if (pol_get_uint(c, m, "memory_swap_max_mb", w, 1ull << 40, &v)) l->memory_swap_max_mb = v, l->memory_swap_set = true;
	if (pol_get_uint(c, m, "cpu_quota_percent", w, 100000, &v)) l->cpu_quota_percent = (unsigned)v;
	if (pol_get_uint(c, m, "disk_read_bps_max", w, UINT64_MAX, &v)) l->disk_read_bps_max = v;
	if (pol_get_uint(c, m, "disk_write_bps_max", w, UINT64_MAX, &v)) l->disk_write_bps_max = v;
	if (pol_get_uint(c, m, "net_bandwidth_mbps", w, 1000000, &v)) l->net_bandwidth_mbps = (unsigned)v;
	if (pol_get_uint(c, m, "pids_max", w, 4194304, &v)) l->pids_max = (unsigned)v;
	unsigned ms;
	if (pol_get_duration(c, m, "command_timeout", w, &ms)) l->command_timeout_s = ms / 1000;
	if (pol_get_duration(c, m, "session_timeout", w, &ms)) l->session_timeout_s = ms / 1000;
	if (pol_get_duration(c, m, "idle_timeout", w, &ms)) l->idle_timeout_s = ms / 1000;
}

static void audit_section(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "log_allowed", "log_denied", "log_approved",
		"include_stdout", "include_stderr", "include_file_content", "retention_days" };
	if (!pol_want(c, m, Y_MAP, "the policy", "audit"))
		return;
	pol_check_keys(c, m, keys, NK(keys), "audit");
	struct policy_audit_settings *a = &c->p->audit;
	pol_get_bool(c, m, "log_allowed", "audit", &a->log_allowed);
	pol_get_bool(c, m, "log_denied", "audit", &a->log_denied);
	pol_get_bool(c, m, "log_approved", "audit", &a->log_approved);
	pol_get_bool(c, m, "include_stdout", "audit", &a->include_stdout);
	pol_get_bool(c, m, "include_stderr", "audit", &a->include_stderr);
	pol_get_bool(c, m, "include_file_content", "audit", &a->include_file_content);
	uint64_t v;
	if (pol_get_uint(c, m, "retention_days", "audit", 100000, &v))
		a->retention_days = (unsigned)v;
}

static void defaults_section(struct cctx *c, const struct ynode *m)
{
	static const char *const keys[] = { "commands", "network", "unix_sockets", "file_read",
		"file_write", "signals" };
	if (!pol_want(c, m, Y_MAP, "the policy", "defaults"))
		return;
	pol_check_keys(c, m, keys, NK(keys), "defaults");
	enum policy_decision *slot[] = { &c->p->defaults.commands, &c->p->defaults.network,
		&c->p->defaults.unix_sockets, &c->p->defaults.file_read, &c->p->defaults.file_write,
		&c->p->defaults.signals };
	for (size_t i = 0; i < NK(keys); i++) {
		const struct ynode *v = pol_map_get(m, keys[i]);
		if (!v || !pol_want(c, v, Y_SCALAR, "defaults", keys[i]))
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
		const struct ynode *l_ = pol_map_get(root, KEY);                            \
		if (!l_ || !pol_want(c, l_, Y_SEQ, "the policy", KEY))                      \
			break;                                                          \
		p->ARR = calloc(l_->n ? l_->n : 1, sizeof(*p->ARR));                    \
		if (!p->ARR) {                                                          \
			c->oom = true;                                                  \
			break;                                                          \
		}                                                                       \
		for (size_t i_ = 0; i_ < l_->n; i_++) {                                 \
			char w_[64];                                                    \
			snprintf(w_, sizeof(w_), "%s[%zu]", KEY, i_);                   \
			if (!pol_want(c, l_->kids[i_], Y_MAP, w_, "a rule"))                \
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
		    pol_ynode_type_name(root));
		return -EINVAL;
	}
	pol_check_keys(c, root, keys, NK(keys), "the policy");
	uint64_t v = 0;
	if (!pol_map_get(root, "version"))
		ERR(c, root, "missing-key", "the policy has no 'version'; add 'version: 1'");
	else if (pol_get_uint(c, root, "version", "the policy", 1000, &v) && v != 1)
		ERR(c, pol_map_get(root, "version"), "bad-version",
		    "unsupported policy version %llu; this agentsh reads version 1", (unsigned long long)v);
	p->version = (unsigned)v;
	if (!pol_get_str(c, root, "name", "the policy", &p->name) && !pol_map_get(root, "name"))
		ERR(c, root, "missing-key", "the policy has no 'name'; add 'name: <something>'");
	pol_get_str(c, root, "description", "the policy", &p->description);

	RULE_LIST("file_rules", files, nfiles, pol_file_rule);
	RULE_LIST("command_rules", cmds, ncmds, pol_cmd_rule);
	RULE_LIST("network_rules", nets, nnets, pol_net_rule);
	RULE_LIST("unix_socket_rules", unixes, nunixes, pol_unix_rule);
	RULE_LIST("signal_rules", sigs, nsigs, pol_sig_rule);
	RULE_LIST("dns_redirects", dnsr, ndnsr, pol_dns_redirect);
	RULE_LIST("connect_redirects", conr, nconr, pol_connect_redirect);
	p->has_signal_rules = pol_map_get(root, "signal_rules") != NULL;

	const struct ynode *n;
	if ((n = pol_map_get(root, "env_policy")))
		env_policy(c, n);
	if ((n = pol_map_get(root, "env_inject")))
		env_inject(c, n);
	if ((n = pol_map_get(root, "resource_limits")))
		resource_limits(c, n);
	if ((n = pol_map_get(root, "audit")))
		audit_section(c, n);
	if ((n = pol_map_get(root, "defaults")))
		defaults_section(c, n);
	if (c->oom)
		return -ENOMEM;
	if (c->errors)
		return -EINVAL;
	if (pol_index_disabled)
		return 0;
	int e = pol_fidx_build(p->files, p->nfiles, &p->fidx);
	return e ? e : pol_build_name_indexes(p);
}

/* ------------------------------------------------------------ freeing */

static void globs_free(struct glob *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pol_glob_free(&g[i]);
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
	pol_strv_free(&e->allow_src);
	pol_strv_free(&e->deny_src);
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
		pol_strv_free(&r->paths);
		globs_free(r->globs, r->nglobs);
		free(r->redirect_to);
	}
	free(p->files);
	for (size_t i = 0; i < p->ncmds; i++) {
		struct cmd_rule *r = &p->cmds[i];
		rc_free(&r->c);
		pol_strv_free(&r->commands);
		strs_free(r->exact, r->nexact);
		strs_free(r->bnames, r->nbnames);
		globs_free(r->pglobs, r->npglobs);
		globs_free(r->bglobs, r->nbglobs);
		pol_strv_free(&r->args_src);
		for (size_t k = 0; k < r->nargs; k++)
			regfree(&r->args[k]);
		free(r->args);
		free(r->redir_cmd);
		pol_strv_free(&r->redir_args);
		pol_strv_free(&r->redir_append);
		pol_strv_free(&r->redir_env);
		env_free(&r->env);
	}
	free(p->cmds);
	for (size_t i = 0; i < p->nnets; i++) {
		struct net_rule *r = &p->nets[i];
		rc_free(&r->c);
		pol_strv_free(&r->domains);
		globs_free(r->dglobs, r->ndglobs);
		free(r->cidrs);
		free(r->ports);
	}
	free(p->nets);
	for (size_t i = 0; i < p->nunixes; i++) {
		rc_free(&p->unixes[i].c);
		pol_strv_free(&p->unixes[i].paths);
		globs_free(p->unixes[i].globs, p->unixes[i].nglobs);
	}
	free(p->unixes);
	for (size_t i = 0; i < p->nsigs; i++) {
		rc_free(&p->sigs[i].c);
		pol_strv_free(&p->sigs[i].signals);
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
	pol_strv_free(&p->env_inject);
	free(p->name);
	free(p->description);
	free(p->source);
	free(p->sha256);
	free(p->text);
	pol_fidx_free(p->fidx);
	pol_nidx_free(p->cidx);
	pol_nidx_free(p->nidx);
}

