/* spawn.c — the single entry point through which every delegate starts.
 *
 * The supervisor may be multithreaded (notify supervisor threads), so the child
 * made by clone3 must not take any lock another thread might hold: no malloc, no
 * stdio, and raw syscalls for the credential changes (glibc's setresuid would try
 * to broadcast to threads that do not exist in the child and hang).  Everything
 * the child needs is prepared in the parent; the child reports a failure as one
 * message on a socketpair (stage + errno) and the parent turns it into text. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

enum stage {
	ST_PDEATHSIG = 1, ST_SIGNALS, ST_SETSID, ST_CTTY, ST_CGROUP, ST_FLOOR, ST_FDS, ST_GROUPS, ST_GID,
	ST_UID, ST_VERIFY, ST_CHDIR, ST_NNP, ST_LANDLOCK, ST_SECCOMP, ST_LISTENER, ST_EXEC,
};

static const char *stage_name(int st)
{
	static const char *const n[] = {
		[ST_PDEATHSIG] = "setting the parent-death signal", [ST_SIGNALS] = "resetting signals",
		[ST_SETSID] = "creating a new session (setsid)", [ST_CTTY] = "acquiring the controlling terminal",
		[ST_CGROUP] = "joining the session's cgroups",
		[ST_FLOOR] = "covering the policy's denied paths in a private mount namespace", [ST_FDS] = "installing stdio and passed fds",
		[ST_GROUPS] = "setting supplementary groups", [ST_GID] = "setting the group id",
		[ST_UID] = "setting the user id", [ST_VERIFY] = "verifying the credential switch",
		[ST_CHDIR] = "changing to the working directory", [ST_NNP] = "setting no_new_privs",
		[ST_LANDLOCK] = "applying the Landlock ruleset", [ST_SECCOMP] = "loading the seccomp filter",
		[ST_LISTENER] = "handing the seccomp listener to the supervisor", [ST_EXEC] = "executing",
	};
	return st > 0 && st <= ST_EXEC && n[st] ? n[st] : "starting";
}

#define ENF_SETUP_TIMEOUT_MS 10000

enum msg_kind { MSG_ERROR = 1, MSG_READY, MSG_TRAP_MOUNTED };
struct child_msg {
	int kind, stage, err, fd;
};

/* Everything the child reads, and all it writes: on the parent's stack.  The
 * session itself is read-only to the child (it may share our memory). */
struct child_ctx {
	struct enforce_session *s;
	const struct enforce_spawn_req *req;
	char *const *envp;
	const char *cwd;
	int sock;                   /* child's end of the status socketpair */
	int landlock_fd;            /* the session's ruleset, lifted above the targets */
	const char *floor_opts;     /* mount options of this spawn's read-deny trap */
	pid_t parent;
	bool in_cgroup;             /* clone3 put us there already */
};

static __attribute__((noreturn)) void child_fail(struct child_ctx *c, int stage, int err)
{
	struct child_msg m = { .kind = MSG_ERROR, .stage = stage, .err = err };
	ssize_t r = send(c->sock, &m, sizeof m, MSG_NOSIGNAL);
	(void)r;
	_exit(127);
}

static void child_signals(struct child_ctx *c)
{
	/* dispositions first: every signal is still blocked (spawn_vm), and a
	 * handler of ours must never run in the child */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP && (sig < 32 || sig >= SIGRTMIN))
			sigaction(sig, &dfl, NULL);
	/* ignored signals survive exec; the delegate starts with defaults, unblocked */
	sigset_t none;
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, ST_SIGNALS, errno);
}

static void child_cgroups(struct child_ctx *c)
{
	struct enf_cgroup *cg = &c->s->cg;
	/* "0" means the writing task, in v1 and v2 alike */
	if (!c->in_cgroup && cg->dirfd >= 0) {
		int fd = openat(cg->dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			child_fail(c, ST_CGROUP, errno);
		close(fd);
	}
	/* v1: the thread's own `tasks` entry, which skips the grace period a
	 * `cgroup.procs` write waits for (limits.c) */
	for (size_t i = 0; i < cg->nv1; i++)
		if (write(cg->v1[i].tasks_fd, "0", 1) != 1)
			child_fail(c, ST_CGROUP, errno);
}

/* Move an internal fd above every target so the dup2 pass cannot clobber it. */
static int lift(struct child_ctx *c, int fd, int base)
{
	if (fd < 0)
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (n < 0)
		child_fail(c, ST_FDS, errno);
	return n;
}

/* close every fd >= lo but a and b (-1: none) */
static int close_except(unsigned lo, int a, int b)
{
	int keep[2] = { a < b ? a : b, a < b ? b : a };
	for (int i = 0; i < 2; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
			return errno;
		lo = (unsigned)keep[i] + 1;
	}
	return syscall(SYS_close_range, lo, ~0U, 0) < 0 ? errno : 0;
}

static void child_fds(struct child_ctx *c)
{
	const struct enforce_spawn_req *r = c->req;
	int from[3 + 4], to[3 + 4], n = 0, base = 3;
	for (int i = 0; i < 3; i++, n++) {
		from[n] = r->stdio[i];
		to[n] = i;
	}
	for (size_t i = 0; i < r->nextra; i++, n++) {
		from[n] = r->extra[i].from;
		to[n] = r->extra[i].to;
		if (to[n] + 1 > base)
			base = to[n] + 1;
	}
	int null = -1;
	for (int i = 0; i < n; i++) {
		if (from[i] < 0) {     /* no stream given: /dev/null, never a leaked fd */
			if (null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				child_fail(c, ST_FDS, errno);
			from[i] = null;
		}
		from[i] = lift(c, from[i], base);
	}
	/* the cgroup fds were used (child_cgroups): closed below with the rest */
	c->sock = lift(c, c->sock, base);
	c->landlock_fd = lift(c, c->landlock_fd, base);
	for (int i = 0; i < n; i++)
		if (dup2(from[i], to[i]) < 0)   /* clears FD_CLOEXEC on the target */
			child_fail(c, ST_FDS, errno);
	/* Every other fd goes now, not at the exec.  The table is a copy of the
	 * supervisor's, taken while its threads work: an open file description
	 * kept here keeps what it holds in the supervisor too (the audit
	 * anchor's flock mid-commit, a pipe's write end) until this child execs,
	 * and the child waits for the supervisor before its exec (before_exec:
	 * the audit flush, which needs that flock). */
	bool keep[3 + 4 + 64] = { false };
	for (int i = 0; i < n; i++)
		if (to[i] >= 0 && to[i] < (int)(sizeof keep / sizeof keep[0]))
			keep[to[i]] = true;
	for (int fd = 0; fd < base; fd++)
		if (!keep[fd])
			close(fd);
	/* the two still needed were lifted above base */
	int e = close_except((unsigned)base, c->sock, c->landlock_fd);
	if (e)
		child_fail(c, ST_FDS, e);
}

static void child_creds(struct child_ctx *c)
{
	const struct enforce_account *a = &c->s->cfg.account;
	if (c->s->privileged) {
		if (syscall(SYS_setgroups, a->ngroups, a->groups) < 0)
			child_fail(c, ST_GROUPS, errno);
		if (syscall(SYS_setresgid, a->gid, a->gid, a->gid) < 0)
			child_fail(c, ST_GID, errno);
		if (syscall(SYS_setresuid, a->uid, a->uid, a->uid) < 0)
			child_fail(c, ST_UID, errno);
	}
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (syscall(SYS_getresuid, &ru, &eu, &su) < 0 || syscall(SYS_getresgid, &rg, &eg, &sg) < 0)
		child_fail(c, ST_VERIFY, errno);
	if (ru != a->uid || eu != a->uid || su != a->uid || rg != a->gid || eg != a->gid || sg != a->gid)
		child_fail(c, ST_VERIFY, EPERM);
	/* a way back to root must not exist */
	if (a->uid != 0 && (syscall(SYS_setresuid, 0, 0, 0) == 0 || syscall(SYS_setuid, 0) == 0))
		child_fail(c, ST_VERIFY, EPERM);
	if (c->s->privileged) {
		gid_t g[64];
		long ng = syscall(SYS_getgroups, 64, g);
		if (a->ngroups <= 64 && (ng != (long)a->ngroups ||
					 memcmp(g, a->groups, a->ngroups * sizeof *g) != 0))
			child_fail(c, ST_VERIFY, EPERM);
	}
}

static __attribute__((noreturn)) void child_main(struct child_ctx *c)
{
	const struct enforce_spawn_req *r = c->req;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(c, ST_PDEATHSIG, errno);
	if (getppid() != c->parent)       /* the supervisor died before the line above */
		_exit(127);
	child_signals(c);
	/* A session of its own always: without a pty of its own the command
	 * would keep agentsh's controlling terminal, the human's, and reach it
	 * unfiltered through /dev/tty. */
	if (setsid() < 0)
		child_fail(c, ST_SETSID, errno);
	if (r->ctty >= 0 && ioctl(r->ctty, TIOCSCTTY, 0) < 0)
		child_fail(c, ST_CTTY, errno);
	/* Its pty is the account's, as login and sshd make a user's: the
	 * supervisor opens /dev/tty and ttyname(3) paths for the command as the
	 * account (notify_file.c), and agentsh allocated the pty as root. */
	if (r->ctty >= 0 && c->s->privileged && fchown(r->ctty, c->s->cfg.account.uid, (gid_t)-1) < 0)
		child_fail(c, ST_CTTY, errno);
	child_cgroups(c);
	int e = enf_mountfloor_mount_child(c->s, c->floor_opts);
	if (e)
		child_fail(c, ST_FLOOR, e);
	if (c->s->nfloor) {
		/* the trap server can read only from a mounted connection */
		struct child_msg m = { .kind = MSG_TRAP_MOUNTED };
		if (send(c->sock, &m, sizeof m, MSG_NOSIGNAL) != sizeof m)
			child_fail(c, ST_FLOOR, EPIPE);
		if ((e = enf_mountfloor_bind_child(c->s)))
			child_fail(c, ST_FLOOR, e);
	}
	child_fds(c);
	child_creds(c);
	if (chdir(c->cwd) < 0)
		child_fail(c, ST_CHDIR, errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		child_fail(c, ST_NNP, errno ? errno : EPERM);
	e = enf_landlock_apply_child(c->landlock_fd);
	if (e)
		child_fail(c, ST_LANDLOCK, e);
	int lfd = -1;
	e = enf_seccomp_apply_child(c->s, &lfd);
	if (e)
		child_fail(c, ST_SECCOMP, e);
	if (lfd >= 0 || r->before_exec) {
		/* ready to exec: the parent takes the listener (if any) with
		 * pidfd_getfd (a sendmsg here could itself be a notified syscall
		 * nobody is listening to yet), runs before_exec, then acks */
		struct child_msg m = { .kind = MSG_READY, .fd = lfd };
		char ack;
		if (send(c->sock, &m, sizeof m, MSG_NOSIGNAL) != sizeof m || recv(c->sock, &ack, 1, 0) != 1)
			child_fail(c, ST_LISTENER, EPIPE);
		close(lfd);
	}
	execve(r->argv[0], r->argv, c->envp);
	child_fail(c, ST_EXEC, errno);
}

static pid_t spawn_clone(struct child_ctx *c, int *pidfd)
{
	struct enf_cgroup *cg = &c->s->cg;
	struct clone_args ca = {
		.flags = CLONE_PIDFD | (cg->dirfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = cg->dirfd >= 0 ? (uint64_t)cg->dirfd : 0,
	};
	c->in_cgroup = cg->dirfd >= 0;
	long pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0)
		child_main(c);
	if (pid > 0 || (errno != ENOSYS && errno != E2BIG))
		return (pid_t)pid;
	/* kernels before 5.7: fork, and the child joins its cgroup itself */
	c->in_cgroup = false;
	pid = fork();
	if (pid == 0)
		child_main(c);
	if (pid > 0 && (*pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		int e = errno;
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, NULL, 0);
		errno = e;
		return -1;
	}
	return (pid_t)pid;
}

static int check_req(struct enforce_session *s, const struct enforce_spawn_req *r)
{
	if (!r || !r->argv || !r->argv[0])
		return enf_fail(s, -EINVAL, "spawn request without a program");
	if (r->argv[0][0] != '/')
		return enf_fail(s, -EINVAL, "spawn: program '%s' is not an absolute path", r->argv[0]);
	if (r->nextra > 4)
		return enf_fail(s, -EINVAL, "spawn: at most 4 extra fds can be passed");
	for (size_t i = 0; i < r->nextra; i++)
		if (r->extra[i].to < 3 || r->extra[i].to > 63 || r->extra[i].from < 0)
			return enf_fail(s, -EINVAL, "spawn: extra fd %d -> %d is out of range (targets 3..63)",
					r->extra[i].from, r->extra[i].to);
	if (!r->cwd && !s->workspace)
		return enf_fail(s, -EINVAL, "spawn: no working directory and no workspace");
	return 0;
}

bool enf_spawn_copy_mm;

/* The parent's side of one spawn.  With spawn_vm() the kernel writes pid and
 * pidfd (CLONE_PARENT_SETTID, CLONE_PIDFD) before the child first runs, so they
 * are valid once the child has said anything. */
struct handshake {
	struct enforce_session *s;
	const struct enforce_spawn_req *r;
	struct enf_trap *trap;
	int sock;
	pid_t pid;
	int pidfd;
	int rc;
};

/* Listener hand-over, then EOF (exec done) or an error message.  0 when the
 * program is running. */
static int parent_handshake(struct handshake *h)
{
	struct enforce_session *s = h->s;
	const struct enforce_spawn_req *r = h->r;
	struct child_msg m;
	bool setup = true;      /* before the exec: bounded; the exec may wait for a human */
	for (;;) {
		struct pollfd p = { .fd = h->sock, .events = POLLIN };
		int pr = poll(&p, 1, setup ? ENF_SETUP_TIMEOUT_MS : -1);
		if (pr == 0)
			return enf_fail(s, -ETIMEDOUT, "spawn of %s (pid %d): the sandbox set-up did not finish "
					"within %d s; refusing to continue", r->argv[0],
					(int)__atomic_load_n(&h->pid, __ATOMIC_ACQUIRE), ENF_SETUP_TIMEOUT_MS / 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		ssize_t n = recv(h->sock, &m, sizeof m, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == 0)
			return 0;        /* CLOEXEC closed the socket: execve succeeded */
		if (n != sizeof m)
			return enf_fail(s, n < 0 ? -errno : -EIO, "spawn of %s: broken status channel",
					r->argv[0]);
		if (m.kind == MSG_ERROR)
			return enf_fail(s, -m.err, "cannot start %s as %s (uid %u): %s failed: %s", r->argv[0],
					s->acct_name ? s->acct_name : "the account", (unsigned)s->cfg.account.uid,
					stage_name(m.stage), strerror(m.err));
		if (m.kind == MSG_TRAP_MOUNTED) {
			enf_trap_go(h->trap);
			continue;
		}
		if (m.kind != MSG_READY || (m.fd < 0 && s->filter.notify))
			return enf_fail(s, -EPROTO, "spawn of %s: unexpected status message", r->argv[0]);
		int rc = m.fd < 0 ? 0 : enf_notify_attach(s, __atomic_load_n(&h->pidfd, __ATOMIC_ACQUIRE),
							  __atomic_load_n(&h->pid, __ATOMIC_ACQUIRE), m.fd);
		if (rc < 0)
			return rc;
		setup = false;
		if (r->before_exec && (rc = r->before_exec(r->before_exec_arg)) < 0)
			return enf_fail(s, rc, "spawn of %s: refused before its exec (%s)", r->argv[0],
					strerror(-rc));
		if (send(h->sock, "g", 1, MSG_NOSIGNAL) != 1)
			return enf_fail(s, -errno, "spawn of %s: child vanished during set-up", r->argv[0]);
	}
}

static void kill_child(struct handshake *h)
{
	int fd = __atomic_load_n(&h->pidfd, __ATOMIC_ACQUIRE);
	if (fd >= 0)
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

#if defined(__x86_64__)
long enf_clone3_call(struct clone_args *ca, size_t size, void (*fn)(void *), void *arg);

static void child_entry(void *c)
{
	child_main(c);
}

#if defined(__SANITIZE_ADDRESS__)
void __asan_handle_vfork(void *sp);
#endif
/* The child's frames lay below our stack pointer; under ASan their poisoned
 * shadow would stay there (its vfork interceptor does the same). */
static void after_vfork(void)
{
#if defined(__SANITIZE_ADDRESS__)
	int here;
	__asan_handle_vfork(&here);
#endif
}

/* The helper thread: the handshake, and on failure the kill that ends the
 * caller's vfork wait. */
static void *handshake_main(void *arg)
{
	struct handshake *h = arg;
	h->rc = parent_handshake(h);
	if (h->rc < 0)
		kill_child(h);
	return NULL;
}

/* CLONE_VM | CLONE_VFORK: returns once the child has exec'd or died, with the
 * handshake's result in h->rc.  -ENOSYS: not possible here (no clone3, no
 * thread), nothing was started; the caller forks instead. */
static int spawn_vm(struct child_ctx *c, struct handshake *h)
{
	struct enf_cgroup *cg = &c->s->cg;
	pthread_t th;
	sigset_t all, old;
	h->pid = -1;
	h->pidfd = -1;
	if (pthread_create(&th, NULL, handshake_main, h) != 0)
		return -ENOSYS;
	struct clone_args ca = {
		.flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_PARENT_SETTID |
			 (cg->dirfd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&h->pidfd,
		.parent_tid = (uint64_t)(uintptr_t)&h->pid,
		.exit_signal = SIGCHLD,
		.cgroup = cg->dirfd >= 0 ? (uint64_t)cg->dirfd : 0,
	};
	c->in_cgroup = cg->dirfd >= 0;
	int mine = c->sock;     /* the child rewrites c->sock (it shares this memory) */
	/* no handler of ours may run in the child before it resets them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	long pid = enf_clone3_call(&ca, sizeof ca, child_entry, c);
	after_vfork();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(mine);            /* our copy: the helper sees EOF once the child's is gone */
	c->sock = -1;
	pthread_join(th, NULL);
	if (pid < 0)
		return (int)pid;
	h->pid = (pid_t)pid;
	return 0;
}
#else
static int spawn_vm(struct child_ctx *c, struct handshake *h)
{
	(void)c;
	(void)h;
	return -ENOSYS;
}
#endif

int enforce_spawn(struct enforce_session *s, const struct enforce_spawn_req *req, pid_t *pid,
		  int *pidfd)
{
	if (!s)
		return -EINVAL;
	*pid = -1;
	*pidfd = -1;
	int rc = check_req(s, req);
	if (rc < 0)
		return rc;
	char **env = NULL;
	if ((rc = enf_env_build(s, req->envp, &env)) < 0)
		return rc;
	int trap_fd;
	struct enf_trap *trap;
	char floor_opts[128];
	if ((rc = enf_trap_start(s, &trap_fd, &trap)) < 0)
		goto out;
	snprintf(floor_opts, sizeof floor_opts, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other",
		 trap_fd);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		rc = enf_fail(s, -errno, "spawn: socketpair: %s", strerror(errno));
		goto out;
	}
	struct child_ctx c = {
		.s = s, .req = req, .envp = env, .sock = sv[1], .parent = getpid(),
		.cwd = req->cwd ? req->cwd : s->workspace, .floor_opts = floor_opts,
		.landlock_fd = s->landlock_fd,
	};
	struct handshake h = { .s = s, .r = req, .trap = trap, .sock = sv[0], .pid = -1, .pidfd = -1 };
	pid_t p;
	int e = enf_spawn_copy_mm ? -ENOSYS : spawn_vm(&c, &h);
	if (e == 0) {
		p = h.pid;
		*pidfd = h.pidfd;
		rc = h.rc;
	} else if (e != -ENOSYS && e != -E2BIG) {
		close(sv[0]);
		if (c.sock >= 0)
			close(sv[1]);
		rc = enf_fail(s, e, "cannot create a process for %s: %s", req->argv[0], strerror(-e));
		goto out;
	} else {
		/* no CLONE_VM spawn here: a copy of our address space, on a fresh
		 * channel if spawn_vm() used up the first */
		if (c.sock < 0) {
			close(sv[0]);
			if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
				rc = enf_fail(s, -errno, "spawn: socketpair: %s", strerror(errno));
				goto out;
			}
			h.sock = sv[0];
		}
		c.sock = sv[1];
		p = spawn_clone(&c, pidfd);
		e = errno;
		close(sv[1]);
		if (p < 0) {
			close(sv[0]);
			rc = enf_fail(s, -e, "cannot create a process for %s: %s", req->argv[0], strerror(e));
			goto out;
		}
		h.pid = p;
		h.pidfd = *pidfd;
		rc = parent_handshake(&h);
	}
	close(sv[0]);
	if (rc < 0) {
		syscall(SYS_pidfd_send_signal, *pidfd, SIGKILL, NULL, 0);
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
		close(*pidfd);
		*pidfd = -1;
		goto out;
	}
	*pid = p;
	s->timed_out = false;
	if ((rc = enf_timer_arm_command(s, req->timeout_ms)) < 0)
		syscall(SYS_pidfd_send_signal, *pidfd, SIGKILL, NULL, 0);  /* the caller reaps it */
out:
	enf_env_free(env);
	return rc;
}
