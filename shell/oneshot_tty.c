/* oneshot_tty.c — -c, a script or stdin run with a terminal attached.
 *
 * Handed the caller's terminal, the command could write to it anything a
 * terminal obeys (set the clipboard the human pastes elsewhere, ask for the
 * clipboard back as input, redefine keys) and could leave its modes changed
 * after agentsh exits.  So when any of the three stdio descriptors is a
 * terminal, the command gets a pty of its own in their place, with the
 * terminal's modes and size, and agentsh relays: keys from the terminal to the
 * pty, the pty's output through the output filter (pty_outfilter) to the
 * terminal.  Descriptors that are not terminals (a pipe, a file) are passed as
 * they are, so `agentsh -c cmd > out.txt` still writes out.txt directly. */
#include "shell/tty_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* Keys are relayed when agentsh is the terminal's foreground job, or when the
 * terminal is not its controlling terminal at all (a harness that hands over
 * a pty without making it one): then no job-control signal applies.  A
 * background job (`agentsh -c cmd &`) must not read the terminal or change
 * its modes: the kernel would stop it with SIGTTIN/SIGTTOU. */
static bool may_take_keys(int fd)
{
	pid_t fg = tcgetpgrp(fd);

	return fg == getpgrp() || (fg < 0 && errno == ENOTTY);
}

int shell_tty_open(struct shell_tty *t, const int stdio[3], int child[3])
{
	int tty;
	struct termios tio;
	struct winsize ws;

	memset(t, 0, sizeof(*t));
	t->pty.master = t->pty.slave = t->in = t->out = -1;
	for (int i = 0; i < 3; i++)
		child[i] = stdio[i];
	/* where the pty's output goes: stdout's terminal, else stderr's, else
	 * stdin's (a terminal is usually opened read-write) */
	tty = isatty(stdio[1]) ? stdio[1] : isatty(stdio[2]) ? stdio[2] : isatty(stdio[0]) ? stdio[0] : -1;
	if (tty < 0)
		return 0;
	int r = pty_open(&t->pty, tcgetattr(tty, &tio) == 0 ? &tio : NULL,
			 pty_get_winsize(tty, &ws) == 0 ? &ws : NULL);
	if (r < 0)
		return r;
	/* non-blocking: a write of keys the command does not read must not
	 * stop the relay of its output */
	fcntl(t->pty.master, F_SETFL, fcntl(t->pty.master, F_GETFL) | O_NONBLOCK);
	t->on = true;
	t->out = tty;
	for (int i = 0; i < 3; i++)
		if (isatty(stdio[i]))
			child[i] = t->pty.slave;
	if (isatty(stdio[0]) && may_take_keys(stdio[0]) && pty_term_save(&t->outer, stdio[0]) == 0) {
		pty_term_restore_on_crash();
		if (pty_term_raw(&t->outer) == 0)       /* keys go to the pty's own line discipline */
			t->in = stdio[0];
	}
	return 0;
}

void shell_tty_spawned(struct shell_tty *t)
{
	if (t->on && t->pty.slave >= 0) {
		close(t->pty.slave);            /* the command holds it; EIO on the master when it is gone */
		t->pty.slave = -1;
	}
}

int shell_tty_pollfds(const struct shell_tty *t, struct pollfd p[2])
{
	if (!t->on)
		return 0;
	p[0] = (struct pollfd){ .fd = t->pty_gone ? -1 : t->pty.master,
				.events = POLLIN | (t->nkeys ? POLLOUT : 0) };
	p[1] = (struct pollfd){ .fd = t->nkeys ? -1 : t->in, .events = POLLIN };  /* -1: ignored */
	return 2;
}

/* The pty's output, filtered, to the terminal.  False when the pty is gone. */
static bool relay_output(struct shell_tty *t)
{
	char in[4096], out[sizeof(in) + PTY_OUTFILTER_SLACK];
	ssize_t n = read(t->pty.master, in, sizeof(in));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	size_t m = pty_outfilter(&t->outf, in, (size_t)n, out);
	if (m)
		(void)pty_write_all(t->out, out, m);    /* a terminal gone away: keep reading, drop it */
	return true;
}

void shell_tty_service(struct shell_tty *t, struct pollfd p[2])
{
	if (!t->on)
		return;
	if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) && !relay_output(t))
		t->pty_gone = true;
	if (t->nkeys && !t->pty_gone && (p[0].revents & POLLOUT))
		pty_write_some(t->pty.master, t->keys, &t->nkeys);
	if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t n = read(t->in, t->keys, sizeof(t->keys));
		if (n > 0) {
			t->nkeys = (size_t)n;
			if (!t->pty_gone)
				pty_write_some(t->pty.master, t->keys, &t->nkeys);
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			t->in = -1;
		}
	}
}

void shell_tty_drain(struct shell_tty *t)
{
	while (t->on && !t->pty_gone) {
		struct pollfd p = { .fd = t->pty.master, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0 || !relay_output(t))
			break;
	}
}

void shell_tty_winch(struct shell_tty *t)
{
	if (t->on)
		pty_copy_winsize(t->out, t->pty.master);
}

void shell_tty_close(struct shell_tty *t)
{
	if (!t->on)
		return;
	if (t->outer.valid) {
		pty_term_restore(&t->outer);
		pty_term_forget(&t->outer);
	}
	pty_close(&t->pty);
	t->on = false;
}
