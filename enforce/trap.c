/* trap.c — the read-deny floor that reports.
 *
 * A cover mount refuses silently, yet every denial belongs in the audit trail.
 * So the covers are nodes of a tiny FUSE filesystem served by the supervisor:
 * its root holds one node per covered path ("0", "1", ...), the delegate's child
 * (still root, in its private mount namespace) mounts it on a staging directory,
 * bind-mounts node i over covered path i and detaches the staging mount.  Any
 * open, listing or lookup beneath a covered path then reaches this daemon, which
 * refuses with EACCES, writes the audit event and tells the human — while every
 * other read costs nothing (no seccomp notification).  stat of the covered path
 * itself works, as it does for an ordinary unreadable file.
 *
 * Without default_permissions the kernel asks us about every access; the mount
 * is read-only, nosuid, nodev, noexec.  One FUSE connection per spawn (a
 * /dev/fuse fd can be mounted once). */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse_lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "audit/audit.h"
#include "enforce/enforce_int.h"
#include "enforce/notify_int.h"
#include "policy/policy.h"

struct enf_trap {
	struct enforce_session *s;
	struct fuse_session *se;
	int fd, stopfd, gofd;
	pthread_t thread;
	bool running;
};

static void node_attr(struct enforce_session *s, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = ino;
	st->st_nlink = 1;
	if (ino == FUSE_ROOT_ID || s->floor[ino - 2].is_dir)
		st->st_mode = S_IFDIR | 0555;
	else
		st->st_mode = S_IFREG | 0444;
}

static bool valid(struct enforce_session *s, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID || (ino >= 2 && ino - 2 < s->nfloor);
}

/* Could the account read (or write) the covered file itself, without the
 * cover?  Asked of the kernel with its identity (enforce_access_as): when it
 * could not (root's /etc/shadow), the refusal changes nothing it sees and is
 * recorded but not announced, as the supervisor does (notify_file.c). */
static bool kernel_refuses(const struct enforce_session *s, const char *path, bool write)
{
	struct stat st;
	int mode = write ? W_OK : stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK;
	return enforce_access_as(&s->cfg.account, path, mode) == -EACCES;
}

/* Refuse, audit, tell the human. */
static void deny(fuse_req_t req, fuse_ino_t ino, const char *name, const char *op)
{
	struct enforce_session *s = fuse_req_userdata(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[PATH_MAX + 256];
	snprintf(path, sizeof path, "%s%s%s", s->floor[ino - 2].path, name ? "/" : "", name ? name : "");
	struct policy_result res;
	memset(&res, 0, sizeof res);
	const char *rule = s->floor[ino - 2].rule;
	if (s->cfg.policy && policy_check_file(s->cfg.policy, POLICY_FILE_READ, path, &res) == 0 &&
	    res.decision == POLICY_DENY)
		rule = res.rule;
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_FILE);
	ev.operation = op;
	ev.path = path;
	ev.pid = ctx->pid;
	ev.uid = ctx->uid;
	ev.decision = ev.effective = AUDIT_DEC_DENY;
	if (rule == s->floor[ino - 2].rule && s->floor[ino - 2].msg)
		snprintf(res.message, sizeof res.message, "%s", s->floor[ino - 2].msg);
	ev.rule = rule;
	ev.message = res.message[0] ? res.message : NULL;
	ev.err = EACCES;
	ev.layer = AUDIT_LAYER_SUPERVISOR;
	ev.session_id = s->session_id;
	/* the covered object itself (beneath a covered directory, its own
	 * permission is the kernel's to tell only after the cover is gone) */
	ev.quiet = !name && kernel_refuses(s, path, !strcmp(op, "write"));
	ev.details = ev.quiet ? "{\"floor\":\"mount\",\"kernel_refuses\":true}"
			      : "{\"floor\":\"mount\"}";
	if (s->cfg.audit)
		audit_emit(s->cfg.audit, &ev);
	if (s->cfg.hooks.notice && !ev.quiet) {
		char line[PATH_MAX + 256 + POLICY_MSG_MAX + 200];
		snprintf(line, sizeof line, "denied %s %s (rule %.100s%s%s)", op, path, rule,
			 res.message[0] ? ": " : "", res.message);
		s->cfg.hooks.notice(s->cfg.hooks.ctx, line);
	}
	fuse_reply_err(req, EACCES);
}

static void t_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct enforce_session *s = fuse_req_userdata(req);
	if (parent != FUSE_ROOT_ID) {
		if (valid(s, parent))
			deny(req, parent, name, "open");
		else
			fuse_reply_err(req, ENOENT);
		return;
	}
	char *end;
	unsigned long i = strtoul(name, &end, 10);
	if (*end || end == name || i >= s->nfloor) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct fuse_entry_param e = { .ino = 2 + i, .attr_timeout = 3600, .entry_timeout = 3600 };
	node_attr(s, e.ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void t_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct enforce_session *s = fuse_req_userdata(req);
	if (!valid(s, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	node_attr(s, ino, &st);
	fuse_reply_attr(req, &st, 3600);
}

static void t_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct enforce_session *s = fuse_req_userdata(req);
	/* writes reach the trap when the kernel decides them (writemode.c) */
	bool w = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	if (ino == FUSE_ROOT_ID || !valid(s, ino))
		fuse_reply_err(req, EACCES);
	else
		deny(req, ino, NULL, w ? "write" : "open");
}

static void t_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct enforce_session *s = fuse_req_userdata(req);
	if (ino == FUSE_ROOT_ID)
		fuse_reply_open(req, fi);   /* only the set-up child ever sees the root */
	else if (valid(s, ino))
		deny(req, ino, NULL, "list");
	else
		fuse_reply_err(req, ENOENT);
}

static void t_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct enforce_session *s = fuse_req_userdata(req);
	if (ino == FUSE_ROOT_ID || mask == F_OK)
		fuse_reply_err(req, 0);
	else if (valid(s, ino))
		deny(req, ino, NULL, "access");
	else
		fuse_reply_err(req, ENOENT);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = t_lookup, .getattr = t_getattr, .open = t_open,
	.opendir = t_opendir, .access = t_access,
};

static ssize_t io_read(int fd, void *buf, size_t len, void *ud)
{
	(void)ud;
	return read(fd, buf, len);
}

static ssize_t io_writev(int fd, struct iovec *iov, int n, void *ud)
{
	(void)ud;
	return writev(fd, iov, n);
}

static void *trap_main(void *arg)
{
	struct enf_trap *t = arg;
	struct fuse_buf buf = { 0 };
	/* /dev/fuse answers EPERM/POLLERR until the child has mounted it */
	struct pollfd w[2] = { { .fd = t->gofd, .events = POLLIN }, { .fd = t->stopfd, .events = POLLIN } };
	while (poll(w, 2, -1) < 0 && errno == EINTR)
		;
	if (w[1].revents || !w[0].revents)
		return NULL;
	for (;;) {
		struct pollfd p[2] = { { .fd = t->fd, .events = POLLIN }, { .fd = t->stopfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;
		int r = fuse_session_receive_buf(t->se, &buf);
		if (r == -EINTR || r == -EAGAIN)
			continue;
		if (r <= 0)
			break;             /* ENODEV: every mount of it is gone */
		fuse_session_process_buf(t->se, &buf);
	}
	free(buf.mem);
	return NULL;
}

static void trap_free(struct enf_trap *t)
{
	if (t->running) {
		uint64_t one = 1;
		if (write(t->stopfd, &one, sizeof one) != sizeof one)
			pthread_cancel(t->thread);
		pthread_join(t->thread, NULL);
	}
	if (t->se)
		fuse_session_destroy(t->se);   /* closes the fd */
	else if (t->fd >= 0)
		close(t->fd);
	if (t->stopfd >= 0)
		close(t->stopfd);
	if (t->gofd >= 0)
		close(t->gofd);
	free(t);
}

/* Parent, before clone: a fresh connection for this spawn's child. */
int enf_trap_start(struct enforce_session *s, int *child_fd, struct enf_trap **out)
{
	*child_fd = -1;
	*out = NULL;
	if (!s->nfloor)
		return 0;
	int rc = enf_mountfloor_stage(s);    /* /run is a tmpfs others clean too */
	if (rc < 0)
		return rc;
	struct enf_trap *t = calloc(1, sizeof *t);
	if (!t)
		return enf_fail(s, -ENOMEM, "out of memory");
	t->s = s;
	t->stopfd = eventfd(0, EFD_CLOEXEC);
	t->gofd = eventfd(0, EFD_CLOEXEC);
	t->fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	char *argv[] = { "agentsh-floor", NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	static const struct fuse_custom_io io = { .read = io_read, .writev = io_writev };
	int e = t->fd < 0 ? errno : 0;
	if (t->fd >= 0 && t->stopfd >= 0 && t->gofd >= 0) {
		t->se = fuse_session_new(&args, &ops, sizeof ops, s);
		if (t->se && fuse_session_custom_io(t->se, &io, t->fd) == 0) {
			t->fd = fuse_session_fd(t->se);
			if (pthread_create(&t->thread, NULL, trap_main, t) == 0)
				t->running = true;
		}
	}
	fuse_opt_free_args(&args);
	pthread_mutex_lock(&s->lock);
	bool full = s->ntraps >= ENF_MAX_SPAWNS;
	if (!full)
		s->traps[s->ntraps++] = t; /* released by enf_trap_stop_all, also on failure */
	pthread_mutex_unlock(&s->lock);
	if (full) {
		trap_free(t);
		return enf_fail(s, -EMFILE, "too many spawns in one session for the read-deny floor");
	}
	if (!t->running)
		return enf_fail(s, e ? -e : -EIO, "cannot start the read-deny floor's FUSE server%s%s",
				e ? ": /dev/fuse: " : "", e ? strerror(e) : "");
	*child_fd = t->fd;
	*out = t;
	return 0;
}

/* The spawn's child has mounted its connection: serve it. */
void enf_trap_go(struct enf_trap *t)
{
	uint64_t one = 1;
	if (t && write(t->gofd, &one, sizeof one) != sizeof one)
		return;   /* eventfd writes of 1 cannot fail short of overflow */
}

void enf_trap_stop_all(struct enforce_session *s)
{
	for (size_t i = 0; i < s->ntraps; i++)
		trap_free(s->traps[i]);
	s->ntraps = 0;
}
