/* A plain two-way byte relay between the outer terminal and a PTY master. */
#include "pty/pty.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* Read what the master still holds after the child went away. */
static void drain(const struct pty_relay *r, char *buf, size_t len)
{
	for (;;) {
		struct pollfd p = { .fd = r->master, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
			return;
		ssize_t n = read(r->master, buf, len);
		if (n <= 0)
			return;
		if (r->on_output)
			r->on_output(r->ctx, buf, (size_t)n);
		if (pty_write_all(r->out, buf, (size_t)n) < 0)
			return;
	}
}

int pty_relay_run(const struct pty_relay *r)
{
	char buf[16384];
	bool in_open = r->in >= 0;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = r->master, .events = POLLIN },
			{ .fd = in_open ? r->in : -1, .events = POLLIN },
			{ .fd = r->stop_fd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				return -EINTR;  /* the caller handles signals, then calls again */
			return -errno;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(r->master, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
				return 0;       /* EIO: the slave side is gone */
			if (n > 0) {
				if (r->on_output)
					r->on_output(r->ctx, buf, (size_t)n);
				if (pty_write_all(r->out, buf, (size_t)n) < 0)
					return -EPIPE;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(r->in, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				in_open = false;
			else if (n > 0 && pty_write_all(r->master, buf, (size_t)n) < 0)
				return -EPIPE;
		}
		if (p[2].revents) {
			drain(r, buf, sizeof(buf));
			return 0;
		}
	}
}
