/* notify_ownsrv.c — servers of the account's own that run outside the session.
 *
 * A server that a process of the session's account runs outside the session
 * (a tmux or screen server a harness started, an editor's server, a session
 * bus) does what it is asked as the account, without the sandbox: `tmux
 * run-shell` is a shell outside agentsh.  A socket file belongs to the account
 * that bound it, and every bind in the session is made by the supervisor and
 * recorded (notify_made.c).  So a path socket of the account's that this
 * session did not make is served from outside it — by a process outside, or
 * by another session under another policy — and an allowed connect or send to
 * it is refused, unless the allowing rule says `own_account_servers: allow`.
 *
 * Whether anything serves the file at all is asked of the kernel's socket
 * table (sock_diag), not by connecting: a probe would itself reach the server.
 * Nothing bound there (a stale socket left by an ended session) is what the
 * kernel answers too: ECONNREFUSED, so tmux replaces a stale socket as usual.
 *
 * An abstract name (a session bus started with dbus-launch, an X server the
 * account runs) has no file and no owner; the socket table tells who made
 * each socket bound to it (UNIX_DIAG_UID) and its inode, and the session's
 * own abstract binds (made by the supervisor) are recorded by inode. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "enforce/notify_sup_int.h"

struct vfs_id { uint32_t dev, ino; };    /* as unix_diag reports them (kernel dev_t) */

/* The kernel's netlink replies, walked with explicit bounds (the NLMSG_ and
 * RTA_ macros mix signed and unsigned lengths). */
static bool msg_binds(const struct nlmsghdr *h, const struct vfs_id *want)
{
	size_t off = NLMSG_LENGTH(sizeof(struct unix_diag_msg));

	while (off + sizeof(struct rtattr) <= h->nlmsg_len) {
		const struct rtattr *a = (const void *)((const char *)h + off);
		if (a->rta_len < sizeof *a || a->rta_len > h->nlmsg_len - off)
			break;
		if (a->rta_type == UNIX_DIAG_VFS && a->rta_len >= RTA_LENGTH(sizeof(struct unix_diag_vfs))) {
			const struct unix_diag_vfs *v = RTA_DATA(a);
			if (v->udiag_vfs_ino == want->ino && v->udiag_vfs_dev == want->dev)
				return true;
		}
		off += RTA_ALIGN(a->rta_len);
	}
	return false;
}

/* Walk the kernel's table of unix sockets (show: UDIAG_SHOW_*): 1 when
 * match() said so for one of them, 0 none, -errno the table could not be
 * read. */
static int scan_sockets(uint32_t show, bool (*match)(const struct nlmsghdr *h, const void *ctx),
			const void *ctx)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req = {
		.h = { .nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_show = show },
	};
	long buf[8192 / sizeof(long)];
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int found = 0, rc = 0;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof req, 0) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof buf, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (got == 0) {
			rc = -EIO;
			goto out;
		}
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)got;) {
			const struct nlmsghdr *h = (const void *)((const char *)buf + off);
			if (h->nlmsg_len < sizeof *h || h->nlmsg_len > (size_t)got - off) {
				rc = -EIO;
				goto out;
			}
			off += NLMSG_ALIGN(h->nlmsg_len);
			if (h->nlmsg_type == NLMSG_DONE)
				goto out;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				rc = e->error ? e->error : -EIO;
				goto out;
			}
			if (!found && h->nlmsg_type == SOCK_DIAG_BY_FAMILY && match(h, ctx))
				found = 1;
		}
	}
out:
	close(fd);
	return rc < 0 ? rc : found;
}

static bool binds_file(const struct nlmsghdr *h, const void *ctx)
{
	return msg_binds(h, ctx);
}

/* 1: a socket is bound to the file; 0: none; -errno: the table could not be read. */
static int bound_to(const struct vfs_id *want)
{
	return scan_sockets(UDIAG_SHOW_VFS, binds_file, want);
}

static void refuse_own(struct nreq *r, const struct ndecision *d, int rc)
{
	struct ndecision no = *d;
	no.res.decision = POLICY_DENY;
	no.res.rule = "own-account-server";     /* agentsh's own refusal, not the allowing rule's */
	no.res.rule_index = -1;
	no.res.line = 0;
	snprintf(no.res.message, sizeof no.res.message, "%s", rc > 0
		 ? "the socket is this account's and was not made in this session: whatever serves it "
		   "runs outside the sandbox and would run what it is asked"
		 : "the socket is this account's and was not made in this session, and the kernel's "
		   "socket table could not be read to see what serves it");
	nd_report(r, &no, false, EACCES, NULL);
}

int ns_own_server_refusal(struct nreq *r, int objfd, const struct ndecision *d)
{
	struct stat st;
	int rc;

	if (d->res.unix_own_account_servers)
		return 0;
	if (fstat(objfd, &st) < 0)
		return errno;
	if (st.st_uid != r->n->cfg.account.uid || made_known(r->n, objfd, ""))
		return 0;
	/* the kernel's dev_t in unix_diag: major << 20 | minor */
	struct vfs_id id = { .dev = (uint32_t)(major(st.st_dev) << 20 | minor(st.st_dev)),
			     .ino = (uint32_t)st.st_ino };
	if ((rc = bound_to(&id)) == 0)
		return ECONNREFUSED;
	refuse_own(r, d, rc);
	return EACCES;
}

/* ---------------------------------------------------------- abstract names */

struct abs_want {
	const char *path;               /* sun_path bytes: NUL, then the name */
	size_t len;
	uint32_t uid;
	struct notify *n;
};

static bool session_bound(struct notify *n, uint64_t ino)
{
	bool found = false;

	pthread_mutex_lock(&n->lock);
	for (size_t i = 0; i < n->nabs && !found; i++)
		found = n->abs_inos[i] == ino;
	pthread_mutex_unlock(&n->lock);
	return found;
}

/* A socket bound to the name, made by the account, not by this session. */
static bool binds_name(const struct nlmsghdr *h, const void *ctx)
{
	const struct abs_want *w = ctx;
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	size_t off = NLMSG_LENGTH(sizeof *m);
	bool named = false, mine = false;

	if (h->nlmsg_len < off)
		return false;
	while (off + sizeof(struct rtattr) <= h->nlmsg_len) {
		const struct rtattr *a = (const void *)((const char *)h + off);
		if (a->rta_len < sizeof *a || a->rta_len > h->nlmsg_len - off)
			break;
		size_t plen = a->rta_len - RTA_LENGTH(0);
		if (a->rta_type == UNIX_DIAG_NAME)
			named = plen == w->len && !memcmp(RTA_DATA(a), w->path, w->len);
		else if (a->rta_type == UNIX_DIAG_UID && plen >= sizeof(uint32_t))
			mine = *(const uint32_t *)RTA_DATA(a) == w->uid;
		off += RTA_ALIGN(a->rta_len);
	}
	return named && mine && !session_bound(w->n, m->udiag_ino);
}

/* The kernel's autobind names: five lowercase hex digits.  A socket gets one
 * without any bind of ours (a datagram client's reply address, made when it
 * first sends), so it cannot be recorded; and servers do not live at names
 * the kernel picks at random. */
static bool autobind_name(const char *name, size_t len)
{
	if (len != 5)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

int ns_own_abstract_refusal(struct nreq *r, const char *name, size_t len, const struct ndecision *d)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int rc;

	if (len + 1 > sizeof path)
		return EINVAL;  /* longer than any name the kernel takes */
	if (d->res.unix_own_account_servers || autobind_name(name, len))
		return 0;
	path[0] = 0;
	memcpy(path + 1, name, len);
	struct abs_want w = { .path = path, .len = len + 1, .uid = r->n->cfg.account.uid, .n = r->n };
	if ((rc = scan_sockets(UDIAG_SHOW_NAME | UDIAG_SHOW_UID, binds_name, &w)) == 0)
		return 0;       /* another account's, or nothing: the kernel answers */
	refuse_own(r, d, rc);
	return EACCES;
}

void ns_abstract_bound(struct notify *n, int sock)
{
	struct stat st;

	if (fstat(sock, &st) < 0)
		return;
	pthread_mutex_lock(&n->lock);
	if (n->nabs == n->capabs) {
		size_t cap = n->capabs ? 2 * n->capabs : 16;
		uint64_t *t = cap <= 65536 ? realloc(n->abs_inos, cap * sizeof *t) : NULL;
		if (t) {
			n->abs_inos = t;
			n->capabs = cap;
		}
	}
	/* a full table: the socket stays unrecorded, so a connect to it is
	 * refused (fail closed), never allowed by mistake */
	if (n->nabs < n->capabs)
		n->abs_inos[n->nabs++] = (uint64_t)st.st_ino;
	pthread_mutex_unlock(&n->lock);
}
