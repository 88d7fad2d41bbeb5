/* The persistent interactive delegate: its start on an inner PTY inside the
 * sandbox, the init snippet that installs the control protocol in it, the
 * authentication of its markers, and the inner terminal modes.
 *
 * Protocol (docs/shell.md has the reasoning):
 *   - fd 63 of the delegate is one end of a SOCK_SEQPACKET pair; agentsh holds
 *     the other with SO_PASSCRED, so every message carries the sender's pid
 *     as the kernel saw it.
 *   - PROMPT_COMMAND (in the delegate itself): "D seq status cwd", wait for
 *     agentsh's ack, then print the OSC sentinel ESC]6973;seq BEL on the tty.
 *     The ack lets agentsh switch the inner tty to "sending" mode and take
 *     any typeahead before bash reads again.
 *   - PS0 (a $(...) subshell, right before a command runs): "S seq", wait for
 *     the ack; agentsh restores a cooked, echoing tty first. */
#include "shell/shell_int.h"
#include "shell/repl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enforce/enforce.h"

#define CTL_FD 63

/* One line; `readonly` so a later assignment fails loudly instead of
 * silently breaking the prompt; `builtin` so a function named printf or read
 * does not (it could not forge anything a builtin typed at the prompt cannot:
 * see docs/shell.md). */
static const char INIT_SNIPPET[] =
	"__agentsh_seq=0; "
	"__agentsh_pc() { local __s=$?; "
	"builtin printf 'D %d %d %s' \"$__agentsh_seq\" \"$__s\" \"$PWD\" >&63; "
	"IFS= builtin read -r __agentsh_ack <&63; "
	"builtin printf '\\033]" MARKER_OSC ";%d\\007' \"$__agentsh_seq\"; "
	"__agentsh_seq=$((__agentsh_seq+1)); return $__s; }; "
	"__agentsh_ps0() { builtin printf 'S %d' \"$__agentsh_seq\" >&63; "
	"IFS= builtin read -r __agentsh_ack <&63; }; "
	"PROMPT_COMMAND=__agentsh_pc; PS0='$(__agentsh_ps0)'; PS1=''; PS2=''; PS4='+ '; "
	"HISTFILE=; readonly PROMPT_COMMAND PS0 PS1 PS2; "
	"readonly -f __agentsh_pc __agentsh_ps0; history -c\n";

/* Fields 26 (startcode) and 28 (startstack) of /proc/PID/stat: randomised
 * at every execve, so a change means the delegate ran another program (even
 * another bash) under the same pid. */
static int read_ident(pid_t pid, struct delegate_ident *id)
{
	char path[64], buf[1024];
	struct stat st;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	/* p+2 is field 3 (state); walk to fields 26 and 28. */
	p += 2;
	for (int f = 3; f < 26 && p; f++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%lu %*u %lu", &id->startcode, &id->startstack) != 2)
		return -EIO;
	return 0;
}

/* The delegate's identity once its exec has finished.  enforce_spawn()
 * returns when the kernel has let go of the old image, which is before the
 * new one's memory map, and its start_code, are in place: read too early,
 * /proc/PID/exe is still agentsh and start_code 0, and every later check
 * would call the delegate "exec'd something" (shell_robust.sh saw it).  Wait
 * until the map is the new program's (bounded: 1 s). */
static int read_loaded_ident(pid_t pid, struct delegate_ident *id)
{
	struct stat self;
	int rc = -EIO;
	if (stat("/proc/self/exe", &self) < 0)
		return -errno;
	for (int i = 0; i < 10000; i++) {
		rc = read_ident(pid, id);
		if (rc < 0 || (id->startcode && (id->dev != self.st_dev || id->ino != self.st_ino)))
			return rc;
		usleep(100);
	}
	return rc;
}

bool delegate_same_program(struct repl *r)
{
	struct delegate_ident now;
	if (read_ident(r->pid, &now) < 0)
		return false;
	return now.dev == r->ident.dev && now.ino == r->ident.ino &&
	       now.startcode == r->ident.startcode && now.startstack == r->ident.startstack;
}

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512];
	int fd;
	ssize_t n;
	int pp = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d", &pp) != 1)
		return -1;
	return pp;
}

/* Sending mode: bytes written to the master reach bash verbatim (no
 * canonical line limit, no signal characters, no CR translation), unechoed. */
void delegate_tty_sending(struct repl *r)
{
	struct termios t;
	if (tcgetattr(r->pty.slave, &t) < 0)
		return;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_iflag &= ~(tcflag_t)(ICRNL | INLCR | IGNCR | IXON);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcsetattr(r->pty.slave, TCSANOW, &t);
}

/* Running mode: what a command expects from a fresh terminal. */
void delegate_tty_running(struct repl *r)
{
	struct termios t;
	if (tcgetattr(r->pty.slave, &t) < 0)
		return;
	t.c_lflag |= ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | ICANON | ISIG | IEXTEN;
	t.c_iflag |= ICRNL | IXON;
	t.c_iflag &= ~(tcflag_t)(INLCR | IGNCR);
	tcsetattr(r->pty.slave, TCSANOW, &t);
}

int delegate_start(struct repl *r)
{
	struct shell_ctx *ctx = r->ctx;
	struct enforce_spawn_req req = {0};
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	int sv[2], one = 1, rc;
	char *argv[6];
	int ac = 0;

	if (!strstr(ctx->delegate_path, "bash")) {
		fprintf(stderr, "agentsh: the interactive shell needs bash as its delegate (it uses "
			"PROMPT_COMMAND and PS0); %s can only run -c, scripts and stdin\n",
			ctx->delegate_path);
		return -ENOTSUP;
	}
	if (r->have_tty)
		pty_get_winsize(STDIN_FILENO, &ws);
	if (ws.ws_row == 0 || ws.ws_col == 0)
		ws.ws_row = 24, ws.ws_col = 80;
	if ((rc = pty_open(&r->pty, NULL, &ws)) < 0) {
		fprintf(stderr, "agentsh: cannot open a pseudo-terminal: %s\n", strerror(-rc));
		return rc;
	}
	/* non-blocking: keys a command does not read must not stop the loop
	 * (writes that must complete go through pty_write_all, which waits) */
	fcntl(r->pty.master, F_SETFL, fcntl(r->pty.master, F_GETFL) | O_NONBLOCK);
	delegate_tty_sending(r);
	/* Its own open file description: O_NONBLOCK here must not reach bash's stdin. */
	r->peek = open(r->pty.name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (r->peek < 0) {
		rc = -errno;
		fprintf(stderr, "agentsh: cannot open %s: %s\n", r->pty.name, strerror(errno));
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		rc = -errno;
		fprintf(stderr, "agentsh: cannot create the delegate control socket: %s\n",
			strerror(errno));
		return rc;
	}
	r->ctl = sv[0];
	fcntl(r->ctl, F_SETFL, O_NONBLOCK);

	argv[ac++] = (char *)ctx->delegate_path;
	argv[ac++] = "--noediting";
	argv[ac++] = "-i";
	if (ctx->opts.login)
		argv[ac++] = "-l";
	argv[ac] = NULL;
	req.argv = argv;
	req.envp = ctx->envp;
	req.stdio[0] = req.stdio[1] = req.stdio[2] = r->pty.slave;
	req.ctty = r->pty.slave;
	req.extra[0].from = sv[1];
	req.extra[0].to = CTL_FD;
	req.nextra = 1;
	if ((rc = shell_session_open(ctx)) < 0) {
		close(sv[1]);
		return rc;
	}
	rc = enforce_spawn(ctx->enf, &req, &r->pid, &r->pidfd);
	close(sv[1]);
	if (rc < 0) {
		const char *why = enforce_strerror(ctx->enf);
		fprintf(stderr, "agentsh: cannot start the delegate shell %s: %s\n",
			ctx->delegate_path, why && *why ? why : strerror(-rc));
		return rc;
	}
	if ((rc = read_loaded_ident(r->pid, &r->ident)) < 0) {
		fprintf(stderr, "agentsh: cannot identify the delegate (pid %d): %s\n", (int)r->pid,
			strerror(-rc));
		return rc;
	}
	return delegate_send(r, INIT_SNIPPET, strlen(INIT_SNIPPET));
}

int delegate_send(struct repl *r, const char *text, size_t n)
{
	return pty_write_all(r->pty.master, text, n);
}

int delegate_ack(struct repl *r)
{
	return send(r->ctl, "\n", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -errno;
}

/* Receive one message; returns 1 with *m filled and *from = sender's pid,
 * 0 when none is pending, -errno on error (EOF: -EPIPE). */
int delegate_recv(struct repl *r, struct marker_msg *m, pid_t *from)
{
	char buf[MARKER_MAX_MSG + 1];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	ssize_t n = recvmsg(r->ctl, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -EPIPE;
	*from = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*from = uc.pid;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			/* Nobody is meant to send fds: close them. */
			int nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (int i = 0; i < nfd; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || *from <= 0 ||
	    marker_parse(buf, (size_t)n, m) < 0) {
		m->kind = '?';
		return 1;
	}
	return 1;
}

/* A D marker is believed only from the delegate's own pid, while the
 * delegate is still the program that was started. */
bool delegate_authentic_done(struct repl *r, const struct marker_msg *m, pid_t from)
{
	return m->kind == 'D' && from == r->pid && delegate_same_program(r);
}

/* S comes from PS0's $(...) subshell: a child of the delegate.  It only
 * switches the inner tty to running mode, which is not a secret. */
bool delegate_plausible_start(struct repl *r, const struct marker_msg *m, pid_t from)
{
	return m->kind == 'S' && (from == r->pid || ppid_of(from) == r->pid);
}
