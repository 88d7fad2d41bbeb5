/* Environment policy for the commands agentsh starts: env_policy (or a
 * command rule's env_* override), the built-in secret list, env_inject. */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>
#include "policy/policy_int.h"

/* Denied when a policy has no allow list: credentials and variables that
 * make a program load code the policy never saw (reference defaultSecretDeny). */
static const char *const builtin_deny[] = {
	"AWS_*", "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_*", "SSH_AUTH_SOCK", "DOCKER_HOST",
	"KUBECONFIG", "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "NPM_TOKEN", "LD_*", "DYLD_*",
	"PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "RUBYLIB", "RUBYOPT", "PERL5LIB", "PERL5OPT",
	"BASH_ENV", "ENV", "PROMPT_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "GCONV_PATH",
};

static bool any_glob(const struct glob *g, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (pol_glob_match(&g[i], name, len))
			return true;
	return false;
}

bool pol_env_name_allowed(const struct env_rule *global, const struct env_rule *cmd, const char *name,
		      size_t len)
{
	/* a command rule's lists replace the global ones when it sets any */
	const struct env_rule *e = (cmd && (cmd->has_allow || cmd->ndeny)) ? cmd : global;
	if (any_glob(e->deny, e->ndeny, name, len))
		return false;
	if (e->has_allow)
		return any_glob(e->allow, e->nallow, name, len);
	char nm[256];
	if (len >= sizeof(nm))
		return false;
	memcpy(nm, name, len);
	nm[len] = 0;
	for (size_t i = 0; i < sizeof(builtin_deny) / sizeof(builtin_deny[0]); i++)
		if (fnmatch(builtin_deny[i], nm, 0) == 0)
			return false;
	return true;
}

bool policy_env_allowed(const struct policy *p, const struct policy_result *cmd, const char *name)
{
	return pol_env_name_allowed(&p->env, cmd ? (const struct env_rule *)cmd->env_rule : NULL, name,
				strlen(name));
}

bool policy_env_block_iteration(const struct policy *p, const struct policy_result *cmd)
{
	const struct env_rule *e = cmd ? (const struct env_rule *)cmd->env_rule : NULL;
	return (e && e->block_iteration) || p->env.block_iteration;
}

static bool in_list(const char *const *v, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(v[i], name, len) && v[i][len] == '=')
			return true;
	return false;
}

int policy_env_filter(const struct policy *p, const struct policy_result *cmd,
		      const char *const *envp, const char **out, size_t out_cap, size_t *out_n)
{
	const struct env_rule *ce = cmd ? (const struct env_rule *)cmd->env_rule : NULL;
	const char *const *inj = (const char *const *)p->env_inject.v;
	size_t ninj = p->env_inject.n;
	const char *const *renv = cmd ? cmd->cmd.env : NULL;
	size_t nrenv = cmd ? cmd->cmd.nenv : 0;
	uint64_t max_bytes = ce && ce->max_bytes ? ce->max_bytes : p->env.max_bytes;
	uint64_t max_keys = ce && ce->max_keys ? ce->max_keys : p->env.max_keys;
	size_t n = 0;
	uint64_t bytes = 0;
	*out_n = 0;
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *eq = strchr(envp[i], '=');
		if (!eq || eq == envp[i])
			continue;       /* malformed entries never reach a command */
		size_t len = (size_t)(eq - envp[i]);
		if (in_list(inj, ninj, envp[i], len) || in_list(renv, nrenv, envp[i], len))
			continue;
		if (!pol_env_name_allowed(&p->env, ce, envp[i], len))
			continue;
		if (n >= out_cap)
			return -ENOSPC;
		out[n++] = envp[i];
		bytes += strlen(envp[i]) + 1;
	}
	for (size_t i = 0; i < ninj + nrenv; i++) {
		if (n >= out_cap)
			return -ENOSPC;
		out[n] = i < ninj ? inj[i] : renv[i - ninj];
		bytes += strlen(out[n]) + 1;
		n++;
	}
	if ((max_bytes && bytes > max_bytes) || (max_keys && n > max_keys))
		return -E2BIG;
	if (n < out_cap)
		out[n] = NULL;
	*out_n = n;
	return 0;
}
