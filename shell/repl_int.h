/* shell/ private: the interactive loop's state, shared by interactive.c
 * (the loop, readline) and delegate.c (the delegate and its protocol). */
#ifndef AGENTSH_SHELL_REPL_INT_H
#define AGENTSH_SHELL_REPL_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "pty/pty.h"
#include "shell/history_int.h"
#include "shell/marker_int.h"

struct shell_ctx;

enum repl_state {
	REPL_STARTUP,   /* discarding startup output until the first marker */
	REPL_PROMPT,    /* readline owns the outer terminal */
	REPL_WAIT_START,/* a command was sent; waiting for PS0's S */
	REPL_RUNNING,   /* relaying raw until D and the sentinel */
	REPL_UNTRUSTED, /* the delegate exec'd something else: relay until it exits */
};

struct delegate_ident {
	dev_t dev;
	ino_t ino;
	unsigned long startcode, startstack;
};

struct repl {
	struct shell_ctx *ctx;
	enum repl_state st;
	struct pty_pair pty;
	struct pty_term outer;
	bool have_tty;
	struct pty_screen *screen;
	struct pty_outfilter outf;      /* the sandbox's output on its way to the terminal */
	FILE *rl_out;                   /* readline's output: tty + screen model */
	int notices;                    /* read end of ctx->notice_fd */
	int peek;                       /* private O_NONBLOCK open of the slave (typeahead) */
	int ctl;                        /* our end of the control socket */
	pid_t pid;
	int pidfd;
	struct delegate_ident ident;
	long expect_seq;                /* seq of the next D */
	bool got_done;                  /* D(expect_seq) accepted; waiting for the sentinel */
	struct sentinel_scan scan;
	char cwd[4097];
	int status;
	char *acc;                      /* lines of an incomplete command */
	bool rl_installed;
	char held[8192];                /* keystrokes held while no one should get them */
	size_t nheld;
	/* keys for the running command that its pty has not taken yet: while any
	 * wait, the terminal is not read, so a command that reads nothing cannot
	 * wedge the loop (the master is non-blocking) */
	char keys[4096];
	size_t nkeys;
	char pend[8192];                /* typeahead readline consumes before stdin */
	size_t npend, pendpos;
	char *paste;                    /* lines of a pasted block not handled yet */
	size_t npaste, pastepos;
	bool in_eof;                    /* the outer input hit EOF */
	struct history_file hist;
	bool exiting;                   /* exit was sent to the delegate */
	char host[256];
	int rows, cols;                 /* outer terminal size */
	char notes[4096];               /* notices held while a full-screen program runs */
	size_t nnotes;
	char partial[4096];             /* an unfinished line printed in the background at the prompt */
	size_t npartial;
	char *line;                     /* the command last sent (for the audit trail) */
	long long cmd_id;               /* its audit command id; 0: none open */
	struct timespec cmd_t0;
};

/* interactive.c: the event loop */
extern struct repl *repl_current;       /* for readline's callbacks */
void repl_flush_partial(struct repl *r);

/* repl_line.c: prompt, readline, sending lines */
void repl_setup_readline(struct repl *r);
void repl_install_prompt(struct repl *r);
void repl_remove_prompt(struct repl *r);
void repl_outer_raw(struct repl *r);
void repl_outer_cooked(struct repl *r);
void repl_enter_prompt(struct repl *r);         /* D + sentinel seen: back to readline */
void repl_feed_pending(struct repl *r);         /* typeahead into readline */
void repl_on_line(char *line);                  /* readline's line handler; NULL = EOF */

/* delegate.c: the delegate and its protocol */
int delegate_start(struct repl *r);
int delegate_send(struct repl *r, const char *text, size_t n);
int delegate_ack(struct repl *r);
int delegate_recv(struct repl *r, struct marker_msg *m, pid_t *from);
bool delegate_authentic_done(struct repl *r, const struct marker_msg *m, pid_t from);
bool delegate_plausible_start(struct repl *r, const struct marker_msg *m, pid_t from);
bool delegate_same_program(struct repl *r);
void delegate_tty_sending(struct repl *r);
void delegate_tty_running(struct repl *r);

#endif
