/* enforce_int.h — private to the enforce module (enforce-core and enforce-notify).
 * enforce-notify adds its own declarations in notify_int.h; this header is owned by
 * enforce-core.  Nothing outside enforce/ may include it. */
#ifndef AGENTSH_ENFORCE_INT_H
#define AGENTSH_ENFORCE_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "enforce/enforce.h"
#include "enforce/notify_int.h"

#define ENF_ERRLEN 1024
#define ENF_V1_MAX 3            /* v1 hierarchies we may join: pids, memory, cpu */
#define ENF_MAX_FLOOR 64        /* read-deny cover mounts per session */
#define ENF_MAX_SPAWNS 64       /* delegates per session (interactive: 1 plus restarts, -c: 1) */

/* One v1 controller hierarchy the session joins for its limits. */
struct enf_v1cg {
	char ctrl[16];              /* "pids", "memory" */
	char path[PATH_MAX];        /* the session's directory in that hierarchy */
	int tasks_fd;               /* O_WRONLY on <path>/tasks, written by the child (limits.c) */
};

struct enf_cgroup {
	char root[PATH_MAX];        /* the cgroup2 mount point, found in mountinfo */
	char path[PATH_MAX];        /* <root>/agentsh/<session-id> */
	int dirfd;                  /* O_DIRECTORY fd on path (clone3 CLONE_INTO_CGROUP) */
	bool created;
	struct enf_v1cg v1[ENF_V1_MAX];
	size_t nv1;
};

/* Precompiled per-session artefacts, built once in the parent so that the child
 * (forked from a possibly multithreaded supervisor) makes only raw syscalls. */
struct enf_filter {
	void *prog;                 /* struct sock_filter[], from libseccomp export */
	unsigned short len;         /* number of instructions */
	bool notify;                /* the filter contains SCMP_ACT_NOTIFY rules */
	unsigned long flags;        /* seccomp(2) flags */
};

struct notify;
struct bpf_guard;

struct enf_floor {
	char *path;                 /* resolved path covered in the delegate's mount ns */
	char *src;                  /* its trap node as the child sees it while mounting */
	const char *rule;           /* the deny rule (policy-owned), or agentsh's own */
	const char *msg;            /* said with a refusal the policy does not decide */
	bool is_dir;
};
struct enf_trap;

struct enforce_session {
	struct enforce_config cfg;   /* strings below are owned copies */
	char *session_id, *workspace, *acct_name, *acct_home;
	gid_t *groups;

	struct enf_cgroup cg;
	struct enf_filter filter;
	int landlock_fd;            /* ruleset fd or -1 */
	int landlock_abi;
	bool landlock_unbounded;    /* a non-deny write rule covers "/" */
	struct enf_floor floor[ENF_MAX_FLOOR];
	size_t nfloor;
	bool floor_covers_reads;    /* every read-gating rule is held by the mount floor */
	struct notify_tty held_tty[NOTIFY_MAX_TTYS];  /* the human's terminals (mountfloor.c): */
	size_t nheld_tty;           /* covered, and refused by the supervisor */
	bool kernel_writes;         /* writemode.c: Landlock + floor decide writes, not notified */
	char write_mode_why[256];   /* why (either way), for doctor, docs and the session record */
	struct enf_trap *traps[ENF_MAX_SPAWNS];  /* trap.c: one FUSE server per spawn */
	size_t ntraps;
	bool seccomp_killable;      /* kernel accepts WAIT_KILLABLE_RECV */
	bool seccomp_sync_wakeup;   /* kernel accepts SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */

	struct bpf_guard *bpf;      /* kernel-side exec verification + network, or NULL */
	bool bpf_net;               /* network_rules are decided in the BPF hooks */
	pthread_t events;           /* reader of the BPF ring buffer (events.c) */
	bool events_started;
	int events_stopfd;
	pthread_mutex_t events_lock;

	int watch_fd;               /* write end; the watchdog kills the tree on EOF */
	pid_t watch_pid;

	struct notify *notify[ENF_MAX_SPAWNS];  /* one supervisor per spawned filter */
	size_t nnotify;

	/* timeouts (limits.c) */
	pthread_t timer;
	bool timer_started, timer_stop;
	pthread_cond_t timer_cv;
	long deadline_cmd_ms, deadline_session_ms, idle_ms, last_activity_ms;

	pthread_mutex_t lock;
	char degraded[ENF_ERRLEN];  /* non-empty: the session runs degraded, and why */
	char err[ENF_ERRLEN];
	bool timed_out;
	bool privileged;            /* euid 0: we can switch to the account */
};

/* session.c */
int enf_fail(struct enforce_session *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A missing layer: refuses (returns -err) unless degraded operation is allowed,
 * in which case it records why and returns 0. */
int enf_degrade(struct enforce_session *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void enf_session_teardown(struct enforce_session *s);

/* layers.c: build the per-session layers (seccomp program, Landlock ruleset) in
 * the parent; apply them in the child with raw syscalls only.  Two steps: the
 * host-side layers (limits, Landlock, the mount floor), then — after the
 * watchdog knows every cgroup — the BPF guard and the seccomp filter that
 * depends on it. */
int enf_layers_prepare(struct enforce_session *s);
int enf_layers_finish(struct enforce_session *s);
void enf_layers_release(struct enforce_session *s);

int enf_seccomp_prepare(struct enforce_session *s, unsigned notify_flags);
/* seccomp_cache.c: the exported program of a shape (bit 0: a policy; above it
 * enforce_notify_filter_shape()), kept between sessions in
 * enf_seccomp_cache_dir (tests point it elsewhere).  load: 0 with f->prog and
 * f->len set, or -errno for a miss (nothing kept, or a file that is not
 * exactly what store wrote for this build and shape).  store: best effort. */
extern const char *enf_seccomp_cache_dir;
int enf_seccomp_cache_load(unsigned shape, struct enf_filter *f);
void enf_seccomp_cache_store(unsigned shape, const struct enf_filter *f);
int enf_landlock_prepare(struct enforce_session *s);
int enf_landlock_abi(void);
/* Paths Landlock always grants writes beneath (NULL-terminated). */
extern const char *const enf_landlock_always_writable[];
/* writemode.c: may write-class syscalls skip the notify supervisor?  true only
 * when Landlock + the given floor covers decide every write exactly as the
 * policy would; why gets the reason either way. */
bool enf_writemode_kernel(const struct policy *p, int landlock_abi, const struct enf_floor *floor,
			  size_t nfloor, char *why, size_t whylen);
/* The same decision for a session that would start now (doctor --policy). */
bool enf_writemode_preview(const struct policy *p, char *why, size_t whylen);
int enf_mountfloor_prepare(struct enforce_session *s);
void enf_mountfloor_release(struct enforce_session *s);
int enf_mountfloor_mount_child(struct enforce_session *s, const char *opts);
int enf_mountfloor_bind_child(struct enforce_session *s);
int enf_mountfloor_stage(struct enforce_session *s);
/* Has each terminal agentsh holds its cover in the floor?  If not, the
 * supervisor must see every open and write to refuse it. */
bool enf_mountfloor_ttys_covered(const struct enforce_session *s);
int enf_trap_start(struct enforce_session *s, int *child_fd, struct enf_trap **out);
void enf_trap_go(struct enf_trap *t);
void enf_trap_stop_all(struct enforce_session *s);

/* Child-side appliers: raw syscalls only; return 0 or a positive errno. */
int enf_landlock_apply_child(int ruleset_fd);
/* spawn.c; tests: spawn with a copy of the address space (fork), the path of
 * other architectures and kernels without clone3, instead of CLONE_VM */
extern bool enf_spawn_copy_mm;
int enf_seccomp_apply_child(struct enforce_session *s, int *listener);
/* Parent: the child's listener fd number; take it (pidfd_getfd) and start the
 * notify supervisor on it.  Returns 0 or -errno with the session's message set. */
int enf_notify_attach(struct enforce_session *s, int pidfd, pid_t pid, int child_fd);

void enf_notify_stop_all(struct enforce_session *s);
int enf_net_install(struct enforce_session *s);
int enf_events_start(struct enforce_session *s);
void enf_events_stop(struct enforce_session *s);

/* limits.c: v1 pids/memory cgroups and the timeout timer. */
int enf_limits_prepare(struct enforce_session *s);
int enf_timer_arm_command(struct enforce_session *s, unsigned ms);
void enf_timer_stop(struct enforce_session *s);

/* env.c: the delegate's environment after env_policy/env_inject. */
int enf_env_build(struct enforce_session *s, char *const *envp, char ***out);
void enf_env_free(char **env);

/* cgroup.c */
int enf_cg2_root(char *out, size_t n);
/* The mount point (field 5) of one /proc/self/mountinfo line (line is cut up),
 * with the kernel's \ooo escapes of blanks and backslashes decoded.  0,
 * -EINVAL (too few fields) or -ENAMETOOLONG. */
int enf_mountinfo_point(char *line, char *out, size_t n);
int enf_cg_valid_id(const char *id);
int enf_cg_create(struct enforce_session *s);
int enf_cg_kill(const struct enf_cgroup *cg);
int enf_cg_wait_empty(const struct enf_cgroup *cg, int timeout_ms);
void enf_cg_destroy(struct enf_cgroup *cg);
int enf_cg_signal(const struct enf_cgroup *cg, int sig);

/* watchdog.c: a process outside the session that kills it when we die. */
int enf_watchdog_start(struct enforce_session *s);
void enf_watchdog_stop(struct enforce_session *s);

#endif
