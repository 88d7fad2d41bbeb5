/* The interactive shell (work in progress). */
#include "shell/shell_int.h"

int shell_interactive(struct shell_ctx *ctx)
{
	fputs("agentsh: interactive mode is not implemented yet\n", ctx->err);
	return 2;
}
