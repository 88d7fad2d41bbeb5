/* The interactive shell: agentsh owns the outer terminal and readline; each
 * accepted line goes to the persistent delegate bash on the inner PTY; while
 * a command runs, bytes are relayed raw.  One poll loop, no threads. */
#include "shell/shell_int.h"
#include "shell/repl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>

#include "approve/approve.h"
#include "audit/audit.h"
#include "policy/policy.h"
#include "enforce/enforce.h"

#define STARTUP_TIMEOUT_MS 15000

struct repl *repl_current;     /* readline callbacks have no context argument */
        /* readline's line callback has no context argument */
static volatile sig_atomic_t sig_winch, sig_int, sig_hup, sig_term;

static void on_sig(int s)
{
	if (s == SIGWINCH)
		sig_winch = 1;
	else if (s == SIGINT)
		sig_int = 1;
	else if (s == SIGHUP)
		sig_hup = 1;
	else if (s == SIGTERM)
		sig_term = 1;
}

static void install_signals(sigset_t *orig)
{
	struct sigaction sa = {0};
	sigset_t block;
	static const int ign[] = { SIGTSTP, SIGTTIN, SIGTTOU, SIGQUIT, SIGPIPE };

	for (size_t i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		signal(ign[i], SIG_IGN);
	pty_term_restore_on_crash();    /* a crash of agentsh still gives the terminal back */
	sa.sa_handler = on_sig;
	sa.sa_flags = 0;
	sigemptyset(&block);
	static const int mine[] = { SIGWINCH, SIGINT, SIGHUP, SIGTERM };
	for (size_t i = 0; i < 4; i++) {
		sigaction(mine[i], &sa, NULL);
		sigaddset(&block, mine[i]);
	}
	/* Delivered only inside ppoll: no races with the loop's decisions. */
	sigprocmask(SIG_BLOCK, &block, orig);
}

/* ------------------------------------------------------------ output */

static ssize_t tee_write(void *c, const char *buf, size_t n)
{
	struct repl *r = c;
	pty_screen_feed(r->screen, buf, n);
	return pty_write_all(STDOUT_FILENO, buf, n) < 0 ? -1 : (ssize_t)n;
}

static bool approving(const struct repl *r)
{
	return r->ctx->approve_tty && approve_tty_active(r->ctx->approve_tty);
}

/* While an approval prompt is up, output only reaches the screen model; the
 * prompt's end repaints the screen from it (docs/approvals.md).  What reaches
 * the terminal passes the output filter (pty_outfilter: no clipboard, title
 * reports or key definitions), whose state runs on while a prompt is up, so
 * a sequence cannot be split around one. */
static void out_write(struct repl *r, const char *buf, size_t n)
{
	char safe[4096 + PTY_OUTFILTER_SLACK];

	if (!n)
		return;
	fflush(r->rl_out);
	pty_screen_feed(r->screen, buf, n);
	for (size_t off = 0, k; off < n; off += k) {
		k = n - off < 4096 ? n - off : 4096;
		size_t m = pty_outfilter(&r->outf, buf + off, k, safe);
		if (!approving(r) && m)
			pty_write_all(STDOUT_FILENO, safe, m);
	}
}

/* ---- audit: one command per line handed to the delegate ---- */

static void audit_cmd_begin(struct repl *r)
{
	int64_t id = 0;
	if (r->cmd_id || !r->line)
		return;
	if (audit_command_begin(r->ctx->audit, r->line, &id) == 0)
		r->cmd_id = id;
	clock_gettime(CLOCK_MONOTONIC, &r->cmd_t0);
}

static void audit_cmd_end(struct repl *r, int status)
{
	struct timespec t1;
	shell_notices_command_end(r->ctx);      /* with or without an audit record */
	if (!r->cmd_id)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct audit_command_result res = {
		.exit_status = status,
		.duration_us = (t1.tv_sec - r->cmd_t0.tv_sec) * 1000000LL +
			       (t1.tv_nsec - r->cmd_t0.tv_nsec) / 1000,
	};
	audit_command_end(r->ctx->audit, r->cmd_id, &res);
	r->cmd_id = 0;
}

/* ------------------------------------------------------------ events */

static void show_above(struct repl *r, const char *buf, size_t n);

/* Keystrokes the command did not read go back to readline.  A read on the
 * slave (non-blocking, non-canonical by now) first makes the kernel push
 * bytes still in flight from the master into the line discipline, which
 * FIONREAD would not. */
static void take_typeahead(struct repl *r)
{
	for (;;) {
		size_t room = sizeof(r->held) - r->nheld;
		ssize_t got = room ? read(r->peek, r->held + r->nheld, room) : -1;
		if (got <= 0)
			break;
		r->nheld += (size_t)got;
	}
	tcflush(r->peek, TCIFLUSH);
}

static void untrust(struct repl *r)
{
	if (r->st == REPL_UNTRUSTED)
		return;
	repl_remove_prompt(r);
	repl_outer_raw(r);
	delegate_tty_running(r);
	r->st = REPL_UNTRUSTED;
	const char *m = "\r\nagentsh: the delegate shell is no longer the program agentsh started "
			"(it exec'd something); the prompt stays off until it exits.\r\n";
	out_write(r, m, strlen(m));
	if (r->nheld)
		pty_write_all(r->pty.master, r->held, r->nheld);
	r->nheld = 0;
}

static void handle_ctl(struct repl *r)
{
	struct marker_msg m;
	pid_t from;
	int rc;
	while ((rc = delegate_recv(r, &m, &from)) > 0) {
		if (r->st == REPL_UNTRUSTED)
			continue;
		if (m.kind == 'S' && delegate_plausible_start(r, &m, from)) {
			if (r->st == REPL_WAIT_START) {
				audit_cmd_begin(r);
				delegate_tty_running(r);
				r->st = REPL_RUNNING;
				if (r->nheld)
					pty_write_all(r->pty.master, r->held, r->nheld);
				r->nheld = 0;
			}
			delegate_ack(r);
			continue;
		}
		if (m.kind != 'D' || m.seq != r->expect_seq || r->got_done)
			continue;               /* forged, stale or garbage: ignored */
		if (from == r->pid && !delegate_same_program(r)) {
			untrust(r);
			return;
		}
		if (!delegate_authentic_done(r, &m, from))
			continue;
		delegate_tty_sending(r);
		take_typeahead(r);
		/* keys the pty never took come after those, for readline too */
		size_t k = r->nkeys < sizeof(r->held) - r->nheld ? r->nkeys : sizeof(r->held) - r->nheld;
		memcpy(r->held + r->nheld, r->keys, k);
		r->nheld += k;
		r->nkeys = 0;
		r->status = m.status;
		audit_cmd_end(r, m.status);
		snprintf(r->cwd, sizeof(r->cwd), "%s", m.cwd);
		r->got_done = true;
		if (r->st == REPL_WAIT_START)   /* nothing ran (comment, syntax error) */
			r->st = REPL_RUNNING;
		delegate_ack(r);
	}
}

static void handle_master(struct repl *r)
{
	char in[16384], out[16384 + 64];
	ssize_t n = read(r->pty.master, in, sizeof(in));
	bool found = false;
	if (n <= 0)
		return;
	enforce_session_activity(r->ctx->enf);          /* output resets the idle timeout */
	if (r->st == REPL_UNTRUSTED) {
		out_write(r, in, (size_t)n);
		return;
	}
	size_t o = sentinel_filter(&r->scan, in, (size_t)n, out, r->got_done ? r->expect_seq : -1,
				   &found);
	if (r->st == REPL_STARTUP) {
		if (found)
			repl_enter_prompt(r);
		return;                 /* startup noise (rc files, bash's own prompt) */
	}
	if (found && r->st == REPL_PROMPT) {
		/* Nothing was sent, yet bash finished a command (it had more input
		 * than one line): keep the sequence in step. */
		r->expect_seq++;
		r->got_done = false;
	}
	if (r->st == REPL_PROMPT && r->rl_installed && o) {
		/* A background job printed while the user edits: whole lines go
		 * above the prompt; a line's unfinished tail waits for the rest
		 * (or for the next idle tick), so redisplay cannot erase it. */
		size_t keep = 0;
		while (keep < o && out[o - 1 - keep] != '\n')
			keep++;
		if (r->npartial + (o - keep) > sizeof(r->partial) || keep > sizeof(r->partial)) {
			repl_flush_partial(r);
			show_above(r, out, o);
			return;
		}
		if (o > keep) {
			char both[sizeof(r->partial) + sizeof(out)];
			memcpy(both, r->partial, r->npartial);
			memcpy(both + r->npartial, out, o - keep);
			show_above(r, both, r->npartial + o - keep);
			r->npartial = 0;
		}
		if (r->npartial + keep > sizeof(r->partial))
			repl_flush_partial(r);
		memcpy(r->partial + r->npartial, out + o - keep, keep);
		r->npartial += keep;
		return;
	}
	out_write(r, out, o);
	if (found && (r->st == REPL_RUNNING || r->st == REPL_WAIT_START))
		repl_enter_prompt(r);
}

static void handle_input(struct repl *r)
{
	if (approving(r)) {
		/* The answer is for agentsh alone: never the sandbox, never readline. */
		char buf[256];
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n > 0)
			approve_tty_feed(r->ctx->approve_tty, buf, (size_t)n, r->screen, r->rows,
					 r->cols);
		else if (n == 0)
			r->in_eof = true;
		return;
	}
	if (r->st == REPL_PROMPT && r->rl_installed) {
		struct fsid_save fs;
		fsid_enter(r->ctx, &fs);        /* completion lists with the account's rights */
		rl_callback_read_char();
		fsid_leave(&fs);
		return;
	}
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			r->in_eof = true;
		return;
	}
	/* After D, bash is about to read its next command from the tty: keys
	 * now are typeahead for readline, not input for the command. */
	enforce_session_activity(r->ctx->enf);          /* so does input */
	if ((r->st == REPL_RUNNING && !r->got_done) || r->st == REPL_UNTRUSTED) {
		size_t k = (size_t)n < sizeof(r->keys) - r->nkeys ? (size_t)n : sizeof(r->keys) - r->nkeys;
		memcpy(r->keys + r->nkeys, buf, k);
		r->nkeys += k;
		pty_write_some(r->pty.master, r->keys, &r->nkeys);
		return;
	}
	/* STARTUP / WAIT_START / PROMPT-between-states: hold for later. */
	size_t room = sizeof(r->held) - r->nheld;
	size_t k = (size_t)n < room ? (size_t)n : room;
	memcpy(r->held + r->nheld, buf, k);
	r->nheld += k;
}

/* Above the readline line when one is being edited, else inline. */
static void show_above(struct repl *r, const char *buf, size_t n)
{
	if (r->st == REPL_PROMPT && r->rl_installed && !approving(r)) {
		rl_clear_visible_line();
		out_write(r, buf, n);
		rl_on_new_line();
		rl_redisplay();
		return;
	}
	out_write(r, buf, n);
}

/* Print a held unfinished background line, ending it so the prompt follows. */
void repl_flush_partial(struct repl *r)
{
	if (!r->npartial)
		return;
	if (r->npartial + 2 <= sizeof(r->partial)) {
		r->partial[r->npartial++] = '\r';
		r->partial[r->npartial++] = '\n';
	}
	show_above(r, r->partial, r->npartial);
	r->npartial = 0;
}

/* Notices held while a full-screen program ran, shown once it is gone. */
static void flush_notes(struct repl *r)
{
	if (!r->nnotes || (r->st != REPL_PROMPT && pty_screen_altscreen(r->screen)))
		return;
	size_t n = r->nnotes;
	r->nnotes = 0;
	show_above(r, r->notes, n);
}

static void handle_notices(struct repl *r)
{
	char in[4096], out[8192 + 2];
	ssize_t n = read(r->notices, in, sizeof(in));
	size_t o = 0;
	if (n <= 0)
		return;
	if (r->st != REPL_PROMPT && pty_screen_altscreen(r->screen)) {
		/* Painting over vim/less/top would corrupt their screen. */
		for (ssize_t i = 0; i < n && r->nnotes + 2 < sizeof(r->notes); i++) {
			if (in[i] == '\n')
				r->notes[r->nnotes++] = '\r';
			r->notes[r->nnotes++] = in[i];
		}
		return;
	}
	if (r->st != REPL_PROMPT)
		out[o++] = '\r';               /* raw mode: start at the left margin */
	for (ssize_t i = 0; i < n; i++) {
		if (in[i] == '\n')
			out[o++] = '\r';
		out[o++] = in[i];
	}
	show_above(r, out, o);
}

static void handle_winch(struct repl *r)
{
	struct winsize ws;
	if (!r->have_tty || pty_get_winsize(STDIN_FILENO, &ws) < 0)
		return;
	pty_set_winsize(r->pty.master, &ws);
	pty_screen_resize(r->screen, ws.ws_row, ws.ws_col);
	if (r->ctx->approve_tty)
		approve_tty_resize(r->ctx->approve_tty, ws.ws_row, ws.ws_col);
	r->rows = ws.ws_row;
	r->cols = ws.ws_col;
	if (r->st == REPL_PROMPT && r->rl_installed)
		rl_resize_terminal();
}

static void handle_sigint(struct repl *r)
{
	/* Only at the prompt: while a command runs, Ctrl-C is a byte for the inner tty. */
	if (r->st != REPL_PROMPT || !r->rl_installed)
		return;
	free(r->acc);
	r->acc = NULL;
	rl_free_line_state();
	rl_replace_line("", 0);
	repl_remove_prompt(r);
	fputs("^C\n", r->rl_out);
	fflush(r->rl_out);
	r->status = 130;
	repl_install_prompt(r);
}

/* ------------------------------------------------------------ life cycle */

static int reap(struct repl *r)
{
	siginfo_t si = {0};
	if (waitid(P_PIDFD, (id_t)r->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return -1;
	return si.si_code == CLD_EXITED ? si.si_status & 0xff : 128 + (si.si_status & 0x7f);
}

static void drain_master(struct repl *r)
{
	char in[16384], out[16384 + 64];
	bool found = false;
	for (int i = 0; i < 64; i++) {
		struct pollfd p = { .fd = r->pty.master, .events = POLLIN };
		if (poll(&p, 1, 20) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t n = read(r->pty.master, in, sizeof(in));
		if (n <= 0)
			break;
		if (r->st == REPL_STARTUP)
			continue;
		size_t o = r->st == REPL_UNTRUSTED ? 0 :
			   sentinel_filter(&r->scan, in, (size_t)n, out, -1, &found);
		if (r->st == REPL_UNTRUSTED)
			out_write(r, in, (size_t)n);
		else
			out_write(r, out, o);
	}
}

/* SIGHUP (the terminal went away) or SIGTERM: the session's processes get
 * SIGHUP, as from a terminal hangup; bash forwards it to its jobs. */
static int hangup(struct repl *r, int sig)
{
	repl_remove_prompt(r);
	repl_outer_cooked(r);
	kill(r->pid, SIGHUP);   /* bash passes it on to its jobs */
	enforce_session_signal(r->ctx->enf, SIGHUP);
	struct pollfd p = { .fd = r->pidfd, .events = POLLIN };
	poll(&p, 1, 2000);
	return 128 + sig;
}

static int run_loop(struct repl *r, const sigset_t *orig)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct approve_tty *at = r->ctx->approve_tty;
		struct pollfd p[6] = {
			{ .fd = r->pidfd, .events = POLLIN },
			{ .fd = r->ctl, .events = POLLIN },
			{ .fd = r->pty.master, .events = POLLIN | (r->nkeys ? POLLOUT : 0) },
			{ .fd = r->in_eof || r->nkeys ? -1 : STDIN_FILENO, .events = POLLIN },
			{ .fd = at ? approve_tty_wake_fd(at) : -1, .events = POLLIN },
			{ .fd = r->notices, .events = POLLIN },
		};
		int ms = at ? approve_tty_timeout_ms(at) : -1;
		if (ms < 0 || ms > 250)
			ms = 250;
		struct timespec to = { .tv_sec = 0, .tv_nsec = (long)ms * 1000 * 1000 };
		int n = ppoll(p, 6, &to, orig);
		if (at && (n == 0 || (n > 0 && p[4].revents)))
			approve_tty_service(at, r->screen, r->rows, r->cols);
		if (sig_hup)
			return hangup(r, SIGHUP);
		if (sig_term)
			return hangup(r, SIGTERM);
		if (sig_winch) {
			sig_winch = 0;
			handle_winch(r);
		}
		if (sig_int) {
			sig_int = 0;
			handle_sigint(r);
		}
		if (n < 0 && errno != EINTR)
			return 1;
		if (n <= 0) {
			repl_flush_partial(r);
			if (r->st == REPL_STARTUP) {
				struct timespec now;
				clock_gettime(CLOCK_MONOTONIC, &now);
				if ((now.tv_sec - start.tv_sec) * 1000 > STARTUP_TIMEOUT_MS) {
					const char *m = "agentsh: the delegate shell did not answer the "
							"agentsh handshake (does a start-up file make "
							"PROMPT_COMMAND or PS0 read-only, or exec?); "
							"relaying without a prompt.\r\n";
					out_write(r, m, strlen(m));
					r->st = REPL_PROMPT;    /* so untrust() switches modes */
					untrust(r);
				}
			}
			continue;
		}
		if (p[1].revents)
			handle_ctl(r);
		if (p[5].revents & POLLIN)
			handle_notices(r);
		if (p[2].revents & POLLIN)
			handle_master(r);
		if (r->nkeys && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)))
			pty_write_some(r->pty.master, r->keys, &r->nkeys);
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
			handle_input(r);
		repl_feed_pending(r);
		flush_notes(r);
		if (r->in_eof && r->st == REPL_PROMPT && r->rl_installed && !r->exiting &&
		    r->pendpos >= r->npend && r->pastepos >= r->npaste) {
			/* The input ended while nobody was reading it: as Ctrl-D. */
			repl_remove_prompt(r);
			repl_on_line(NULL);
		}
		if (p[0].revents & POLLIN) {
			int st = reap(r);
			if (st >= 0) {
				drain_master(r);
				return st;
			}
		}
	}
}

static void repl_free(struct repl *r)
{
	repl_remove_prompt(r);
	if (r->have_tty) {
		pty_term_restore(&r->outer);
		pty_term_forget(&r->outer);
	}
	history_close(r->ctx, &r->hist);
	if (r->rl_out)
		fclose(r->rl_out);
	free(r->line);
	free(r->paste);
	pty_screen_free(r->screen);
	if (r->pidfd >= 0)
		close(r->pidfd);
	if (r->ctl >= 0)
		close(r->ctl);
	if (r->peek >= 0)
		close(r->peek);
	if (r->notices >= 0)
		close(r->notices);
	pty_close(&r->pty);
	free(r->acc);
}

int shell_interactive(struct shell_ctx *ctx)
{
	struct repl r = { .ctx = ctx, .ctl = -1, .peek = -1, .notices = -1, .pidfd = -1, .pty = { -1, -1, "" },
			  .hist = { .fd = -1 } };
	sigset_t orig;
	int status;
	cookie_io_functions_t io = { .write = tee_write };
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };

	repl_current = &r;
	r.have_tty = isatty(STDIN_FILENO) && pty_term_save(&r.outer, STDIN_FILENO) == 0;
	if (r.have_tty)
		pty_get_winsize(STDIN_FILENO, &ws);
	if (ws.ws_row == 0 || ws.ws_col == 0)
		ws.ws_row = 24, ws.ws_col = 80;
	r.rows = ws.ws_row;
	r.cols = ws.ws_col;
	if (gethostname(r.host, sizeof(r.host) - 1) < 0)
		snprintf(r.host, sizeof(r.host), "localhost");
	snprintf(r.cwd, sizeof(r.cwd), "%s", ctx->workspace);
	if (pty_screen_new(ws.ws_row, ws.ws_col, &r.screen) < 0 ||
	    !(r.rl_out = fopencookie(&r, "w", io))) {
		fputs("agentsh: out of memory\n", stderr);
		return 1;
	}
	setvbuf(r.rl_out, NULL, _IOFBF, 8192);
	ctx->out = r.rl_out;
	install_signals(&orig);
	repl_setup_readline(&r);
	history_open(ctx, &r.hist);     /* without a file, history stays in memory */
	/* Inline approval prompts on this terminal (the broker is created with
	 * the enforcement session, in delegate_start). */
	if (r.have_tty && approve_tty_new(STDOUT_FILENO, &ctx->approve_tty) < 0)
		ctx->approve_tty = NULL;
	int np[2];
	if (pipe2(np, O_CLOEXEC | O_NONBLOCK) == 0) {
		r.notices = np[0];
		ctx->notice_fd = np[1];
	}
	if (delegate_start(&r) < 0) {
		repl_free(&r);
		sigprocmask(SIG_SETMASK, &orig, NULL);
		return 1;
	}
	r.st = REPL_STARTUP;
	repl_outer_raw(&r);                  /* keystrokes typed during start-up are held */
	audit_session_begin(ctx->audit, ctx->acct.uid, "interactive",
			    ctx->policy ? policy_name(ctx->policy) : NULL,
			    ctx->policy ? policy_source(ctx->policy) : NULL);
	status = run_loop(&r, &orig);
	audit_cmd_end(&r, status);
	audit_session_end(ctx->audit, status);
	ctx->out = stdout;
	repl_free(&r);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return status;
}
