/* agentsh entry point: parse the command line like sh does, pick the mode,
 * and run it.  Only this file (the top level) prints usage and exits. */
#include "shell/shell_int.h"

#include "bpf/bpf.h"
#include "enforce/enforce.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef AGENTSH_VERSION
#define AGENTSH_VERSION "0.1.0"
#endif

/* Replaced by shell/jsonmode.c (a strong definition) when it exists. */
__attribute__((weak)) int shell_json_main(struct shell_ctx *ctx)
{
	(void)ctx;
	fputs("agentsh: --json is not available in this build (shell/jsonmode.c is missing)\n",
	      stderr);
	return 2;
}

/* Installed setuid, `agentsh NAME ...` is the caller's own command: root is
 * given up for good, groups first, and checked, before the subcommand reads
 * an argument.  (The privilege split made the real uid 0, so a subcommand
 * left as root could not tell who called it: `approve --ssh PROG` would run
 * PROG as root, `approver add` would enroll for anyone.) */
static int drop_to_invoker(const struct shell_ctx *ctx)
{
	uid_t u = shell_priv.uid;
	gid_t g = shell_priv.gid;
	const gid_t *gs = ctx->acct.uid == u ? ctx->acct.groups : NULL;
	size_t n = gs ? ctx->acct.ngroups : 0;

	if (setgroups(n, gs) < 0 || setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0)
		return -1;
	uid_t r, e, sv;
	if (getresuid(&r, &e, &sv) < 0 || r != u || e != u || sv != u || setuid(0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int run_subcommand(struct shell_ctx *ctx)
{
	const struct shell_command *c = shell_command_find(ctx->opts.args[0], SHELL_CMD_SUBCOMMAND);
	if (!c) /* parse_args only picks SUBCOMMAND for registered names */
		return 2;
	if ((c->kind & SHELL_CMD_HOST_ONLY) && enforce_inside_session()) {
		fprintf(stderr, "agentsh %s: inside an agentsh session the sandbox refuses what it "
			"probes; run it outside the session (as root for the full picture)\n", c->name);
		return 2;
	}
	if (shell_priv.mode == ENFORCE_PRIV_SETUID && !(c->kind & SHELL_CMD_KEEPS_ROOT) &&
	    drop_to_invoker(ctx) < 0) {
		fprintf(stderr, "agentsh %s: cannot give up root for the caller (uid %u): %s; "
			"refusing to run it as root\n", c->name, (unsigned)shell_priv.uid, strerror(errno));
		return 126;
	}
	int r = c->handler(ctx->opts.nargs, ctx->opts.args, ctx);
	fflush(stdout);
	return r;
}

struct shell_priv shell_priv;

/* AGENTSH_* variables are switches for root and the tests (the audit store's
 * path, timing output, caps).  Installed setuid, the environment is the
 * invoking account's — possibly the agent's — so none of them may count. */
static void scrub_agentsh_env(void)
{
	for (size_t i = 0; environ[i];) {
		if (!strncmp(environ[i], "AGENTSH_", 8)) {
			const char *eq = strchr(environ[i], '=');
			char name[256];
			size_t n = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
			if (n < sizeof(name)) {
				memcpy(name, environ[i], n);
				name[n] = 0;
				if (unsetenv(name) == 0)
					continue;       /* environ shifted: look at index i again */
			}
			environ[i][0] = '_';    /* cannot unset: make it inert */
		}
		i++;
	}
}

/* Started with 0, 1 or 2 closed (`agentsh -c ... <&-`), the first descriptors
 * agentsh opens would land there: a sandboxed command handed that "stdin"
 * would hold the watchdog's channel (which then never reads EOF) or a store's
 * descriptor.  glibc does this only for setuid programs. */
static void stdio_open(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
			_exit(126);
}

int main(int argc, char **argv)
{
	struct shell_opts o;
	struct shell_ctx ctx;
	char err[512];
	int r;

	stdio_open();

	/* The privilege split comes before reading anything the user controls. */
	r = enforce_privilege_init(&shell_priv.uid, &shell_priv.gid, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "agentsh: %s\n", err);
		return 126;
	}
	shell_priv.mode = r;
	if (shell_priv.mode == ENFORCE_PRIV_SETUID)
		scrub_agentsh_env();
	shell_timing_mark("main");
	r = shell_parse_args(argc, argv, &o, shell_is_subcommand, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s\n", err);
		return r;
	}
	if (o.mode == SHELL_MODE_HELP) {
		shell_usage(stdout);
		return 0;
	}
	if (o.mode == SHELL_MODE_VERSION) {
		printf("agentsh %s\n", AGENTSH_VERSION);
		return 0;
	}
	/* Before anything touches libcrypto: agentsh uses it for SHA-256 and HMAC
	 * from the built-in default provider only.  The system's openssl.cnf
	 * (engines, providers, TLS settings) has nothing for that, and reading it
	 * made the first digest of every session ~0.45 ms slower.  A failure here
	 * is not fatal: the first digest then initialises the library itself. */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (o.mode == SHELL_MODE_DEFAULT)
		o.mode = isatty(STDIN_FILENO) && isatty(STDERR_FILENO) ? SHELL_MODE_INTERACTIVE
								       : SHELL_MODE_STDIN;
	if (o.mode == SHELL_MODE_STDIN && o.interactive)
		o.mode = SHELL_MODE_INTERACTIVE;
	if (o.mode != SHELL_MODE_SUBCOMMAND && enforce_inside_session())
		return shell_run_nested(&o);
	/* A session opens a BPF guard: let the kernel verify its programs in a
	 * thread while the account, the policy and the audit store are set up (the
	 * guard's open joins it, before the sandbox forks anything).  A failed
	 * preload costs nothing (the guard then loads itself and says why). */
	if (geteuid() == 0 && (o.mode == SHELL_MODE_COMMAND || o.mode == SHELL_MODE_SCRIPT ||
			       o.mode == SHELL_MODE_STDIN || o.mode == SHELL_MODE_INTERACTIVE)) {
		/* before any thread exists, while the process is small (enforce.h) */
		(void)enforce_watchdog_prefork();
		(void)bpf_guard_preload();
	}

	r = shell_ctx_init(&ctx, &o);
	shell_timing_mark("context (account, policy)");
	if (r) {
		shell_ctx_free(&ctx);
		return o.json && o.mode == SHELL_MODE_COMMAND ? shell_json_start_failed(&o, r) : r;
	}
	switch (ctx.opts.mode) {
	case SHELL_MODE_SUBCOMMAND:
		r = run_subcommand(&ctx);
		break;
	case SHELL_MODE_INTERACTIVE:
		r = shell_interactive(&ctx);
		break;
	default:
		r = ctx.opts.json ? shell_json_main(&ctx) : shell_run_noninteractive(&ctx);
		break;
	}
	fflush(stdout);
	shell_timing_mark("run done");
	shell_ctx_free(&ctx);
	shell_timing_mark("teardown done");
	return r;
}
