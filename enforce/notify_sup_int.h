/* notify_sup_int.h — internals shared by enforce-notify's own files
 * (notify*.c, trash.c).  enforce-core uses notify_int.h only. */
#ifndef AGENTSH_NOTIFY_SUP_INT_H
#define AGENTSH_NOTIFY_SUP_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "enforce/notify_int.h"

#define NOTIFY_MAX_ARGS   1024          /* exec argv/envp entries read for a decision */
#define NOTIFY_MAX_ARGB   (64 * 1024)   /* bytes of argv read */

struct notify {
	struct notify_cfg cfg;
	char *session_id, *cgroup_rel, *trash_dir, *redirect_shell;
	char *acct_name;                /* cfg.account.name's copy (trash manifests) */
	pid_t *protected_pids;
	gid_t *groups;

	int fd;                         /* seccomp listener */
	int wake;                       /* eventfd: stop / deferred work */
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;
	atomic_int root_same;           /* target root == ours: 1 yes, -1 no, 0 unknown */
	atomic_int root_fd;             /* the targets' root (O_PATH), -1 until first needed */
	pid_t self;                     /* getpid() of the supervisor */
	dev_t proc_dev;                 /* procfs's device (0: unknown, every file is asked) */
	gid_t *sup_groups;              /* the supervisor's own groups (restored) */
	int nsup_groups;

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned nworkers;              /* deferred handlers still running */
	struct made_set *made;          /* what the session created (notify_made.c) */
	uint64_t *abs_inos;             /* sockets the session bound to abstract names (under lock) */
	size_t nabs, capabs;

	atomic_uint_fast64_t st_notif, st_allow, st_deny, st_emul, st_cont, st_err, st_handle_ns;
};

/* One notification being handled.  Owned by the receive loop, or by a
 * deferred worker after notify_defer(). */
struct nreq {
	struct notify *n;
	struct seccomp_notif *req;
	pid_t pid;                      /* thread that made the syscall */
	pid_t tgid;
	bool answered;
	int nr;
	uint64_t a[6];
	/* what the decision is about, for notices/audit */
	const char *opname;
	char target[PATH_MAX];
	char target2[PATH_MAX];
	/* set only on a denial that changes nothing the agent could act on, to
	 * why ("kernel_refuses": the kernel refuses it to the account too;
	 * "own_session": the environ of one of the session's processes, which
	 * ps reads for every process): recorded with the reason, no notice,
	 * not reported as blocked */
	const char *quiet;
};

/* ---- notify.c: answering ---- */
int nr_continue(struct nreq *r);
int nr_error(struct nreq *r, int err);           /* err > 0: -err to the target; 0: success */
int nr_value(struct nreq *r, int64_t val);
int nr_addfd(struct nreq *r, int fd, bool cloexec);  /* ADDFD|SEND, closes fd */
bool nr_valid(struct nreq *r);                    /* SECCOMP_IOCTL_NOTIF_ID_VALID */
/* Move r to a worker thread running fn (target credentials applied); r is
 * copied, the receive loop goes on.  Answers EAGAIN-free: on failure to start
 * the worker, the request is denied. */
int notify_defer(struct nreq *r, void (*fn)(struct nreq *r, void *arg), void *arg);
/* References held by pending approvals/workers (stop waits for them). */
void notify_ref(struct notify *n);
void notify_unref(struct notify *n);
/* A heap copy of r (request included) / its release. */
struct nreq *nr_clone(const struct nreq *r);
void nr_free_clone(struct nreq *r);

/* ---- notify_mem.c: reading target memory ---- */
int nm_read(struct nreq *r, uint64_t addr, void *buf, size_t len);
/* NUL-terminated string, page by page; -ENAMETOOLONG when no NUL within len. */
int nm_read_str(struct nreq *r, uint64_t addr, char *buf, size_t len);
int nm_read_ptrs(struct nreq *r, uint64_t addr, uint64_t *out, size_t max, size_t *n);
int nm_write(struct nreq *r, uint64_t addr, const void *buf, size_t len);

/* ---- notify_creds.c: acting as the target ---- */
struct ncreds_saved { bool active; };
int nc_enter(struct notify *n, struct ncreds_saved *sv);   /* fsuid/fsgid/groups (sticky) */
void nc_leave(struct notify *n, struct ncreds_saved *sv);  /* no-op: see nc_root */
void nc_root(void);             /* back to the supervisor's identity */
int nc_drop_caps(void);         /* while the target: no effective capabilities */
void nc_need_caps(void);        /* before ptrace-checked calls (memory, pidfd_getfd, bpf) */
int nc_enter_net(struct notify *n, struct ncreds_saved *sv);  /* + euid/egid */
void nc_leave_net(struct notify *n, struct ncreds_saved *sv);
/* sendmsg on a unix socket inside nc_enter_net, stamped with the account's
 * uid/gid and the target's pid (tgid): bytes sent or -errno */
long nc_send_unix(struct notify *n, struct ncreds_saved *sv, pid_t tgid, int sock,
		  const void *data, size_t len, int flags, const struct sockaddr *sa,
		  socklen_t alen);
int nc_thread_init(void);                                   /* unshare(CLONE_FS) */
/* /proc/PID/ENTRY into buf (NUL-terminated): bytes read or -errno */
ssize_t nc_proc_read(pid_t pid, const char *entry, char *buf, size_t len);
int nc_umask(pid_t pid, mode_t *out);                       /* the target's umask */
int nc_ctty(pid_t pid, dev_t *out);        /* its controlling terminal (0: none), /proc's tty_nr */
/* /proc/PID/stat into buf; *after_comm: the fields after "(comm) " */
int nc_proc_stat(pid_t pid, char *buf, size_t len, char **after_comm);
int nc_tgid(pid_t tid, pid_t *tgid, pid_t *ppid);
/* One "Key:" line of /proc/PID/status (value without leading blanks). */
int nc_status_field(pid_t pid, const char *key, char *val, size_t len);
bool nc_in_session(struct notify *n, pid_t pid);

/* ---- notify_path.c: resolving paths as the target would ---- */
struct npath {
	int dirfd;                      /* O_PATH: parent directory (or the object itself) */
	char name[NAME_MAX + 2];        /* last component; "" when dirfd is the object */
	char abs[PATH_MAX];             /* canonical absolute path for the policy */
	bool trailing_slash;
};
void np_init(struct npath *p);
void np_free(struct npath *p);
/* dirfd argument of *at() syscalls (AT_FDCWD → the target's cwd) as an O_PATH fd. */
int np_dirfd(struct nreq *r, int dfd, int *out);
/* Resolve all but the last component of path (relative to dfd) and fill p. */
int np_parent(struct nreq *r, int dfd, const char *path, struct npath *p);
/* Resolve the whole path to an O_PATH fd of the object; follow: follow a
 * final symlink.  *abs (PATH_MAX) receives the canonical path. */
int np_object(struct nreq *r, int dfd, const char *path, bool follow, int *fd, char *abs);
/* openat2() with RESOLVE_* flags: the object (or with parent, its directory
 * and *name, NAME_MAX + 2) as an O_PATH fd in *out. */
int np_resolve2(struct nreq *r, int dfd, const char *path, uint64_t resolve, bool follow,
		bool parent, int *out, char *name);
/* Canonical path of an fd of ours; -ENOENT for deleted/anonymous objects
 * (then abs holds the kernel's description, e.g. "/memfd:x (deleted)"). */
int np_fd_path(int fd, char *abs, size_t len);
/* capabilities for the final open of a resolved object (procfs: CAP_SYS_PTRACE
 * in the target's own /proc/<tgid> tree, none elsewhere): 0 or -EACCES */
int np_final_caps(struct nreq *r, int fd);
/* The target's fd N as an O_PATH fd / a real dup (pidfd_getfd). */
int np_target_fd(struct nreq *r, int tfd, int *out);
int np_getfd(struct nreq *r, int tfd, int *out);
/* dir + "/" + name (name's trailing slash dropped; "." → dir). */
int np_join(char *abs, size_t len, const char *dir, const char *name);

/* ---- notify_decide.c: policy, notices, audit, approvals ---- */
struct ndecision {
	struct policy_result res;
	enum policy_kind kind;
	int op;                         /* enum policy_file_op / policy_unix_op / -1 */
};
int nd_file(struct nreq *r, enum policy_file_op op, const char *path, struct ndecision *d);
int nd_exec(struct nreq *r, const char *path, int argc, const char *const *argv,
	    struct ndecision *d);
int nd_unix(struct nreq *r, enum policy_unix_op op, const char *name, bool abstract,
	    struct ndecision *d);
int nd_net(struct nreq *r, const struct sockaddr *sa, struct ndecision *d);
int nd_signal(struct nreq *r, int sig, const struct policy_signal_info *info,
	      struct ndecision *d);
bool nd_env_allowed(struct nreq *r, const struct policy_result *cmd, const char *name);
/* A directory moved away from dir (ND_MOVED_AWAY), or a directory or link
 * put at dir (ND_PLACED_AT): deny when a non-allow file rule protects paths
 * below dir (their static glob prefix lies inside it). */
enum nd_subtree_way { ND_MOVED_AWAY, ND_PLACED_AT };
int nd_subtree(struct nreq *r, const char *dir, enum nd_subtree_way way, struct ndecision *d);
/* Stricter of two decisions (deny > approve > redirect > soft_delete > audit > allow). */
void nd_merge(struct ndecision *into, const struct ndecision *other);

/* Report one decision: audit event, notice line for deny/redirect/approve/
 * soft-delete, event hook.  err: errno given to the target (0 = success). */
void nd_report(struct nreq *r, const struct ndecision *d, bool allowed, int err,
	       const char *note);
/* A refusal not taken by a rule (unsupported, resolution failure). */
void nd_report_plain(struct nreq *r, const char *rule, int err, const char *msg);
/* A syscall-surface refusal: always audited (type surface_denied), notice. */
void nd_report_surface(struct nreq *r, const char *rule, int err, const char *msg);

/* Approval: submit and come back later.  On approval resume(r, arg) runs in a
 * worker with target creds; on refusal the request is answered with err and
 * discard(arg) releases arg.  When nd_approve returns < 0, or no broker is
 * configured, nothing was taken: the caller still owns arg. */
int nd_approve(struct nreq *r, struct ndecision *d, int err,
	       void (*resume)(struct nreq *r, void *arg), void *arg, void (*discard)(void *arg));

/* ---- handlers ---- */
void nh_file(struct nreq *r);           /* notify_file.c  */
void nh_file_fd(struct nreq *r);        /* fchmod/fchown/ftruncate/fsetxattr/... */
void nh_exec(struct nreq *r);           /* notify_exec.c  */
void nh_sock(struct nreq *r);           /* notify_sock.c  */
void nh_signal(struct nreq *r);         /* notify_signal.c */
bool nh_surface(struct nreq *r);        /* notify_surface.c: false = not surface */
bool nh_is_file(int nr);
bool nh_is_file_fd(int nr);
bool nh_is_sock(int nr);
bool nh_is_signal(int nr);

/* ---- notify_made.c ---- */
/* Record (dirfd, name) — "" for dirfd itself — as created by the session. */
void made_record(struct notify *n, int dirfd, const char *name);
/* true (and forgotten) when (dirfd, name) is something the session created. */
bool made_take(struct notify *n, int dirfd, const char *name);
bool made_known(struct notify *n, int dirfd, const char *name);   /* made_take without forgetting */

/* notify_ownsrv.c: before an allowed connect or send to the path socket at
 * objfd (O_PATH).  0: go on; otherwise the errno the target gets, reported. */
int ns_own_server_refusal(struct nreq *r, int objfd, const struct ndecision *d);
/* The same for an abstract name (name: its bytes after the leading NUL), and
 * the record of the session's own abstract binds (sock: the bound socket). */
int ns_own_abstract_refusal(struct nreq *r, const char *name, size_t len, const struct ndecision *d);
void ns_abstract_bound(struct notify *n, int sock);
int made_init(struct notify *n);
void made_free(struct notify *n);
size_t made_capacity(struct notify *n);     /* slots of the table (tests) */

/* ---- trash.c ---- */
/* Move (parentfd, name) — already decided — into the trash of its filesystem.
 * token (>= 64 bytes) receives the trash token.  Runs as root. */
int trash_divert(struct notify *n, int parentfd, const char *name, const char *abs,
		 uid_t uid, pid_t pid, char *token, size_t toklen);

#endif
