/* notify_sock.c — connect/bind/sendto/sendmsg/sendmmsg.
 *
 * Unix sockets (path or abstract name) → unix_socket_rules.  The address is
 * in the target's memory, so an allowed operation is performed here, on the
 * target's own socket (pidfd_getfd), with the address we checked: a path is
 * resolved by the same walk as files and reached through /proc/self/fd/N of
 * the resolved socket inode, so swapping the string or the path afterwards
 * changes nothing.  It runs with the account's euid/egid/groups, so
 * SO_PEERCRED/SCM_CREDENTIALS show the account's uid and gid; a datagram
 * also carries the target's pid (nc_send_unix), a connection the
 * supervisor's (a known difference, see docs).
 *
 * IPv4/IPv6 → network_rules.  When the BPF cgroup hooks carry network_rules
 * (cfg.bpf_net) the kernel decides on its own copy of the address, so
 * CONTINUE is sound; otherwise the connect/sendto is emulated like the unix
 * ones after the decision.  Other families are not policed here (the seccomp
 * filter refuses the dangerous ones at socket()). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

#define MAX_DGRAM (256 * 1024)
#define MAX_IOV 64

bool nh_is_sock(int nr)
{
	return nr == __NR_connect || nr == __NR_bind || nr == __NR_sendto || nr == __NR_sendmsg ||
	       nr == __NR_sendmmsg;
}

enum sop { S_CONNECT, S_BIND, S_SENDTO };

struct splan {
	enum sop op;
	int sock;                       /* our dup of the target's socket */
	struct sockaddr_storage addr;   /* what we checked (unix: rewritten below) */
	socklen_t alen;
	int objfd;                      /* unix path connect/sendto: O_PATH of the socket inode */
	int dirfd;                      /* unix path bind: parent directory */
	char name[NAME_MAX + 2];        /* unix path bind: last component */
	void *data;                     /* sendto payload */
	size_t dlen;
	int flags;
	bool is_unix;
	bool wait_later;                /* blocking send tried with MSG_DONTWAIT first */
};

/* The pid a receiver sees for an emulated send: the target's process.  If
 * /proc cannot say (the target is dying), its thread id still names it. */
static pid_t target_tgid(struct nreq *r)
{
	if (!r->tgid && nc_tgid(r->pid, &r->tgid, NULL) < 0)
		return r->pid;
	return r->tgid;
}

static void splan_free(struct splan *p)
{
	if (p->sock >= 0)
		close(p->sock);
	if (p->objfd >= 0)
		close(p->objfd);
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p->data);
	p->sock = p->objfd = p->dirfd = -1;
	p->data = NULL;
}

static int addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(buf, len, "family %d", sa->sa_family);
	}
	return 0;
}

/* An abstract unix name in p: its bytes after the leading NUL, or NULL. */
static const char *abstract_name(const struct splan *p, size_t *len)
{
	const struct sockaddr_un *un = (const void *)&p->addr;
	size_t off = offsetof(struct sockaddr_un, sun_path);

	if (!p->is_unix || un->sun_family != AF_UNIX || p->alen <= off + 1 || un->sun_path[0])
		return NULL;
	*len = p->alen - off - 1;
	return un->sun_path + 1;
}

/* Perform with the account's identity; returns >= 0 or -errno. */
static long perform(struct nreq *r, struct splan *p)
{
	struct ncreds_saved sv;
	struct sockaddr_un un;
	const struct sockaddr *sa = (const void *)&p->addr;
	socklen_t alen = p->alen;
	long rc;
	int cwd = -1;

	if (p->is_unix && p->objfd >= 0) {
		/* reach exactly the inode we checked */
		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		snprintf(un.sun_path, sizeof un.sun_path, "/proc/self/fd/%d", p->objfd);
		sa = (const void *)&un;
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
	} else if (p->is_unix && p->dirfd >= 0) {
		/* bind creates the name in the directory we checked: our thread has
		 * its own cwd (CLONE_FS), so chdir there and bind the last name. */
		size_t nl = strcspn(p->name, "/");
		if (nl >= sizeof un.sun_path)
			return -ENAMETOOLONG;
		memset(&un, 0, sizeof un);
		un.sun_family = AF_UNIX;
		memcpy(un.sun_path, p->name, nl);
		sa = (const void *)&un;
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un.sun_path) + 1);
		cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (cwd < 0 || fchdir(p->dirfd) < 0) {
			rc = -errno;
			if (cwd >= 0)
				close(cwd);
			return rc;
		}
		mode_t m;
		if (nc_umask(r->pid, &m) == 0)
			umask(m);
	}
	if ((rc = nc_enter_net(r->n, &sv)) < 0)
		goto out;
	switch (p->op) {
	case S_CONNECT:
		rc = connect(p->sock, sa, alen) < 0 ? -errno : 0;
		break;
	case S_BIND:
		rc = bind(p->sock, sa, alen) < 0 ? -errno : 0;
		/* a socket file the session made: its deletion needs no trash */
		if (rc == 0 && p->is_unix && p->dirfd >= 0)
			made_record(r->n, p->dirfd, un.sun_path);
		/* an abstract name the session serves: not an outside server */
		size_t al;
		if (rc == 0 && abstract_name(p, &al))
			ns_abstract_bound(r->n, p->sock);
		break;
	case S_SENDTO:
		if (p->is_unix) {
			rc = nc_send_unix(r->n, &sv, target_tgid(r), p->sock, p->data, p->dlen,
					  p->flags | MSG_NOSIGNAL, sa, alen);
			break;
		}
		rc = sendto(p->sock, p->data, p->dlen, p->flags | MSG_NOSIGNAL, sa, alen);
		if (rc < 0)
			rc = -errno;
		break;
	}
	nc_leave_net(r->n, &sv);
out:
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			rc = rc < 0 ? rc : -EIO;
		close(cwd);
	}
	return rc;
}

static bool defer_send(struct nreq *r, struct splan *p, const struct ndecision *d);

/* A server of the account's own outside the session: refused (errno), or 0. */
static int own_server(struct nreq *r, struct splan *p, const struct ndecision *d)
{
	const char *name;
	size_t len;

	if (!p->is_unix || p->op == S_BIND)
		return 0;
	if (p->objfd >= 0)
		return ns_own_server_refusal(r, p->objfd, d);
	if ((name = abstract_name(p, &len)))
		return ns_own_abstract_refusal(r, name, len, d);
	return 0;
}

static void finish(struct nreq *r, struct splan *p, const struct ndecision *d)
{
	int refused = own_server(r, p, d);

	if (refused) {
		nr_error(r, refused);
		return;
	}
	long rc = perform(r, p);

	if (rc == -EAGAIN && p->wait_later && defer_send(r, p, d))
		return;
	nd_report(r, d, true, rc < 0 ? (int)-rc : 0, NULL);
	if (rc < 0)
		nr_error(r, (int)-rc);
	else
		nr_value(r, rc);
}

static void finish_deferred(struct nreq *r, void *arg)
{
	struct { struct splan p; struct ndecision d; } *x = arg;

	/* an approved operation was reported when the human answered */
	if (x->d.res.decision == POLICY_APPROVE)
		x->d.res.decision = POLICY_ALLOW;
	finish(r, &x->p, &x->d);
	splan_free(&x->p);
	free(x);
}

static void discard_box(void *arg)
{
	struct { struct splan p; struct ndecision d; } *x = arg;

	splan_free(&x->p);
	free(x);
}

static void *boxed(const struct splan *p, const struct ndecision *d)
{
	struct { struct splan p; struct ndecision d; } *x = malloc(sizeof *x);

	if (x) {
		x->p = *p;
		x->d = *d;
	}
	return x;
}

/* A send on a blocking socket that would wait (a datagram receiver's queue
 * is full) must not wait in the receive loop: every notified syscall of the
 * session would stall until that receiver reads, and a session could freeze
 * itself and the human's shell.  It waits in a worker instead, which owns
 * the plan from here on.  true: deferred (p is emptied). */
static bool defer_send_to(struct nreq *r, struct splan *p, const struct ndecision *d,
			  void (*fn)(struct nreq *r, void *arg))
{
	void *box;

	p->wait_later = false;
	p->flags &= ~MSG_DONTWAIT;
	if (!(box = boxed(p, d)))
		return false;
	p->sock = p->objfd = p->dirfd = -1;
	p->data = NULL;
	notify_defer(r, fn, box);
	return true;
}

static bool defer_send(struct nreq *r, struct splan *p, const struct ndecision *d)
{
	return defer_send_to(r, p, d, finish_deferred);
}

/* Should a send on p's socket be tried without waiting first? */
static void try_without_waiting(struct splan *p)
{
	int fl = fcntl(p->sock, F_GETFL);

	if (fl >= 0 && !(fl & O_NONBLOCK) && !(p->flags & MSG_DONTWAIT)) {
		p->flags |= MSG_DONTWAIT;
		p->wait_later = true;
	}
}

static void act(struct nreq *r, struct splan *p, struct ndecision *d)
{
	void *box;

	switch (d->res.decision) {
	case POLICY_ALLOW:
	case POLICY_AUDIT:
		break;
	case POLICY_APPROVE:
		if (!(box = boxed(p, d))) {
			nr_error(r, ENOMEM);
			splan_free(p);
			return;
		}
		if (nd_approve(r, d, EACCES, finish_deferred, box, discard_box) < 0 || !r->n->cfg.approvals) {
			splan_free(p);
			free(box);
		}
		return;
	default:
		nd_report(r, d, false, EACCES, d->res.decision == POLICY_REDIRECT
					     ? "socket redirects are not supported here; refused" : NULL);
		nr_error(r, EACCES);
		splan_free(p);
		return;
	}
	/* A blocking connect can take long: never stall the receive loop. */
	int fl = fcntl(p->sock, F_GETFL);
	if (p->op == S_CONNECT && fl >= 0 && !(fl & O_NONBLOCK) && (box = boxed(p, d))) {
		notify_defer(r, finish_deferred, box);
		return;
	}
	if (p->op == S_SENDTO)
		try_without_waiting(p);
	finish(r, p, d);
	splan_free(p);
}

/* Decide on a checked address and act.  p->sock is taken lazily. */
static void handle_addr(struct nreq *r, struct splan *p, int tfd)
{
	struct sockaddr *sa = (void *)&p->addr;
	struct ndecision d;
	int rc;

	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		char t[96];
		addr_text(sa, t, sizeof t);
		r->opname = p->op == S_CONNECT ? "connect" : p->op == S_BIND ? "bind" : "sendto";
		snprintf(r->target, sizeof r->target, "%s", t);
		if (p->op == S_BIND || r->n->cfg.bpf_net) {
			/* bind: no address policy; connect/send: the BPF hook
			 * decides on the kernel's own copy of the address. */
			splan_free(p);
			nr_continue(r);
			return;
		}
		nd_net(r, sa, &d);
	} else if (sa->sa_family == AF_UNIX) {
		struct sockaddr_un *un = (void *)&p->addr;
		size_t plen = p->alen > offsetof(struct sockaddr_un, sun_path)
				      ? p->alen - offsetof(struct sockaddr_un, sun_path) : 0;
		enum policy_unix_op uop = p->op == S_CONNECT ? POLICY_UNIX_CONNECT
					  : p->op == S_BIND ? POLICY_UNIX_BIND : POLICY_UNIX_SENDTO;
		r->opname = p->op == S_CONNECT ? "unix-connect" : p->op == S_BIND ? "unix-bind"
										    : "unix-sendto";
		p->is_unix = true;
		/* The target chose the length (up to our buffer's 128 bytes); the
		 * kernel refuses anything past a sockaddr_un, and so do we, before
		 * the name is copied into sun_path-sized buffers. */
		if (p->alen > sizeof(struct sockaddr_un)) {
			splan_free(p);
			nr_error(r, EINVAL);
			return;
		}
		if (plen == 0) {
			/* unnamed (autobind): no name to police */
			splan_free(p);
			nr_continue(r);
			return;
		}
		if (un->sun_path[0] == 0) {
			char name[sizeof un->sun_path + 1];
			memcpy(name, un->sun_path + 1, plen - 1);
			name[plen - 1] = 0;
			snprintf(r->target, sizeof r->target, "@%s", name);
			/* The kernel names the socket by all plen bytes; the rules
			 * see the text before the first NUL.  Trailing NULs (a
			 * sizeof-long address) change nothing a rule could tell;
			 * text after a NUL would reach a socket the rules never
			 * saw named. */
			size_t tl = strlen(name);
			while (tl < plen - 1 && !name[tl])
				tl++;
			if (tl < plen - 1) {
				splan_free(p);
				nd_report_plain(r, "abstract-name-nul", EACCES,
						"an abstract socket name with text after a NUL byte "
						"cannot be matched against the rules; refused");
				nr_error(r, EACCES);
				return;
			}
			nd_unix(r, uop, name, true, &d);
		} else {
			char path[sizeof un->sun_path + 1];
			memcpy(path, un->sun_path, plen);
			path[plen] = 0;
			path[strnlen(path, plen)] = 0;
			if (p->op == S_BIND) {
				struct npath np;
				if ((rc = np_parent(r, AT_FDCWD, path, &np)) < 0) {
					splan_free(p);
					nr_error(r, -rc);
					return;
				}
				p->dirfd = np.dirfd;
				snprintf(p->name, sizeof p->name, "%s", np.name);
				snprintf(r->target, sizeof r->target, "%s", np.abs);
			} else {
				char abs[PATH_MAX];
				if ((rc = np_object(r, AT_FDCWD, path, true, &p->objfd, abs)) < 0) {
					splan_free(p);
					nr_error(r, rc == -ENOENT ? ENOENT : -rc);
					return;
				}
				snprintf(r->target, sizeof r->target, "%s", abs);
			}
			nd_unix(r, uop, r->target, false, &d);
		}
	} else {
		splan_free(p);
		nr_continue(r);
		return;
	}
	if ((rc = np_getfd(r, tfd, &p->sock)) < 0) {
		splan_free(p);
		nr_error(r, -rc);
		return;
	}
	act(r, p, &d);
}

static int read_addr(struct nreq *r, uint64_t addr, uint64_t len, struct splan *p)
{
	if (len > sizeof p->addr || len < sizeof(sa_family_t))
		return -EINVAL;
	memset(&p->addr, 0, sizeof p->addr);
	if (nm_read(r, addr, &p->addr, (size_t)len) < 0)
		return -EFAULT;
	p->alen = (socklen_t)len;
	return 0;
}

static void h_connect_bind(struct nreq *r)
{
	struct splan p = { .op = r->nr == __NR_connect ? S_CONNECT : S_BIND, .sock = -1,
			   .objfd = -1, .dirfd = -1 };
	int rc = read_addr(r, r->a[1], r->a[2], &p);

	if (rc < 0) {
		nr_error(r, -rc);
		return;
	}
	if (!nr_valid(r))
		return;
	handle_addr(r, &p, (int)(int32_t)r->a[0]);
}

static void h_sendto(struct nreq *r)
{
	struct splan p = { .op = S_SENDTO, .sock = -1, .objfd = -1, .dirfd = -1 };
	int rc;

	if (!r->a[4]) {
		nr_continue(r);
		return;
	}
	if ((rc = read_addr(r, r->a[4], r->a[5], &p)) < 0) {
		nr_error(r, -rc);
		return;
	}
	sa_family_t fam = p.addr.ss_family;
	if ((fam == AF_INET || fam == AF_INET6) && r->n->cfg.bpf_net) {
		nr_continue(r);
		return;
	}
	if (fam != AF_UNIX && fam != AF_INET && fam != AF_INET6) {
		nr_continue(r);
		return;
	}
	p.dlen = (size_t)r->a[2];
	if (p.dlen > MAX_DGRAM) {
		nr_error(r, EMSGSIZE);
		return;
	}
	p.data = malloc(p.dlen ? p.dlen : 1);
	if (!p.data || (p.dlen && nm_read(r, r->a[1], p.data, p.dlen) < 0)) {
		free(p.data);
		nr_error(r, p.data ? EFAULT : ENOMEM);
		return;
	}
	p.flags = (int)r->a[3];
	if (!nr_valid(r)) {
		free(p.data);
		return;
	}
	handle_addr(r, &p, (int)(int32_t)r->a[0]);
}

/* The socket's domain and type (through our own dup of it). */
static int sock_kind(struct nreq *r, int tfd, int *dom, int *type, int *dup_out)
{
	socklen_t l = sizeof(int);
	int fd, rc;

	if ((rc = np_getfd(r, tfd, &fd)) < 0)
		return rc;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, dom, &l) < 0 ||
	    (l = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_TYPE, type, &l)) < 0) {
		rc = -errno;
		close(fd);
		return rc == -ENOTSOCK ? -ENOTSOCK : rc;
	}
	*dup_out = fd;
	return 0;
}

/* A datagram socket ignores nothing: a name written into the msghdr after our
 * look would be used.  Those are sent by us, without a name. */
static bool name_race_matters(struct nreq *r, int dom, int type)
{
	if (type != SOCK_DGRAM && type != SOCK_RAW)
		return false;
	if (dom == AF_UNIX)
		return true;
	return (dom == AF_INET || dom == AF_INET6) && !r->n->cfg.bpf_net;
}

/* The bytes of a sendmsg on a connected datagram socket, to its peer
 * (decided at connect).  Answers, or hands p to a worker (see defer_send). */
static void send_unnamed_deferred(struct nreq *r, void *arg);

static void send_unnamed(struct nreq *r, struct splan *p)
{
	struct ncreds_saved sv;
	long n = nc_enter_net(r->n, &sv);

	if (n == 0) {
		if (p->is_unix)
			n = nc_send_unix(r->n, &sv, target_tgid(r), p->sock, p->data, p->dlen,
					 p->flags | MSG_NOSIGNAL, NULL, 0);
		else if ((n = send(p->sock, p->data, p->dlen, p->flags | MSG_NOSIGNAL)) < 0)
			n = -errno;
		nc_leave_net(r->n, &sv);
	}
	struct ndecision none = { 0 };
	if (n == -EAGAIN && p->wait_later && defer_send_to(r, p, &none, send_unnamed_deferred))
		return;
	if (n < 0)
		nr_error(r, (int)-n);
	else
		nr_value(r, n);
}

static void send_unnamed_deferred(struct nreq *r, void *arg)
{
	struct { struct splan p; struct ndecision d; } *x = arg;

	send_unnamed(r, &x->p);
	splan_free(&x->p);
	free(x);
}

static void h_sendmsg(struct nreq *r)
{
	struct msghdr m;
	struct splan p = { .op = S_SENDTO, .sock = -1, .objfd = -1, .dirfd = -1 };
	int rc;

	if (nm_read(r, r->a[1], &m, sizeof m) < 0) {
		nr_error(r, EFAULT);
		return;
	}
	bool unnamed = !m.msg_name || !m.msg_namelen;
	if (unnamed) {
		int dom = 0, type = 0, sfd = -1;
		if ((rc = sock_kind(r, (int)(int32_t)r->a[0], &dom, &type, &sfd)) < 0) {
			nr_error(r, -rc);
			return;
		}
		if (!name_race_matters(r, dom, type) || m.msg_controllen) {
			/* stream sockets ignore names: decided at connect.  (With
			 * ancillary data on a datagram socket the kernel answers;
			 * a name raced in later is the residual noted in docs.) */
			close(sfd);
			nr_continue(r);
			return;
		}
		p.sock = sfd;
		p.is_unix = dom == AF_UNIX;
		p.addr.ss_family = AF_UNSPEC;
		p.alen = 0;
	} else if ((rc = read_addr(r, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen, &p)) < 0) {
		nr_error(r, -rc);
		return;
	}
	sa_family_t fam = unnamed ? AF_UNIX : p.addr.ss_family;
	if (fam != AF_UNIX && fam != AF_INET && fam != AF_INET6) {
		nr_continue(r);
		return;
	}
	if ((fam == AF_INET || fam == AF_INET6) && r->n->cfg.bpf_net) {
		nr_continue(r);
		return;
	}
	if (m.msg_controllen) {
		/* Ancillary data (fds, credentials) cannot be re-sent faithfully
		 * from here: refuse rather than guess. */
		r->opname = "sendmsg";
		snprintf(r->target, sizeof r->target, "%s", fam == AF_UNIX ? "unix socket" : "inet");
		nd_report_plain(r, "sendmsg-control-unsupported", EPERM,
				"sendmsg with ancillary data to a named address is not supported "
				"under agentsh; connect the socket first");
		nr_error(r, EPERM);
		return;
	}
	if (m.msg_iovlen > MAX_IOV) {
		splan_free(&p);
		nr_error(r, EMSGSIZE);
		return;
	}
	struct iovec iov[MAX_IOV];
	if (m.msg_iovlen && nm_read(r, (uint64_t)(uintptr_t)m.msg_iov, iov,
				    sizeof(struct iovec) * m.msg_iovlen) < 0) {
		splan_free(&p);
		nr_error(r, EFAULT);
		return;
	}
	size_t total = 0;
	for (size_t i = 0; i < m.msg_iovlen; i++) {
		total += iov[i].iov_len;
		if (total > MAX_DGRAM) {
			splan_free(&p);
			nr_error(r, EMSGSIZE);
			return;
		}
	}
	p.data = malloc(total ? total : 1);
	if (!p.data) {
		splan_free(&p);
		nr_error(r, ENOMEM);
		return;
	}
	size_t off = 0;
	for (size_t i = 0; i < m.msg_iovlen; i++) {
		if (iov[i].iov_len && nm_read(r, (uint64_t)(uintptr_t)iov[i].iov_base,
					      (char *)p.data + off, iov[i].iov_len) < 0) {
			splan_free(&p);
			nr_error(r, EFAULT);
			return;
		}
		off += iov[i].iov_len;
	}
	p.dlen = total;
	p.flags = (int)r->a[2];
	if (!nr_valid(r)) {
		splan_free(&p);
		return;
	}
	if (unnamed) {
		/* connected datagram socket: send the bytes we read, no name */
		try_without_waiting(&p);
		send_unnamed(r, &p);
		splan_free(&p);
		return;
	}
	handle_addr(r, &p, (int)(int32_t)r->a[0]);
}

static void h_sendmmsg(struct nreq *r)
{
	unsigned n = (unsigned)r->a[2];
	struct mmsghdr mm;

	int dom = 0, type = 0, sfd = -1;

	if (n > 1024)
		n = 1024;
	if (sock_kind(r, (int)(int32_t)r->a[0], &dom, &type, &sfd) == 0) {
		close(sfd);
		if (name_race_matters(r, dom, type)) {
			r->opname = "sendmmsg";
			snprintf(r->target, sizeof r->target, "datagram socket");
			nd_report_plain(r, "sendmmsg-unsupported", EPERM,
					"sendmmsg on datagram sockets that the policy must check is "
					"not supported under agentsh; use sendto/sendmsg");
			nr_error(r, EPERM);
			return;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (nm_read(r, r->a[1] + i * sizeof mm, &mm, sizeof mm) < 0) {
			nr_error(r, EFAULT);
			return;
		}
		if (!mm.msg_hdr.msg_name || !mm.msg_hdr.msg_namelen)
			continue;
		sa_family_t fam = 0;
		if (nm_read(r, (uint64_t)(uintptr_t)mm.msg_hdr.msg_name, &fam, sizeof fam) < 0) {
			nr_error(r, EFAULT);
			return;
		}
		if ((fam == AF_INET || fam == AF_INET6) && r->n->cfg.bpf_net)
			continue;
		if (fam != AF_UNIX && fam != AF_INET && fam != AF_INET6)
			continue;
		r->opname = "sendmmsg";
		snprintf(r->target, sizeof r->target, "addressed datagrams");
		nd_report_plain(r, "sendmmsg-address-unsupported", EPERM,
				"sendmmsg to named addresses is not supported under agentsh; use "
				"sendto/sendmsg");
		nr_error(r, EPERM);
		return;
	}
	nr_continue(r);         /* connected: nothing to decide */
}

void nh_sock(struct nreq *r)
{
	switch (r->nr) {
	case __NR_connect:
	case __NR_bind:
		h_connect_bind(r);
		return;
	case __NR_sendto:
		h_sendto(r);
		return;
	case __NR_sendmsg:
		h_sendmsg(r);
		return;
	default:
		h_sendmmsg(r);
		return;
	}
}
