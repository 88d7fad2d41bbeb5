/* notify_int.h — private interface between enforce-core (session, spawn, filter
 * loading) and enforce-notify (the seccomp user-notify supervisor that takes the
 * per-syscall policy decisions).  Nothing outside enforce/ may include it.
 *
 * Contract:
 *  1. enforce-core builds the session's libseccomp filter and calls
 *     enforce_notify_add_rules() on it: that adds SCMP_ACT_NOTIFY for exactly the
 *     syscalls that need a user-space decision (argument filters keep read-only
 *     opens in the kernel unless the policy gates reads).
 *  2. enforce-core loads the filter in the child with NEW_LISTENER |
 *     WAIT_KILLABLE_RECV, receives the listener fd, sets
 *     SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on it (NOTIFY_IOCTL_SET_FLAGS below)
 *     and calls enforce_notify_start() once per listener.  The supervisor takes
 *     ownership of listener_fd (closes it in enforce_notify_stop()).
 *  3. enforce_notify_stop() answers nothing more: every pending and future
 *     notified syscall then fails with ENOSYS (the kernel's behaviour when the
 *     listener closes) — enforce-core kills the tree (cgroup.kill) before or
 *     right after.
 *
 * Every path-bearing syscall is emulated (the supervisor performs it with the
 * target's fsuid/fsgid/groups, cwd and root; opens are injected with
 * SECCOMP_IOCTL_NOTIF_ADDFD|SEND).  CONTINUE is answered only where the
 * decision does not depend on target memory (signals to self, inet traffic
 * whose decision the kernel-side BPF hook takes, exec paired with the BPF
 * exec verification).
 */
#ifndef AGENTSH_NOTIFY_INT_H
#define AGENTSH_NOTIFY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "enforce/enforce.h"
#include "policy/policy.h"

struct audit;
struct approve_broker;
struct bpf_guard;

/* Not in the 6.1 UAPI headers. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

/* The policy checks the supervisor uses.  NULL members (or a NULL table) mean
 * the policy/ functions; unit tests may substitute their own deciders. */
struct notify_policy_ops {
	int (*check_exec)(const struct policy *p, const char *path, int argc,
			  const char *const *argv, struct policy_result *res);
	int (*check_file)(const struct policy *p, enum policy_file_op op, const char *path,
			  struct policy_result *res);
	int (*check_unix)(const struct policy *p, enum policy_unix_op op, const char *name,
			  bool is_abstract, struct policy_result *res);
	int (*check_net)(const struct policy *p, const struct sockaddr *sa, const char *domain,
			 struct policy_result *res);
	int (*check_signal)(const struct policy *p, int sig,
			    const struct policy_signal_info *info, struct policy_result *res);
	bool (*env_allowed)(const struct policy *p, const struct policy_result *cmd,
			    const char *name);
};

/* One decided operation, for callers that want more than the audit store
 * (tests, the shell's JSON result).  Strings are borrowed for the call. */
struct notify_event {
	const char *operation;          /* "open", "unlink", "execve", "kill", ... */
	const char *target;             /* path / address / "SIGTERM -> 1234" */
	const char *target2;            /* rename/link destination, redirect target */
	enum policy_decision decision;  /* the policy's answer */
	bool allowed;                   /* what happened (approve resolved, etc.) */
	int err;                        /* errno returned to the process, 0 = success */
	const char *rule;
	const char *message;
	pid_t pid;
};

/* A terminal agentsh holds for the human: its device node, by path and by
 * device (the path is also where the mount floor covers it).  No path found:
 * path "" and dev 0, refused by rdev on any device file system. */
#define NOTIFY_MAX_TTYS 4
struct notify_tty { char path[64]; dev_t dev, rdev; };

/* The /dev/pts name of a Unix 98 pty device (majors 136-143, 256 minors
 * each); false for any other device. */
static inline bool notify_pts_path(dev_t d, char *out, size_t len)
{
	unsigned maj = major(d);

	if (maj < 136 || maj > 143)
		return false;
	snprintf(out, len, "/dev/pts/%u", (maj - 136) * 256 + minor(d));
	return true;
}

struct notify_cfg {
	const struct policy *policy;            /* required */
	const struct notify_policy_ops *ops;    /* NULL: policy/ */
	struct enforce_account account;         /* fsuid/fsgid/groups for emulated ops */
	const char *session_id;

	/* Signal target classes.  cgroup_rel is the session's cgroup v2 path as it
	 * appears in /proc/PID/cgroup ("0::<cgroup_rel>"), e.g. "/agentsh/s-123";
	 * a process is in the session when its path equals it or lies below it. */
	const char *cgroup_rel;
	/* Processes that belong to the supervisor besides getpid() (watchdog,
	 * FUSE daemon, ...): class "parent", always refused. */
	const pid_t *protected_pids;
	size_t nprotected;

	/* Kernel-side exec verification (required unless allow_degraded). */
	struct bpf_guard *bpf;
	/* true when enforce-core installed network_rules in the BPF cgroup hooks:
	 * inet connect/sendto are then decided in the kernel and CONTINUEd here. */
	bool bpf_net;
	bool allow_degraded;

	struct audit *audit;                    /* NULL: no audit events */
	struct approve_broker *approvals;       /* NULL: approve = deny ("not configured") */

	/* One line for the human per deny/redirect/approve/soft-delete. */
	void (*notice)(void *ctx, const char *line);
	/* Every decision (optional; tests, JSON). */
	void (*event)(void *ctx, const struct notify_event *ev);
	void *hook_ctx;

	/* The terminals agentsh holds for the human: an open (or chmod, ...)
	 * of one is refused, whatever the policy says. */
	struct notify_tty held_tty[NOTIFY_MAX_TTYS];
	size_t nheld_tty;

	const char *trash_dir;                  /* NULL: NOTIFY_TRASH_DIR */
	const char *redirect_shell;             /* NULL: "/bin/sh" (command redirects) */
};

#define NOTIFY_TRASH_DIR "/var/lib/agentsh/trash"

/* Flags for enforce_notify_add_rules_ex(). */
#define NOTIFY_RULES_NO_READS    0x1u   /* never notify read-only opens (the floor carries read denies) */
#define NOTIFY_RULES_ALL_READS   0x2u   /* always notify read-only opens */
#define NOTIFY_RULES_NO_INET     0x4u   /* bpf carries network_rules: do not notify sendmsg */
#define NOTIFY_RULES_KERNEL_WRITES 0x8u /* Landlock + the floor decide writes (writemode.c proved it) */

/* Add SCMP_ACT_NOTIFY rules for every syscall that needs a user-space decision.
 * Read-only opens are notified only when the policy has a file rule that gates
 * reads with a decision other than allow/audit.  Returns 0 or -errno. */
int enforce_notify_add_rules(scmp_filter_ctx ctx, const struct policy *p);
int enforce_notify_add_rules_ex(scmp_filter_ctx ctx, const struct policy *p, unsigned flags);
/* All that the rules added by enforce_notify_add_rules_ex() depend on, so a
 * filter built once can stand for every later one of the same shape
 * (seccomp_cache.c). */
#define NOTIFY_SHAPE_READS         0x1u /* read-only opens are notified */
#define NOTIFY_SHAPE_KERNEL_WRITES 0x2u /* Landlock-governed writes are not */
unsigned enforce_notify_filter_shape(const struct policy *p, unsigned flags);
/* true when the policy has file rules that gate read-only access. */
bool enforce_notify_policy_gates_reads(const struct policy *p);

/* The syscall surface (seccomp.c).  With a policy the filter notifies these
 * rare refused calls instead of answering errno in the kernel, so that the
 * attempt is audited; the supervisor answers h->err, decided from the syscall
 * number and registers alone (the target's memory is never read).  false: nr
 * with these arguments is not part of the surface. */
struct surface_hit {
	const char *name;               /* syscall name, the audit operation */
	int err;                        /* errno, exactly what the in-kernel rule answers */
	const char *why;                /* message */
	char target[96];                /* the refused argument ("AF_ALG", "TIOCSTI (0x5412) on fd 0") */
};
bool enforce_surface_match(int nr, const uint64_t a[6], struct surface_hit *h);

/* faccessat(path, mode, AT_EACCESS) with the account's file-system identity
 * (fsuid, fsgid, groups), from any thread of a root supervisor, which gets
 * its own identity back: the kernel's answer, ACLs included.  0 or -errno. */
int enforce_access_as(const struct enforce_account *a, const char *path, int mode);

struct notify;

/* Start supervising listener_fd (ownership passes to the supervisor, also on
 * failure).  Refuses (-ENOTSUP) without cfg->bpf unless cfg->allow_degraded.
 * cfg is copied; pointed-to objects must outlive the supervisor. */
int enforce_notify_start(const struct notify_cfg *cfg, int listener_fd, struct notify **out);
/* Stop the threads, close the listener, free.  NULL is a no-op. */
void enforce_notify_stop(struct notify *n);

/* Counters (tests, bench, doctor). */
struct notify_stats {
	uint64_t notifications, allowed, denied, emulated, continued, errors;
	uint64_t handle_ns;             /* time spent deciding and acting (receive loop) */
};
void enforce_notify_stats(const struct notify *n, struct notify_stats *out);


/* A script's "#!" line as the kernel reads it from the file's first
 * ENF_SHEBANG_BUF bytes (hdr, n of them): the interpreter and its one
 * optional argument.  -1: the kernel would not run it as a script; 0: no
 * argument; 1: *arg is the argument (possibly "").  (notify_exec.c; exposed
 * for the tests, which hold it against the kernel's own reading.) */
#define ENF_SHEBANG_BUF 256             /* BINPRM_BUF_SIZE */
int enf_shebang(const char *hdr, size_t n, char *interp, size_t ilen, char *arg, size_t alen);

#endif
