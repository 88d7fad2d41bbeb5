/* `agentsh approve ...` and `agentsh approver ...`: thin adapters from the
 * shell's command registry to the approve module's command-line entry points.
 * Subcommands only: approve_cli() drops privileges, which must never happen
 * inside the interactive shell's own process. */
#include "shell/shell_int.h"
#include "approve/approve.h"

#include <stdio.h>

int shell_cmd_approve(int argc, char **argv, struct shell_ctx *ctx);
int shell_cmd_approver(int argc, char **argv, struct shell_ctx *ctx);

int shell_cmd_approve(int argc, char **argv, struct shell_ctx *ctx)
{
	(void)ctx;
	fflush(NULL);
	return approve_cli(argc, argv);
}

int shell_cmd_approver(int argc, char **argv, struct shell_ctx *ctx)
{
	(void)ctx;
	fflush(NULL);
	return approve_approver_cli(argc, argv);
}
