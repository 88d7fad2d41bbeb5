/* notify.c — the supervisor's life cycle, receive loop and answers.
 *
 * One receive thread polls the listener and an eventfd, receives each
 * notification and handles it inline (keeps SYNC_WAKE_UP's same-CPU handoff).
 * Anything that may block for long (opening a FIFO or device, a blocking
 * connect, an approval) moves to a worker thread with notify_defer(), so other
 * notifications keep being served.  Every handler must answer; a request that
 * reaches the end of its handler unanswered is denied (fail closed). */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "enforce/notify_sup_int.h"

static size_t notif_size(void)
{
	static size_t sz;
	struct seccomp_notif_sizes s;

	if (!sz) {
		if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) == 0 &&
		    s.seccomp_notif > sizeof(struct seccomp_notif))
			sz = s.seccomp_notif;
		else
			sz = sizeof(struct seccomp_notif);
	}
	return sz;
}

/* ---------------------------------------------------------------- answers */

static int send_resp(struct nreq *r, int64_t val, int err, uint32_t flags)
{
	struct seccomp_notif_resp resp = {
		.id = r->req->id, .val = val, .error = err ? -err : 0, .flags = flags,
	};

	if (r->answered)
		return -EALREADY;
	r->answered = true;
	if (ioctl(r->n->fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
		/* ENOENT: the target died or was interrupted; nothing to answer. */
		if (errno != ENOENT)
			atomic_fetch_add(&r->n->st_err, 1);
		return -errno;
	}
	return 0;
}

int nr_continue(struct nreq *r)
{
	atomic_fetch_add(&r->n->st_cont, 1);
	return send_resp(r, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

int nr_error(struct nreq *r, int err)
{
	if (err)
		atomic_fetch_add(&r->n->st_deny, 1);
	return send_resp(r, 0, err < 0 ? -err : err, 0);
}

int nr_value(struct nreq *r, int64_t val)
{
	atomic_fetch_add(&r->n->st_emul, 1);
	return send_resp(r, val, 0, 0);
}

int nr_addfd(struct nreq *r, int fd, bool cloexec)
{
	struct seccomp_notif_addfd a = {
		.id = r->req->id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)fd,
		.newfd = 0, .newfd_flags = cloexec ? O_CLOEXEC : 0,
	};
	int tfd, err;

	if (r->answered) {
		close(fd);
		return -EALREADY;
	}
	tfd = ioctl(r->n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	err = errno;
	close(fd);
	if (tfd >= 0) {
		r->answered = true;
		atomic_fetch_add(&r->n->st_emul, 1);
		return tfd;
	}
	if (err == ENOENT) {            /* target gone */
		r->answered = true;
		return -ENOENT;
	}
	/* EMFILE and friends: the target's fd table is full, as for a real open. */
	nr_error(r, err);
	return -err;
}

bool nr_valid(struct nreq *r)
{
	uint64_t id = r->req->id;

	return ioctl(r->n->fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---------------------------------------------------------------- workers */

struct nreq *nr_clone(const struct nreq *r)
{
	struct nreq *c = malloc(sizeof *c);

	if (!c)
		return NULL;
	*c = *r;
	c->req = malloc(notif_size());
	if (!c->req) {
		free(c);
		return NULL;
	}
	memcpy(c->req, r->req, notif_size());
	return c;
}

void nr_free_clone(struct nreq *r)
{
	if (r) {
		free(r->req);
		free(r);
	}
}

struct deferred {
	struct nreq r;
	void (*fn)(struct nreq *r, void *arg);
	void *arg;
};

static void *worker_main(void *p)
{
	struct deferred *d = p;
	struct notify *n = d->r.n;

	if (nc_thread_init() < 0) {
		nd_report_plain(&d->r, "supervisor-error", EACCES,
				"could not isolate the worker thread's filesystem context");
		nr_error(&d->r, EACCES);
	} else {
		d->fn(&d->r, d->arg);
		nc_root();
		if (!d->r.answered) {
			nd_report_plain(&d->r, "supervisor-error", EACCES, "no answer was produced");
			nr_error(&d->r, EACCES);
		}
	}
	free(d->r.req);
	free(d);
	notify_unref(n);
	return NULL;
}

int notify_defer(struct nreq *r, void (*fn)(struct nreq *r, void *arg), void *arg)
{
	struct deferred *d = calloc(1, sizeof *d);
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if (!d)
		goto fail;
	d->r = *r;
	d->r.req = malloc(notif_size());
	if (!d->r.req) {
		free(d);
		goto fail;
	}
	memcpy(d->r.req, r->req, notif_size());
	d->fn = fn;
	d->arg = arg;

	notify_ref(r->n);
	/* a new thread inherits this thread's credentials: hand it root's */
	nc_root();

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &at, worker_main, d);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		free(d->r.req);
		free(d);
		notify_unref(r->n);
		goto fail;
	}
	r->answered = true;     /* the worker owns the answer now */
	return 0;
fail:
	nd_report_plain(r, "supervisor-error", EAGAIN, "could not start a worker thread");
	nr_error(r, EAGAIN);
	return -EAGAIN;
}

/* ---------------------------------------------------------------- dispatch */

static void dispatch(struct nreq *r)
{
	int nr = r->nr;

	if (r->req->data.arch != AUDIT_ARCH_X86_64) {
		/* The filter kills foreign ABIs; never act on one here. */
		nd_report_plain(r, "foreign-abi", ENOSYS, "foreign syscall ABI refused");
		nr_error(r, ENOSYS);
		return;
	}
	if (nh_is_file(nr))
		nh_file(r);
	else if (nh_is_file_fd(nr))
		nh_file_fd(r);
	else if (nr == __NR_execve || nr == __NR_execveat)
		nh_exec(r);
	else if (nh_is_sock(nr))
		nh_sock(r);
	else if (nh_is_signal(nr))
		nh_signal(r);
	else if (!nh_surface(r))
		nd_report_plain(r, "unexpected-syscall", ENOSYS,
				"the supervisor has no handler for this syscall");
	/* The thread stays in the target's identity between notifications
	 * (they are all for the same account): code that needs ours asks. */
	if (!r->answered)
		nr_error(r, EACCES);
}

static void handle_one(struct notify *n, struct seccomp_notif *req)
{
	struct nreq r = { .n = n, .req = req, .pid = (pid_t)req->pid, .tgid = 0,
			  .nr = req->data.nr };

	memcpy(r.a, req->data.args, sizeof r.a);
	atomic_fetch_add(&n->st_notif, 1);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dispatch(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_fetch_add(&n->st_handle_ns, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL +
						      (t1.tv_nsec - t0.tv_nsec)));
}

static void *loop_main(void *p)
{
	struct notify *n = p;
	struct seccomp_notif *req = malloc(notif_size());
	struct pollfd pf[2] = { { .fd = n->fd, .events = POLLIN }, { .fd = n->wake, .events = POLLIN } };

	if (!req || nc_thread_init() < 0) {
		free(req);
		return NULL;            /* the listener stays unanswered: stop() closes it */
	}
	while (!atomic_load(&n->stopping)) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			continue;       /* stop request; the loop condition checks it */
		if (pf[0].revents & POLLIN) {
			memset(req, 0, notif_size());
			if (ioctl(n->fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
				continue;       /* ENOENT: target gone; EINTR */
			handle_one(n, req);
		} else if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			pf[0].fd = -1;  /* no task uses the filter any more */
		}
	}
	free(req);
	return NULL;
}

/* ---------------------------------------------------------------- life cycle */

static char *dupn(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void notify_free(struct notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	if (n->wake >= 0)
		close(n->wake);
	if (atomic_load(&n->root_fd) >= 0)
		close(atomic_load(&n->root_fd));
	made_free(n);
	free(n->abs_inos);
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->idle);
	free(n->session_id);
	free(n->cgroup_rel);
	free(n->trash_dir);
	free(n->acct_name);
	free(n->redirect_shell);
	free(n->protected_pids);
	free(n->groups);
	free(n->sup_groups);
	free(n);
}

/* nworkers doubles as the count of references other than the owner's. */
void notify_ref(struct notify *n)
{
	pthread_mutex_lock(&n->lock);
	n->nworkers++;
	pthread_mutex_unlock(&n->lock);
}

void notify_unref(struct notify *n)
{
	bool last;

	pthread_mutex_lock(&n->lock);
	n->nworkers--;
	last = n->nworkers == 0 && atomic_load(&n->stopping);
	pthread_cond_broadcast(&n->idle);
	pthread_mutex_unlock(&n->lock);
	(void)last;
}

static int copy_cfg(struct notify *n, const struct notify_cfg *cfg)
{
	n->cfg = *cfg;
	n->session_id = dupn(cfg->session_id);
	n->cgroup_rel = dupn(cfg->cgroup_rel);
	n->trash_dir = strdup(cfg->trash_dir ? cfg->trash_dir : NOTIFY_TRASH_DIR);
	n->redirect_shell = strdup(cfg->redirect_shell ? cfg->redirect_shell : "/bin/sh");
	if ((cfg->session_id && !n->session_id) || (cfg->cgroup_rel && !n->cgroup_rel) ||
	    !n->trash_dir || !n->redirect_shell)
		return -ENOMEM;
	n->cfg.session_id = n->session_id;
	n->cfg.cgroup_rel = n->cgroup_rel;
	n->cfg.trash_dir = n->trash_dir;
	n->cfg.redirect_shell = n->redirect_shell;
	if (cfg->nprotected) {
		n->protected_pids = calloc(cfg->nprotected, sizeof(pid_t));
		if (!n->protected_pids)
			return -ENOMEM;
		memcpy(n->protected_pids, cfg->protected_pids, cfg->nprotected * sizeof(pid_t));
		n->cfg.protected_pids = n->protected_pids;
	}
	if (cfg->account.ngroups) {
		n->groups = calloc(cfg->account.ngroups, sizeof(gid_t));
		if (!n->groups)
			return -ENOMEM;
		memcpy(n->groups, cfg->account.groups, cfg->account.ngroups * sizeof(gid_t));
		n->cfg.account.groups = n->groups;
	}
	/* the name goes into trash manifests: a uid alone can be recycled */
	n->acct_name = dupn(cfg->account.name);
	if (cfg->account.name && !n->acct_name)
		return -ENOMEM;
	n->cfg.account.name = n->acct_name;
	n->cfg.account.home = NULL;
	int ng = getgroups(0, NULL);
	if (ng > 0) {
		n->sup_groups = calloc((size_t)ng, sizeof(gid_t));
		if (!n->sup_groups)
			return -ENOMEM;
		n->nsup_groups = getgroups(ng, n->sup_groups);
		if (n->nsup_groups < 0)
			return -errno;
	}
	return 0;
}

int enforce_notify_start(const struct notify_cfg *cfg, int listener_fd, struct notify **out)
{
	struct notify *n;
	int rc;

	*out = NULL;
	if (!cfg || !cfg->policy || listener_fd < 0) {
		if (listener_fd >= 0)
			close(listener_fd);
		return -EINVAL;
	}
	if (!cfg->bpf && !cfg->allow_degraded) {
		/* Exec decisions are only sound with the kernel-side check. */
		close(listener_fd);
		return -ENOTSUP;
	}
	n = calloc(1, sizeof *n);
	if (!n) {
		close(listener_fd);
		return -ENOMEM;
	}
	n->fd = listener_fd;
	n->wake = -1;
	atomic_init(&n->root_fd, -1);
	n->self = getpid();
	/* the sessions' /proc is this one (their mount namespaces are copies,
	 * and they cannot mount another) */
	struct stat pst;
	n->proc_dev = stat("/proc/self", &pst) == 0 ? pst.st_dev : 0;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->idle, NULL);
	if ((rc = copy_cfg(n, cfg)) < 0 || (rc = made_init(n)) < 0)
		goto fail;
	n->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->wake < 0) {
		rc = -errno;
		goto fail;
	}
	if ((rc = pthread_create(&n->thread, NULL, loop_main, n)) != 0) {
		rc = -rc;
		goto fail;
	}
	n->thread_started = true;
	*out = n;
	return 0;
fail:
	notify_free(n);
	return rc;
}

void enforce_notify_stop(struct notify *n)
{
	uint64_t one = 1;
	ssize_t w;

	if (!n)
		return;
	if (getenv("AGENTSH_NOTIFY_STATS"))
		fprintf(stderr, "agentsh notify: %llu notifications, %llu continued, %llu emulated, "
			"%llu denied, %.1f us average in the handler\n",
			(unsigned long long)atomic_load(&n->st_notif),
			(unsigned long long)atomic_load(&n->st_cont),
			(unsigned long long)atomic_load(&n->st_emul),
			(unsigned long long)atomic_load(&n->st_deny),
			atomic_load(&n->st_notif) ? atomic_load(&n->st_handle_ns) / 1000.0 /
						    atomic_load(&n->st_notif) : 0.0);
	atomic_store(&n->stopping, true);
	w = write(n->wake, &one, sizeof one);
	(void)w;
	if (n->thread_started)
		pthread_join(n->thread, NULL);
	/* Workers blocked in an approval or a blocking open/connect finish once
	 * enforce-core has killed the tree; wait a bounded time for them. */
	pthread_mutex_lock(&n->lock);
	for (int i = 0; n->nworkers > 0 && i < 50; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&n->idle, &n->lock, &ts);
	}
	bool busy = n->nworkers > 0;
	pthread_mutex_unlock(&n->lock);
	if (busy) {
		/* A worker still holds n: leak it rather than free under its feet.
		 * Closing the listener makes every pending syscall fail (ENOSYS). */
		close(n->fd);
		n->fd = -1;
		return;
	}
	notify_free(n);
}

void enforce_notify_stats(const struct notify *n, struct notify_stats *out)
{
	struct notify *m = (struct notify *)n;

	*out = (struct notify_stats){ 0 };
	if (!n)
		return;
	out->notifications = atomic_load(&m->st_notif);
	out->allowed = atomic_load(&m->st_allow);
	out->denied = atomic_load(&m->st_deny);
	out->emulated = atomic_load(&m->st_emul);
	out->continued = atomic_load(&m->st_cont);
	out->errors = atomic_load(&m->st_err);
	out->handle_ns = atomic_load(&m->st_handle_ns);
}
