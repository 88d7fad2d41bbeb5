/* shell/ private: a one-shot command's own pty when a terminal is attached
 * (oneshot_tty.c). */
#ifndef AGENTSH_SHELL_TTY_INT_H
#define AGENTSH_SHELL_TTY_INT_H

#include <poll.h>
#include <stdbool.h>

#include "pty/pty.h"

struct shell_tty {
	bool on;                        /* a pty stands in for the terminal */
	bool pty_gone;
	struct pty_pair pty;
	struct pty_term outer;          /* saved and raw when stdin is the terminal */
	struct pty_outfilter outf;
	int in;                         /* the terminal's keys, or -1 */
	int out;                        /* the terminal the pty's output goes to */
	/* keys read but not yet taken by the pty: while any wait, no more are
	 * read, so a command that reads nothing cannot wedge the relay */
	char keys[4096];
	size_t nkeys;
};

/* child[] gets stdio[] with every terminal replaced by the pty's slave; t->on
 * says whether there was one.  0 or -errno (the pty could not be made). */
int shell_tty_open(struct shell_tty *t, const int stdio[3], int child[3]);
/* After the spawn: the parent's copy of the slave is closed. */
void shell_tty_spawned(struct shell_tty *t);
/* Up to two pollfds for the relay (an fd of -1 is ignored by poll); returns
 * how many were filled (0 without a pty). */
int shell_tty_pollfds(const struct shell_tty *t, struct pollfd p[2]);
/* Relay what p reports ready. */
void shell_tty_service(struct shell_tty *t, struct pollfd p[2]);
/* What the pty still holds once the command is gone. */
void shell_tty_drain(struct shell_tty *t);
/* The terminal's new size to the pty (SIGWINCH). */
void shell_tty_winch(struct shell_tty *t);
/* Restore the terminal's modes; close the pty. */
void shell_tty_close(struct shell_tty *t);

#endif
