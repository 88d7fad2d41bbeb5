/* enforce — the sandbox: the single entry point through which every delegate
 * (interactive or one-shot) is started, and the supervisor that enforces the
 * policy on it and on every process it starts.
 *
 * Contract with shell/: the shell builds an enforce_session once per agentsh
 * session, then calls enforce_spawn() for the delegate.  Everything the delegate
 * starts inherits the sandbox.  enforce_session_free() kills the whole session
 * (cgroup.kill) and releases every kernel object.
 *
 * Errors: functions return 0 or -errno; a human-readable explanation of the last
 * failure is available from enforce_strerror(s) (what failed, on what, what to do).
 */
#ifndef AGENTSH_ENFORCE_H
#define AGENTSH_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct policy;              /* policy/policy.h */
struct audit;               /* audit/audit.h */
struct approve_broker;      /* approve/approve.h */
struct enforce_session;

/* The account the commands run as (resolved by the shell from passwd/group). */
struct enforce_account {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	const char *name;
	const char *home;
};

/* Hooks the session calls from its supervisor thread(s).  All optional. */
struct enforce_hooks {
	void *ctx;
	/* A denied/redirected/approved operation, one line for the human:
	 * printed by the shell on the outer terminal or stderr. */
	void (*notice)(void *ctx, const char *line);
};

struct enforce_config {
	const struct policy *policy;        /* NULL: no policy decisions (not allowed outside tests) */
	struct enforce_account account;
	const char *session_id;             /* used for the cgroup name and audit */
	const char *workspace;              /* the session's workspace (cwd at start) */
	bool allow_degraded;                /* from the root-owned configuration only */
	struct enforce_hooks hooks;
	struct audit *audit;                /* NULL: no audit events (tests only) */
	struct approve_broker *approvals;   /* NULL: `approve` rules fail closed */
};

/* On failure *out may still hold a session that only carries the message for
 * enforce_strerror(); free it with enforce_session_free() either way.  It forks
 * the session's watchdog; call enforce_spawn() from a thread that lives as long
 * as the session (the delegate's parent-death signal is tied to that thread). */
int enforce_session_new(const struct enforce_config *cfg, struct enforce_session **out);

/* Optional, first thing in main() of a process that will start a session as root: fork
 * the session's watchdog while the process is still small (forking it later copies the
 * supervisor's page tables and leaves its pages copy-on-write).  The first session of
 * the process uses it; without it (or if it failed) the session forks its own. */
int enforce_watchdog_prefork(void);

struct enforce_spawn_req {
	char *const *argv;                  /* argv[0] is the program (absolute path) */
	char *const *envp;
	const char *cwd;                    /* NULL: the workspace */
	int stdio[3];                       /* installed as fds 0, 1, 2 in the child */
	int ctty;                           /* >= 0: setsid() and make this the controlling tty */
	/* extra fds passed through: child fd extra[i].to gets parent fd extra[i].from */
	struct { int from, to; } extra[4];
	size_t nextra;
	/* > 0: when this spawn has run this long, every process of the session is
	 * killed and enforce_session_timed_out() becomes true (the shell reports
	 * 124).  For `agentsh -c` pass enforce_command_timeout_ms(s). */
	unsigned timeout_ms;
	/* Optional: called once the sandbox around the program is complete and
	 * before the program is exec'd (from another thread of the caller's
	 * process, or this one), while the child waits.  A negative return
	 * refuses the spawn with that error: the child is killed before its
	 * exec, so nothing of the program runs.  The shell makes the command's
	 * start durable in the audit trail here, overlapping the commit with the
	 * sandbox set-up. */
	int (*before_exec)(void *arg);
	void *before_exec_arg;
};

/* The command timeout the policy (resource_limits.command_timeout) asks for, in
 * ms; 0 when none. */
unsigned enforce_command_timeout_ms(const struct enforce_session *s);

/* Deliver every kernel-side event pending now (BPF network refusals, filter
 * kills, exec-verification kills) to the audit store and the notice hook.  The
 * kernel batches low-rate events for up to ~50 ms: call this after a command's
 * delegate has exited and before its result (JSON) is assembled. */
void enforce_session_sync(struct enforce_session *s);

/* Tell the session something happened (a line typed, output produced): resets
 * the idle timeout (resource_limits.idle_timeout). */
void enforce_session_activity(struct enforce_session *s);

/* Start a process inside the session's sandbox: own cgroup (v2), no_new_privs,
 * the account's uid/gid/groups, seccomp + Landlock as the policy requires.
 * On success *pid is the child's pid and *pidfd a pidfd for it. */
int enforce_spawn(struct enforce_session *s, const struct enforce_spawn_req *req,
		  pid_t *pid, int *pidfd);

/* Send sig to every process of the session (SIGKILL uses cgroup.kill). */
int enforce_session_signal(struct enforce_session *s, int sig);

/* Kill everything, detach every hook, remove the cgroup, free. NULL is a no-op. */
void enforce_session_free(struct enforce_session *s);

const char *enforce_strerror(const struct enforce_session *s);

/* True when the session runs with a layer missing (only possible with
 * allow_degraded); *why (may be NULL) gets a one-line reason to show in the
 * prompt, in doctor and in every JSON result. */
bool enforce_session_degraded(const struct enforce_session *s, const char **why);

/* True when the session's file writes are decided in the kernel (Landlock +
 * the cover mounts) instead of being notified to the supervisor, which is
 * chosen only when provably equivalent to the policy (docs/enforcement.md,
 * "Write decisions").  *why (may be NULL) says why, either way. */
bool enforce_session_kernel_writes(const struct enforce_session *s, const char **why);

/* True once a timeout (command/session/idle) killed the session's processes:
 * the shell reports exit status 124 for the command. */
bool enforce_session_timed_out(const struct enforce_session *s);

/* Is this process inside an agentsh session: no_new_privs, a seccomp filter,
 * and a session's cgroup (which only root creates and fills)?  agentsh run
 * there ($SHELL in a session) cannot build a sandbox and needs none. */
bool enforce_inside_session(void);

/* How a soft delete's notice starts ("moved to trash: unlink PATH ..."):
 * the shell sums up a command's many of them. */
#define ENFORCE_NOTICE_TRASHED "moved to trash:"

/* `agentsh trash list|restore|purge ...` (argv[0] == "trash") for the account
 * who: its own entries only, restored only where it may write.  who->uid 0
 * acts on every entry and may name another trash (--trash-dir).  Exit status. */
int enforce_trash_run(int argc, char **argv, const struct enforce_account *who);

/* Privilege split: call first thing in main(), before parsing anything the
 * user controls.  Returns ENFORCE_PRIV_ROOT (started by root: --user may pick
 * the account), ENFORCE_PRIV_SETUID (installed setuid root: the process is now
 * fully root and the commands must run as *invoker — never an account named by
 * the environment or an option), ENFORCE_PRIV_NONE (no privilege: reduced mode,
 * sessions run degraded or are refused), or -errno with err filled.  The
 * supervisor is made non-dumpable whenever it holds root. */
enum { ENFORCE_PRIV_NONE = 0, ENFORCE_PRIV_ROOT = 1, ENFORCE_PRIV_SETUID = 2 };
int enforce_privilege_init(uid_t *invoker, gid_t *invoker_gid, char *err, size_t errlen);

/* `agentsh doctor [--json] [--policy FILE]`: argv[0] == "doctor", for the
 * account who (FILE is read with its file-system ids).  Prints the report,
 * returns the exit status (0 all layers available, 1 something missing,
 * 2 usage). */
int enforce_doctor_run(int argc, char **argv, const struct enforce_account *who);

#endif
