/* `policy …`: the policy module's CLI with this session's account, config and
 * active policy; `policy generate` reads the audit store instead. */
#include "shell/shell_int.h"
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>

int shell_cmd_policy_generate(int argc, char **argv, struct shell_ctx *ctx);

int shell_cmd_policy(int argc, char **argv, struct shell_ctx *ctx)
{
	if (argc >= 2 && !strcmp(argv[1], "generate"))
		return shell_cmd_policy_generate(argc, argv, ctx);

	struct policy_vars v;
	char *git = shell_policy_vars(ctx, &v);
	struct policy_cli_env env = {
		.cfg = ctx->cfg, .vars = &v, .uid = ctx->acct.uid,
		.gids = ctx->acct.groups, .ngids = ctx->acct.ngroups,
		.is_root = ctx->is_root, .active = ctx->policy,
		.requested = ctx->opts.policy, .json = ctx->opts.json,
		.out = ctx->out, .err = ctx->err,
	};
	int rc = policy_cli(argc, argv, &env);
	free(git);
	return rc;
}
