/* env.c — the environment the delegate starts with: the caller's environment
 * filtered by the policy's env_policy, then env_inject (the policy module does
 * both; here only the buffer handling).  Every later exec is filtered again by
 * the notify supervisor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

int enf_env_build(struct enforce_session *s, char *const *envp, char ***out)
{
	static char *const empty[] = { NULL };
	size_t n = 0;
	if (!envp)
		envp = empty;
	while (envp[n])
		n++;
	size_t cap = n + 64;
	for (;;) {
		const char **e = calloc(cap + 1, sizeof *e);
		if (!e)
			return enf_fail(s, -ENOMEM, "out of memory building the environment");
		size_t got = 0;
		int rc = 0;
		if (s->cfg.policy) {
			rc = policy_env_filter(s->cfg.policy, NULL, (const char *const *)envp, e, cap, &got);
		} else {
			memcpy(e, envp, n * sizeof *e);
			got = n;
		}
		if (rc == -ENOSPC && cap < (1u << 20)) {
			free(e);
			cap *= 2;
			continue;
		}
		if (rc < 0) {
			free(e);
			return enf_fail(s, rc, rc == -E2BIG ? "the environment exceeds the policy's env_max_bytes/"
					"env_max_keys; unset variables before starting agentsh"
					: "the policy's env_policy could not be applied: %s", strerror(-rc));
		}
		e[got] = NULL;
		*out = (char **)e;
		return 0;
	}
}

void enf_env_free(char **env)
{
	free(env);
}
