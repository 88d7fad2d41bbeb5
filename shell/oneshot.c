/* Non-interactive invocations (-c, script, stdin): one delegate started
 * through enforce_spawn() with the caller's stdio (a terminal among them is
 * replaced by a pty of the command's own: oneshot_tty.c), waited for, and
 * its status returned the way sh reports it. */
#include "shell/shell_int.h"
#include "shell/tty_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "enforce/enforce.h"
#include "policy/policy.h"

int shell_status_from_wait(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return 1;
}

char **shell_oneshot_argv(const struct shell_ctx *ctx)
{
	const struct shell_opts *o = &ctx->opts;
	size_t n = 0, cap = (size_t)o->nsetflags + (size_t)o->nargs + 8;
	char **av = calloc(cap, sizeof(char *));
	if (!av)
		return NULL;
	av[n++] = (char *)ctx->delegate_path;
	for (int i = 0; i < o->nsetflags; i++)
		av[n++] = (char *)o->setflags[i];
	if (o->login)
		av[n++] = "-l";
	switch (o->mode) {
	case SHELL_MODE_COMMAND:
		av[n++] = "-c";
		av[n++] = (char *)o->command;
		/* sh -c: $0 is NAME when given, else the shell's own name (as invoked). */
		av[n++] = o->nargs > 0 ? o->args[0] : (char *)o->argv0;
		for (int i = 1; i < o->nargs; i++)
			av[n++] = o->args[i];
		break;
	case SHELL_MODE_SCRIPT:
		av[n++] = "--";
		for (int i = 0; i < o->nargs; i++)
			av[n++] = o->args[i];
		break;
	default: /* stdin */
		av[n++] = "-s";
		for (int i = 0; i < o->nargs; i++)
			av[n++] = o->args[i];
		break;
	}
	av[n] = NULL;
	return av;
}

static volatile sig_atomic_t pending[NSIG];

static void on_signal(int sig)
{
	pending[sig] = 1;
}

static const int fwd_sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2 };
#define NFWD (sizeof(fwd_sigs) / sizeof(fwd_sigs[0]))

/* Forward what we received.  The delegate leads a session and process group
 * of its own (enforce/spawn.c), so a terminal's SIGINT/SIGQUIT reach agentsh
 * alone and go on to the delegate's whole group, as the terminal would have
 * sent them; the other signals go to the delegate itself. */
static void forward(struct shell_ctx *ctx, pid_t pid)
{
	for (size_t i = 0; i < NFWD; i++) {
		int s = fwd_sigs[i];
		if (!pending[s])
			continue;
		pending[s] = 0;
		if (s == SIGHUP)
			enforce_session_signal(ctx->enf, SIGHUP);
		else if (s == SIGINT || s == SIGQUIT)
			kill(-pid, s);  /* as a terminal would: the command's whole group */
		else
			kill(pid, s);
	}
}

/* Wait for the command, forwarding signals and, with a terminal attached,
 * relaying between it and the command's pty (tty). */
static int wait_child(struct shell_ctx *ctx, pid_t pid, int pidfd, struct shell_tty *tty, int *wstatus)
{
	struct sigaction sa = {0}, old[NFWD], old_winch;
	sigset_t block, orig;
	siginfo_t si;
	int r = 0;

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (size_t i = 0; i < NFWD; i++) {
		sigaddset(&block, fwd_sigs[i]);
		sigaction(fwd_sigs[i], &sa, &old[i]);
	}
	sigaddset(&block, SIGWINCH);
	sigaction(SIGWINCH, &sa, &old_winch);
	sigprocmask(SIG_BLOCK, &block, &orig);
	for (;;) {
		struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN } };
		int np = 1 + shell_tty_pollfds(tty, p + 1);
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOHANG) < 0) {
			r = -errno;
			break;
		}
		if (si.si_pid == pid)
			break;
		if (ppoll(p, (nfds_t)np, NULL, &orig) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (np > 1)
			shell_tty_service(tty, p + 1);
		if (pending[SIGWINCH]) {
			pending[SIGWINCH] = 0;
			shell_tty_winch(tty);
		}
		forward(ctx, pid);
	}
	shell_tty_drain(tty);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	for (size_t i = 0; i < NFWD; i++)
		sigaction(fwd_sigs[i], &old[i], NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	if (r < 0)
		return r;
	if (si.si_code == CLD_EXITED)
		*wstatus = (si.si_status & 0xff) << 8;
	else
		*wstatus = si.si_status & 0x7f; /* killed or dumped: a signal status */
	return 0;
}

/* enforce_spawn_req.before_exec: nothing of the command runs before its start
 * is on record. */
static int audit_gate(void *arg)
{
	struct shell_ctx *ctx = arg;
	return ctx->audit_gate_rc = audit_flush(ctx->audit);       /* 0 or -errno */
}

int shell_run_argv(struct shell_ctx *ctx, char *const *argv, const int stdio[3], int *wstatus)
{
	struct enforce_spawn_req req = {0};
	struct shell_tty tty;
	pid_t pid = -1;
	int pidfd = -1, r, child[3];

	if ((r = shell_session_open(ctx)) < 0)
		return r;
	if ((r = shell_tty_open(&tty, stdio, child)) < 0) {
		fprintf(ctx->err, "agentsh: cannot open a pty for %s: %s; the command was not run (it "
			"would have held the terminal itself); run it with no terminal on its stdio, or "
			"check /dev/ptmx\n", argv[0], strerror(-r));
		return r;
	}
	/* the supervisor's notices meet the terminal in raw mode: lines end CR LF */
	atomic_store(&ctx->notice_crlf, tty.in >= 0 && isatty(STDERR_FILENO));
	ctx->audit_gate_rc = 0;
	if (ctx->audit) {
		req.before_exec = audit_gate;
		req.before_exec_arg = ctx;
	}
	req.argv = argv;
	req.envp = ctx->envp;
	req.cwd = NULL;
	req.stdio[0] = child[0];
	req.stdio[1] = child[1];
	req.stdio[2] = child[2];
	req.ctty = tty.on ? tty.pty.slave : -1;
	req.timeout_ms = enforce_command_timeout_ms(ctx->enf);  /* resource_limits.command_timeout -> 124 */
	r = enforce_spawn(ctx->enf, &req, &pid, &pidfd);
	bool spawned = r >= 0;
	shell_tty_spawned(&tty);
	if (spawned) {
		shell_timing_mark("delegate spawned");
		r = wait_child(ctx, pid, pidfd, &tty, wstatus);
	}
	shell_tty_close(&tty);                  /* the terminal's modes back before any message */
	atomic_store(&ctx->notice_crlf, false);
	if (!spawned && ctx->audit_gate_rc < 0) {
		fprintf(ctx->err, "agentsh: cannot record the command in the audit trail, so it was not "
			"run: %s\n", audit_strerror(ctx->audit));
		return r;
	}
	if (!spawned) {
		const char *why = enforce_strerror(ctx->enf);
		fprintf(ctx->err, "agentsh: cannot start %s in the sandbox: %s\n", argv[0],
			why && *why ? why : strerror(-r));
		return r;
	}
	shell_timing_mark("delegate exited");
	close(pidfd);
	if (r < 0)
		fprintf(ctx->err, "agentsh: waiting for %s (pid %d) failed: %s\n", argv[0],
			(int)pid, strerror(-r));
	return r;
}

static const char *mode_name(enum shell_mode m)
{
	return m == SHELL_MODE_COMMAND ? "command" : m == SHELL_MODE_SCRIPT ? "script" : "stdin";
}

/* What the audit trail calls the command: the -c string, the script and its
 * arguments, or "<stdin>" (the commands themselves are seen as exec events). */
static void audit_line(const struct shell_ctx *ctx, char *buf, size_t len)
{
	const struct shell_opts *o = &ctx->opts;
	size_t n = 0;
	buf[0] = 0;
	if (o->mode == SHELL_MODE_COMMAND) {
		snprintf(buf, len, "%s", o->command);
		return;
	}
	if (o->mode != SHELL_MODE_SCRIPT) {
		snprintf(buf, len, "<stdin>");
		return;
	}
	for (int i = 0; i < o->nargs && n + 1 < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? " " : "", o->args[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/* Plain -c / script / stdin: the caller's own stdio, audited as one session
 * with one command.  Returns the exit status sh would give. */
int shell_run_noninteractive(struct shell_ctx *ctx)
{
	static const int stdio[3] = { 0, 1, 2 };
	struct timespec t0, t1;
	int64_t cmd = 0;
	char line[8192];
	int ws = 0, st;

	/* The session's start is committed while the sandbox is built (the first
	 * commit of a process is the slow one); the command's start is made
	 * durable before the delegate's exec (audit_gate, run by the spawn while
	 * the child waits): that flush also fails if the store, opened by the
	 * writer thread meanwhile, cannot be opened, and then nothing runs. */
	if (shell_audit_open(ctx, true) < 0)
		return 126;
	audit_session_begin(ctx->audit, ctx->acct.uid, mode_name(ctx->opts.mode),
			    ctx->policy ? policy_name(ctx->policy) : NULL,
			    ctx->policy ? policy_source(ctx->policy) : NULL);
	audit_commit_soon(ctx->audit);
	if (shell_session_open(ctx) < 0) {
		audit_session_end(ctx->audit, 126);     /* the refusal is on record */
		return 126;
	}
	audit_line(ctx, line, sizeof(line));
	if (audit_command_begin(ctx->audit, line, &cmd) < 0) {
		fprintf(stderr, "agentsh: cannot record the command in the audit trail: %s\n",
			audit_strerror(ctx->audit));
		return 126;
	}
	/* committed while the sandbox is built, durable before the exec (audit_gate) */
	audit_commit_soon(ctx->audit);
	shell_timing_mark("audit: session and command begin queued");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (shell_run_oneshot(ctx, stdio, &ws) < 0)
		st = 126;
	else if (enforce_session_timed_out(ctx->enf))
		st = 124;
	else
		st = shell_status_from_wait(ws);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	shell_notices_command_end(ctx);
	struct audit_command_result res = {
		.exit_status = st,
		.duration_us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000,
		.message = st == 124 ? "timed out" : NULL,
		.session_ends = true,
	};
	audit_command_end(ctx->audit, cmd, &res);
	audit_session_end(ctx->audit, st);
	shell_timing_mark("audit: command and session end queued");
	if (st == 124)
		fputs("agentsh: the command ran past the policy's command_timeout and was killed\n",
		      stderr);
	return st;
}

int shell_run_oneshot(struct shell_ctx *ctx, const int stdio[3], int *wstatus)
{
	char **av = shell_oneshot_argv(ctx);
	int r;
	if (!av)
		return -ENOMEM;
	r = shell_run_argv(ctx, av, stdio, wstatus);
	free(av);
	return r;
}
