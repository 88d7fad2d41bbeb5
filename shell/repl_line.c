/* The line editor side of the interactive shell: prompt, readline (fed from
 * agentsh's own typeahead buffer), keys, and handing complete commands to the
 * delegate.  The event loop is in interactive.c. */
#include "shell/shell_int.h"
#include "shell/prompt_int.h"
#include "shell/repl_int.h"
#include "shell/syntax_int.h"
#include "enforce/enforce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "completions/completions.h"
#include "policy/policy.h"

/* ------------------------------------------------------------ prompt */

static const char *comp_cwd(void *arg)
{
	struct repl *r = arg;
	return r->cwd[0] ? r->cwd : NULL;
}

static const char *comp_path(void *arg)
{
	struct repl *r = arg;
	return shell_env_get(r->ctx, "PATH");
}

static void setup_completion(struct repl *r)
{
	static const char *names[64];
	size_t n = 0;
	for (size_t i = 0; i < shell_ncommands && n < 63; i++)
		if (shell_commands[i].kind & SHELL_CMD_BUILTIN)
			names[n++] = shell_commands[i].name;
	names[n] = NULL;
	struct completions_ctx c = { .builtins = names, .get_cwd = comp_cwd,
				     .get_path = comp_path, .arg = r };
	completions_install_readline(&c);
}

static bool want_color(const struct repl *r)
{
	const char *t = shell_env_get(r->ctx, "TERM");
	return !shell_env_get(r->ctx, "NO_COLOR") && !(t && !strcmp(t, "dumb")) && r->have_tty;
}


/* readline reads typeahead first, then the terminal. */
static int repl_getc(FILE *f)
{
	struct repl *r = repl_current;
	if (r && r->pendpos < r->npend)
		return (unsigned char)r->pend[r->pendpos++];
	if (r && r->pastepos < r->npaste)
		return (unsigned char)r->paste[r->pastepos++];
	return rl_getc(f);
}

/* A pasted block arrives as one readline line with newlines in it.  Only its
 * first line is handled now; the rest is read again, line by line, at the
 * next prompts — exactly as if typed there, so every command gets its own
 * start/finish markers, history entry and built-in check, and no line can be
 * swallowed by the command before it. */
static void defer_rest(struct repl *r, char *line)
{
	char *nl = strchr(line, '\n');
	if (!nl)
		return;
	size_t rest = strlen(nl + 1), unread = r->npaste - r->pastepos;
	char *p = malloc(rest + 1 + unread);
	*nl = 0;
	if (!p)
		return;
	memcpy(p, nl + 1, rest);
	p[rest] = '\n';
	if (unread)
		memcpy(p + rest + 1, r->paste + r->pastepos, unread);
	free(r->paste);
	r->paste = p;
	r->npaste = rest + 1 + unread;
	r->pastepos = 0;
}

void repl_feed_pending(struct repl *r)
{
	while (r->st == REPL_PROMPT && r->rl_installed &&
	       (r->pendpos < r->npend || r->pastepos < r->npaste)) {
		struct fsid_save fs;
		fsid_enter(r->ctx, &fs);
		rl_callback_read_char();
		fsid_leave(&fs);
	}
}

static void render_prompt(struct repl *r, char *p, size_t len)
{
	struct prompt_info pi = {
		.user = r->ctx->acct.name, .host = r->host, .home = r->ctx->acct.home,
		.cwd = r->cwd, .status = r->status, .root = r->ctx->acct.uid == 0,
	};
	const char *tmpl = r->ctx->cfg && r->ctx->cfg->session.prompt ? r->ctx->cfg->session.prompt
								      : PROMPT_DEFAULT;
	if (r->acc)
		snprintf(p, len, "> ");
	else
		prompt_render(tmpl, &pi, want_color(r), p, len);
}

/* Installed setuid, the terminal database is read by root's process:
 * TERMINFO, TERMINFO_DIRS, TERMCAP and ~/.terminfo would have it parse a
 * file the caller wrote (terminfo parsers have had memory-safety bugs
 * exploited exactly so from setuid programs, CVE-2023-29491).  Before
 * readline's first use loads the terminal, the variables leave agentsh's
 * own environment (the delegate has its own copy) and HOME points at "/"
 * until it is loaded; INPUTRC then names the account's inputrc, which is
 * still read with the account's file-system ids.  Returns the HOME to put
 * back (malloc'd), or NULL. */
static char *terminal_db_system_only(const struct repl *r)
{
	static const char *const vars[] = { "TERMINFO", "TERMINFO_DIRS", "TERMCAP" };
	static bool loaded;             /* readline loads the terminal once */

	if (shell_priv.mode != ENFORCE_PRIV_SETUID || loaded)
		return NULL;
	loaded = true;
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	const char *home = getenv("HOME");
	char *saved = strdup(home ? home : "");
	if (!saved)
		return NULL;
	if (!getenv("INPUTRC") && r->ctx->acct.home) {
		char rc[4096];
		snprintf(rc, sizeof rc, "%s/.inputrc", r->ctx->acct.home);
		setenv("INPUTRC", rc, 1);
	}
	setenv("HOME", "/", 1);
	return saved;
}

void repl_install_prompt(struct repl *r)
{
	char p[2048];
	render_prompt(r, p, sizeof(p));
	struct fsid_save fs;
	char *home = terminal_db_system_only(r);
	fsid_enter(r->ctx, &fs);        /* readline reads ~/.inputrc on first use */
	rl_callback_handler_install(p, repl_on_line);
	fsid_leave(&fs);
	if (home) {
		if (*home)
			setenv("HOME", home, 1);
		else
			unsetenv("HOME");
		free(home);
	}
	r->rl_installed = true;
}

/* At the prompt the outer terminal generates no signals: agentsh may share
 * its process group with whoever started it (make run, sh -c), which must
 * not get SIGINT/SIGTSTP for keys meant for the line editor. */
static void prep_terminal(int meta)
{
	struct termios t;
	rl_prep_terminal(meta);
	if (tcgetattr(STDIN_FILENO, &t) == 0) {
		t.c_lflag &= ~(tcflag_t)ISIG;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
}

/* Ctrl-C at the prompt: drop the line (and any PS2 continuation), status 130. */
static int key_cancel(int count, int key)
{
	struct repl *r = repl_current;
	char p[2048];
	(void)count;
	(void)key;
	free(r->acc);
	r->acc = NULL;
	rl_replace_line("", 0);
	rl_point = rl_end = 0;
	fputs("^C", r->rl_out);
	rl_crlf();
	r->status = 130;
	render_prompt(r, p, sizeof(p));
	rl_set_prompt(p);
	rl_on_new_line();
	return 0;
}

static int key_ignore(int count, int key)
{
	(void)count;
	(void)key;
	return 0;
}

void repl_remove_prompt(struct repl *r)
{
	if (!r->rl_installed)
		return;
	rl_callback_handler_remove();
	r->rl_installed = false;
}

void repl_outer_raw(struct repl *r)
{
	if (r->have_tty && !r->outer.raw)
		pty_term_raw(&r->outer);
}

void repl_outer_cooked(struct repl *r)
{
	if (r->have_tty && r->outer.raw)
		pty_term_restore(&r->outer);
}

/* The command finished (D + sentinel): back to readline. */
void repl_enter_prompt(struct repl *r)
{
	r->expect_seq++;
	r->got_done = false;
	r->st = REPL_PROMPT;
	repl_outer_cooked(r);
	repl_install_prompt(r);
	/* Typeahead (taken from the inner tty, or held by us) goes to readline. */
	memcpy(r->pend, r->held, r->nheld);
	r->npend = r->nheld;
	r->pendpos = 0;
	r->nheld = 0;
	if (r->exiting) {
		/* bash refused to exit (stopped jobs): it said so; ask again next time. */
		r->exiting = false;
	}
}

/* ------------------------------------------------------------ sending */

static void send_command(struct repl *r, const char *text)
{
	size_t n = strlen(text);
	repl_flush_partial(r);
	char *buf = malloc(n + 2);
	if (!buf)
		return;
	memcpy(buf, text, n);
	buf[n] = '\n';
	repl_remove_prompt(r);
	repl_outer_raw(r);
	r->st = REPL_WAIT_START;
	free(r->line);
	r->line = strdup(text);
	/* Typeahead readline has not consumed yet belongs to the command. */
	if (r->pendpos < r->npend) {
		memcpy(r->held, r->pend + r->pendpos, r->npend - r->pendpos);
		r->nheld = r->npend - r->pendpos;
	}
	r->npend = r->pendpos = 0;
	if (delegate_send(r, buf, n + 1) < 0)
		fputs("agentsh: cannot write to the delegate shell\r\n", stderr);
	free(buf);
}

static void reprompt(struct repl *r)
{
	repl_remove_prompt(r);
	repl_install_prompt(r);
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

static void run_builtin(struct repl *r, const char *text)
{
	struct shell_ctx *ctx = r->ctx;
	repl_remove_prompt(r);
	history_add(ctx, &r->hist, text);
	ctx->exit_requested = false;
	int st = shell_run_builtin_line(ctx, text);
	fflush(ctx->out);
	if (ctx->exit_requested) {
		ctx->exit_requested = false;
		r->exiting = true;
		send_command(r, text);          /* `exit N`/`logout N`: bash decides */
		return;
	}
	r->status = st;
	repl_install_prompt(r);
}

void repl_on_line(char *line)
{
	struct repl *r = repl_current;
	char *text;

	if (!line) {                            /* Ctrl-D on an empty line, or EOF */
		if (r->acc) {
			free(r->acc);
			r->acc = NULL;
			fputs("\n", r->rl_out);
			reprompt(r);
			return;
		}
		/* bash's exit builtin prints "exit" (or "logout") itself */
		fflush(r->rl_out);
		r->exiting = true;
		send_command(r, "exit");
		return;
	}
	defer_rest(r, line);
	if (r->acc) {
		size_t n = strlen(r->acc) + strlen(line) + 2;
		text = malloc(n);
		if (text)
			snprintf(text, n, "%s\n%s", r->acc, line);
		free(r->acc);
		r->acc = NULL;
		free(line);
	} else {
		text = line;
	}
	if (!text)
		return;
	if (blank(text)) {
		free(text);
		reprompt(r);
		return;
	}
	if (!strchr(text, '\n')) {
		/* The first word names an agentsh built-in: agentsh runs it. */
		char first[64];
		if (sscanf(text, " %63[^ \t;|&<>()]", first) == 1 && shell_is_builtin(first)) {
			run_builtin(r, text);
			free(text);
			return;
		}
	}
	if (syntax_incomplete(r->ctx->delegate_path, text, r->ctx->acct.uid,
			      r->ctx->acct.gid) == 1) {
		r->acc = text;
		reprompt(r);
		return;
	}
	history_add(r->ctx, &r->hist, text);
	send_command(r, text);
	free(text);
}


void repl_setup_readline(struct repl *r)
{
	rl_readline_name = "agentsh";
	rl_instream = stdin;
	rl_outstream = r->rl_out;
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_getc_function = repl_getc;
	rl_prep_term_function = prep_terminal;
	rl_bind_key('\003', key_cancel);       /* Ctrl-C */
	rl_bind_key('\032', key_ignore);       /* Ctrl-Z: nothing to stop at the prompt */
	rl_bind_key('\034', key_ignore);       /* Ctrl-\ */
	setup_completion(r);
}
