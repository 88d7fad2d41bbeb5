/* PTY pairs, window sizes and the outer terminal's modes. */
#include "pty/pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pty_open(struct pty_pair *p, const struct termios *tio, const struct winsize *ws)
{
	int m, s;
	p->master = p->slave = -1;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, p->name, sizeof(p->name)) != 0)
		goto fail;
	s = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	if ((tio && tcsetattr(s, TCSANOW, tio) < 0) || (ws && ioctl(s, TIOCSWINSZ, ws) < 0)) {
		int e = errno;
		close(s);
		close(m);
		return -e;
	}
	p->master = m;
	p->slave = s;
	return 0;
fail:;
	int e = errno;
	close(m);
	return -e;
}

void pty_close(struct pty_pair *p)
{
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	p->slave = p->master = -1;
}

int pty_get_winsize(int fd, struct winsize *ws)
{
	return ioctl(fd, TIOCGWINSZ, ws) < 0 ? -errno : 0;
}

int pty_set_winsize(int fd, const struct winsize *ws)
{
	return ioctl(fd, TIOCSWINSZ, ws) < 0 ? -errno : 0;
}

int pty_copy_winsize(int from, int to)
{
	struct winsize ws;
	int r = pty_get_winsize(from, &ws);
	if (r < 0)
		return r;
	if (ws.ws_row == 0 || ws.ws_col == 0)
		return -EINVAL;
	return pty_set_winsize(to, &ws);
}

int pty_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = fd, .events = POLLOUT };
				poll(&pf, 1, 1000);
				continue;
			}
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int pty_write_some(int fd, char *buf, size_t *n)
{
	ssize_t w = *n ? write(fd, buf, *n) : 0;

	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (w < 0) {
		*n = 0;
		return -errno;
	}
	memmove(buf, buf + w, *n - (size_t)w);
	*n -= (size_t)w;
	return 0;
}

/* ---- outer terminal ---- */

#define MAX_TERMS 4
static struct pty_term *terms[MAX_TERMS];

int pty_term_save(struct pty_term *t, int fd)
{
	t->fd = fd;
	t->raw = false;
	t->valid = false;
	if (tcgetattr(fd, &t->saved) < 0)
		return -errno;
	t->valid = true;
	for (int i = 0; i < MAX_TERMS; i++)
		if (!terms[i] || terms[i] == t) {
			terms[i] = t;
			break;
		}
	return 0;
}

int pty_term_raw(struct pty_term *t)
{
	struct termios r;
	if (!t->valid)
		return -EINVAL;
	r = t->saved;
	cfmakeraw(&r);
	r.c_cc[VMIN] = 1;
	r.c_cc[VTIME] = 0;
	if (tcsetattr(t->fd, TCSADRAIN, &r) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

int pty_term_restore(struct pty_term *t)
{
	if (!t->valid)
		return 0;
	if (tcsetattr(t->fd, TCSADRAIN, &t->saved) < 0)
		return -errno;
	t->raw = false;
	return 0;
}

void pty_term_restore_all(void)
{
	for (int i = 0; i < MAX_TERMS; i++)
		if (terms[i] && terms[i]->valid)
			tcsetattr(terms[i]->fd, TCSANOW, &terms[i]->saved);
}

static void on_crash(int s)
{
	pty_term_restore_all();
	signal(s, SIG_DFL);
	raise(s);
}

void pty_term_restore_on_crash(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		sigaction(crash[i], &sa, NULL);
}

void pty_term_forget(struct pty_term *t)
{
	for (int i = 0; i < MAX_TERMS; i++)
		if (terms[i] == t)
			terms[i] = NULL;
	t->valid = false;
}
