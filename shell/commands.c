/* The registry of agentsh's own commands: built-ins of the interactive shell
 * (recognised by the first word of a line, run by agentsh, never sent to the
 * delegate) and subcommands (`agentsh NAME ...`).
 *
 * TO ADD A COMMAND: add ONE line to shell_commands[] below, with a handler
 * declared in the "handlers" block (or in your own shell/<name>.c):
 *     { "name", handler, "name ARGS - one line of help", SHELL_CMD_BOTH },
 * kind: SHELL_CMD_BUILTIN (interactive only), SHELL_CMD_SUBCOMMAND
 * (`agentsh name` only) or SHELL_CMD_BOTH.  The handler gets argv[0] == name,
 * prints on ctx->out / ctx->err and returns the exit status. */
#include "shell/shell_int.h"
#include "shell/history_int.h"
#include "enforce/enforce.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- handlers (declare yours here; define it in your own file) ---- */
static int cmd_help(int argc, char **argv, struct shell_ctx *ctx);
static int cmd_exit(int argc, char **argv, struct shell_ctx *ctx);
int shell_cmd_audit(int, char **, struct shell_ctx *), shell_cmd_events(int, char **, struct shell_ctx *), shell_cmd_report(int, char **, struct shell_ctx *), shell_cmd_policy_generate(int, char **, struct shell_ctx *); /* shell/jsonmode.c */
int shell_cmd_approve(int argc, char **argv, struct shell_ctx *ctx);   /* shell/approve_cmds.c */
int shell_cmd_approver(int argc, char **argv, struct shell_ctx *ctx);  /* shell/approve_cmds.c */
int shell_cmd_policy(int argc, char **argv, struct shell_ctx *ctx);    /* shell/policy_cmd.c */
static int cmd_doctor(int argc, char **argv, struct shell_ctx *ctx);
static int cmd_trash(int argc, char **argv, struct shell_ctx *ctx);

const struct shell_command shell_commands[] = {
	{ "doctor", cmd_doctor, "doctor [--json] - each enforcement layer: available, active, degraded, and why", SHELL_CMD_BOTH | SHELL_CMD_HOST_ONLY | SHELL_CMD_KEEPS_ROOT },
	{ "help", cmd_help, "help [NAME] - list agentsh's commands, or show one", SHELL_CMD_BOTH },
	{ "exit", cmd_exit, "exit [N] - leave the shell with status N (bash warns once about stopped jobs)", SHELL_CMD_BUILTIN },
	{ "logout", cmd_exit, "logout [N] - same as exit", SHELL_CMD_BUILTIN },
	{ "approve", shell_cmd_approve, "approve [list|show ID|allow ID [--session]|deny ID] [--json] [--remote USER@HOST] - answer pending approvals from another terminal", SHELL_CMD_SUBCOMMAND },
	{ "approver", shell_cmd_approver, "approver add NAME --totp|--webauthn | list | remove NAME - enroll who may approve (root)", SHELL_CMD_SUBCOMMAND },
	{ "audit", shell_cmd_audit, "audit verify [--json] | export --format jsonl|ocsf [--since T] [--session S] - check or export the audit trail", SHELL_CMD_SUBCOMMAND },
	{ "events", shell_cmd_events, "events query|tail [--session S] [--type T] [--decision D] [--since T] [--until T] [--path-like P] [--domain-like D] [--limit N] [--json] - search or follow the audit events", SHELL_CMD_SUBCOMMAND },
	{ "report", shell_cmd_report, "report [SESSION|latest] [--level summary|detailed] [--output FILE] - Markdown report of a session", SHELL_CMD_BOTH },
	{ "trash", cmd_trash, "trash list [--json] [--session ID] | restore TOKEN [--force] | purge TOKEN...|--all|--older-than DAYS - soft-deleted files", SHELL_CMD_BOTH | SHELL_CMD_KEEPS_ROOT },
	{ "policy", shell_cmd_policy, "policy show|validate|lint|check|test|generate [--json] [--policy NAME|FILE] - inspect, lint, test and generate policies", SHELL_CMD_BOTH },
	/* add new commands above this line, one line each */
};
const size_t shell_ncommands = sizeof(shell_commands) / sizeof(shell_commands[0]);

const struct shell_command *shell_command_find(const char *name, enum shell_cmd_kind kind)
{
	for (size_t i = 0; i < shell_ncommands; i++)
		if (!strcmp(shell_commands[i].name, name) && (shell_commands[i].kind & kind))
			return &shell_commands[i];
	return NULL;
}

bool shell_is_subcommand(const char *name)
{
	return shell_command_find(name, SHELL_CMD_SUBCOMMAND) != NULL;
}

bool shell_is_builtin(const char *name)
{
	return shell_command_find(name, SHELL_CMD_BUILTIN) != NULL;
}

/* The account a root-keeping command acts for: the session's (the built-in)
 * or the caller (the subcommand) -- ctx->acct in both cases. */
static struct enforce_account account_of(const struct shell_ctx *ctx)
{
	return (struct enforce_account){
		.uid = ctx->acct.uid, .gid = ctx->acct.gid, .groups = ctx->acct.groups,
		.ngroups = ctx->acct.ngroups, .name = ctx->acct.name, .home = ctx->acct.home,
	};
}

/* The trash holds every account's entries: root's only when root is the account. */
static int cmd_trash(int argc, char **argv, struct shell_ctx *ctx)
{
	struct enforce_account who = account_of(ctx);
	return enforce_trash_run(argc, argv, &who);
}

/* doctor probes the host as root (a setuid install's sessions get root: the
 * account sees what they get), and reads --policy FILE as the account. */
static int cmd_doctor(int argc, char **argv, struct shell_ctx *ctx)
{
	struct enforce_account who = account_of(ctx);
	return enforce_doctor_run(argc, argv, &who);
}

static int cmd_help(int argc, char **argv, struct shell_ctx *ctx)
{
	FILE *f = ctx->out ? ctx->out : stdout;
	if (argc > 1) {
		const struct shell_command *c = shell_command_find(argv[1], SHELL_CMD_BOTH);
		if (!c) {
			fprintf(ctx->err ? ctx->err : stderr, "help: %s: not an agentsh command "
				"(bash's own help: `builtin help %s`)\n", argv[1], argv[1]);
			return 1;
		}
		fprintf(f, "%s\n", c->help);
		return 0;
	}
	fputs("agentsh commands (the rest of the line language is bash's; `builtin help` "
	      "for bash's built-ins):\n", f);
	for (size_t i = 0; i < shell_ncommands; i++) {
		const struct shell_command *c = &shell_commands[i];
		unsigned k = c->kind & SHELL_CMD_BOTH;
		const char *where = k == SHELL_CMD_BOTH ? "" :
				    k == SHELL_CMD_BUILTIN ? " (in the shell only)" :
				    " (as `agentsh NAME ...` only)";
		/* "usage - what it does": usage on the left, or on its own line when long */
		const char *dash = strstr(c->help, " - ");
		int ul = dash ? (int)(dash - c->help) : (int)strlen(c->help);
		const char *what = dash ? dash + 3 : "";
		if (ul <= 24)
			fprintf(f, "  %-24.*s  %s%s\n", ul, c->help, what, where);
		else
			fprintf(f, "  %.*s\n  %-24s  %s%s\n", ul, c->help, "", what, where);
	}
	fputs("`help NAME` shows one command; `agentsh NAME --help` its options.\n", f);
	fflush(f);
	return 0;
}

/* `exit [N]`: the REPL hands the line to the delegate so bash applies its own
 * rules (stopped-jobs warning, `exit` = last status, numeric check). */
static int cmd_exit(int argc, char **argv, struct shell_ctx *ctx)
{
	(void)argv;
	if (argc > 2) {
		fprintf(ctx->err ? ctx->err : stderr, "%s: too many arguments\n", argv[0]);
		return 1;
	}
	ctx->exit_requested = true;
	return 0;
}

/* Word splitting with '...', "..." and backslash, enough for built-in
 * arguments.  A parser is fine here: it only reads agentsh's own commands. */
static int split_words(const char *line, char ***out)
{
	size_t cap = 8, n = 0, len = strlen(line);
	char **v = calloc(cap, sizeof(char *));
	char *buf = malloc(len + 1);
	const char *p = line;
	if (!v || !buf)
		goto nomem;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		char *w = buf, *start = buf;
		char q = 0;
		while (*p && (q || !isspace((unsigned char)*p))) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p++;
			else if (q && *p == q)
				q = 0, p++;
			else if (*p == '\\' && q != '\'' && p[1])
				*w++ = p[1], p += 2;
			else
				*w++ = *p++;
		}
		*w = 0;
		if (n + 2 > cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(char *));
			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n++] = strdup(start)))
			goto nomem;
	}
	v[n] = NULL;
	free(buf);
	*out = v;
	return (int)n;
nomem:
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	free(buf);
	return -ENOMEM;
}

/* A built-in is typed into the session, possibly by the agent, and runs in
 * the supervisor, which holds root when root started the session for the
 * account (--user) or agentsh is installed setuid.  It acts for the account:
 * root's rights only if the account is root, files opened with the account's
 * file-system ids (`policy validate /root/x` must not read what the account
 * cannot; `report --output F` must not write as root).  A command marked
 * SHELL_CMD_KEEPS_ROOT reaches root-owned state (the trash, the host's
 * cgroups) for the account by itself: root's fs ids for it. */
static int run_for_account(const struct shell_command *c, int ac, char **av, struct shell_ctx *ctx)
{
	struct fsid_save fs = { 0 };
	bool was_root = ctx->is_root;

	ctx->is_root = was_root && ctx->acct.uid == 0;
	if (c->kind & SHELL_CMD_KEEPS_ROOT)
		fsid_root(&fs);
	else
		fsid_enter(ctx, &fs);
	int r = c->handler(ac, av, ctx);
	fsid_leave(&fs);
	ctx->is_root = was_root;
	return r;
}

int shell_run_builtin_line(struct shell_ctx *ctx, const char *line)
{
	char **av = NULL;
	int ac = split_words(line, &av), r = -1;
	if (ac <= 0) {
		free(av);
		return -1;
	}
	const struct shell_command *c = shell_command_find(av[0], SHELL_CMD_BUILTIN);
	if (c)
		r = run_for_account(c, ac, av, ctx);
	for (int i = 0; i < ac; i++)
		free(av[i]);
	free(av);
	return r;
}
