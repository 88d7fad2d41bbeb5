/* env.c — the environment the delegate starts with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/enforce_int.h"

int enf_env_build(struct enforce_session *s, char *const *envp, char ***out)
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	char **e = calloc(n + 1, sizeof *e);
	if (!e)
		return enf_fail(s, -ENOMEM, "out of memory building the environment");
	for (size_t i = 0; i < n; i++)
		e[i] = envp[i];
	*out = e;
	return 0;
}

void enf_env_free(char **env)
{
	free(env);
}
