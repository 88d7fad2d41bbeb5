/* bpf — kernel-side guards for one agentsh session, scoped to a cgroup v2 directory.
 *
 * One bpf_guard covers every task in one cgroup v2 directory and its descendants (the
 * programs are loaded once per build and pinned under /sys/fs/bpf/agentsh/<build id>/,
 * shared by all sessions, which register their cgroup id):
 *   - exec verification: every exec in the session must have been announced with
 *     bpf_guard_expect_exec() by the notifier that decided it; at the sched_process_exec tracepoint
 *     the inode that really runs is compared with the announced one and the process is
 *     SIGKILLed before its first user instruction when they differ or nothing was announced;
 *   - process events (exec, fork, exit) through a ring buffer;
 *   - network: cgroup connect4/6 and sendmsg4/6 decide by CIDR, port range and protocol
 *     with first-match semantics (rule order = order of bpf_guard_net_add calls);
 *   - sock_create: only TCP stream and UDP datagram inet sockets may be created.
 * Every function returns 0 or -errno; nothing prints.  Pids are in the initial pid
 * namespace (the supervisor's), which is where the seccomp notifier sees them.
 * Details and limits: docs/bpf.md.
 */
#ifndef AGENTSH_BPF_H
#define AGENTSH_BPF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct bpf_guard;

/* ---- lifecycle ---- */

/* Load every program and attach it to the cgroup v2 directory `cgroup_v2_fd` (an O_RDONLY
 * directory fd; the guard keeps its own dup).  Until bpf_guard_net_default() is called the
 * network default is DENY and the exec mode is ENFORCE: an exec nobody announced is killed.
 * Use a fresh cgroup per session (-EBUSY: a guard is open on it already).  The programs
 * are loaded and verified (~7 ms) by the first session of this build since boot and
 * pinned under /sys/fs/bpf/agentsh/<build id>/; later sessions open the pins and register
 * their cgroup (docs/bpf.md, "Load once").
 * Errors: -ENOTDIR / -EINVAL (not a cgroup2 directory), -EOPNOTSUPP (the caller is not in
 * the initial pid namespace), -EPERM/-EINVAL/-E2BIG from the kernel (a program type or
 * helper refused here: see bpf_probe()), -ENOMEM.
 * Threads: bpf_guard_expect_exec/unexpect_exec may run in any thread concurrently with
 * bpf_guard_poll; everything else must be serialised by the caller.  A forked child may use
 * the guard's announcement functions (they only update a map through inherited fds), and
 * nothing else: the guard's mmapped maps (event ring, settings) are not inherited. */
int bpf_guard_open(int cgroup_v2_fd, struct bpf_guard **out);
/* Start the cgroup-independent part of bpf_guard_open() in a thread now — opening the
 * pinned programs (loading and pinning them if this is the first session of the build),
 * claiming a ring slot, mapping the ring — so that the next bpf_guard_open() in this
 * process only registers and attaches (it waits for the preload if it is still running,
 * and prepares itself when the preload failed).  For a caller that knows early that
 * it will open a guard (agentsh -c) and has other start-up work to overlap.  Idempotent;
 * 0 or -errno (pthread_create). */
int bpf_guard_preload(void);
/* Stop the exec verification and the events, and free; NULL is fine.  Close it only once
 * the cgroup is empty (or killed), and remove the cgroup next: the socket programs stay
 * attached to it (the session's network policy holds for anything still in it) until the
 * cgroup is removed, when the kernel releases them.  Do not open a second guard on it.
 * Closing unregisters the session: a straggler still in the cgroup is refused every inet
 * connect/send/socket, and its execs are no longer verified.  If the process holding the
 * guard dies without closing it, the session stays registered while its cgroup has
 * processes (network rules hold, every exec is killed: nobody can announce one) and the
 * next bpf_guard_open() anywhere sweeps it once the cgroup is gone or empty. */
void bpf_guard_close(struct bpf_guard *g);

/* ---- exec verification ---- */

/* Announce the exec the notifier is about to let through (call it right before answering
 * CONTINUE).  `pid` is the pid field of the seccomp notification, i.e. the id of the THREAD
 * that called execve/execveat (equal to the tgid for a single-threaded process).  (dev, ino)
 * is the file named by the exec (st_dev/st_ino as from stat(2)/fstat(2)); for a script
 * (shebang or binfmt_misc) pass the final interpreter in (interp_dev, interp_ino) — the
 * kernel then runs the interpreter and the check pins it; pass 0, 0 for an ELF (the dynamic
 * loader a binary names is not checked: bprm->file is the main binary).
 * One entry per thread; a new call replaces the previous one; the exec consumes it. */
int bpf_guard_expect_exec(struct bpf_guard *g, pid_t pid, dev_t dev, ino_t ino,
			  dev_t interp_dev, ino_t interp_ino);

/* The argument and environment bytes an exec decision saw, pinned by the same check: the
 * kernel copies argv/envp from the caller's memory only after the decision, so another
 * thread (or a process sharing that memory) could change them in between.  At
 * sched_process_exec the copied strings ([mm->arg_start, mm->env_end) of the new image)
 * are hashed with a keyed SipHash-2-4 (a random key per guard that never leaves the
 * supervisor) and compared; any difference is handled like a file mismatch
 * (BPF_WHY_ARGS).  An ELF's whole arg area is pinned; for a script (shebang,
 * binfmt_misc, the redirect script) the kernel replaces argv[0] with the interpreter, its
 * argument and the script's path, so only argv[1..] (the tail of the arg area) and the
 * whole environment are pinned.  Opaque: fill it with bpf_guard_exec_args(). */
struct bpf_exec_args {
	uint64_t hash;
	uint32_t alen, elen;
	uint32_t flags;
};
#define BPF_EXEC_ARGS_MAX (2u << 20) /* argv + envp bytes the kernel side can hash */

/* Digest of what the kernel will copy for an exec: `argv` holds the argv strings as read
 * from the caller, each with its NUL (argv_len bytes; 0 for an empty argv), `env` the envp
 * strings likewise.  `script`: the kernel will run an interpreter (see above).  Uses the
 * guard's key.  -E2BIG when more than BPF_EXEC_ARGS_MAX bytes would be hashed (the caller
 * decides whether the exec can go on unpinned), -EINVAL, -ENOMEM, -EIO (libcrypto). */
int bpf_guard_exec_args(struct bpf_guard *g, const char *argv, size_t argv_len, const char *env,
			size_t env_len, bool script, struct bpf_exec_args *out);
/* bpf_guard_expect_exec, also pinning the arguments (`args` NULL: the file only). */
int bpf_guard_expect_exec_args(struct bpf_guard *g, pid_t pid, dev_t dev, ino_t ino,
			       dev_t interp_dev, ino_t interp_ino, const struct bpf_exec_args *args);
/* Withdraw an announcement (the exec was denied after all or failed). */
int bpf_guard_unexpect_exec(struct bpf_guard *g, pid_t pid);

enum bpf_exec_mode {
	BPF_EXEC_ENFORCE = 0, /* mismatch or no announcement: SIGKILL + BPF_EV_EXEC_KILLED */
	BPF_EXEC_AUDIT = 1,   /* report BPF_EV_EXEC_MISMATCH, do not kill (degraded mode) */
};
int bpf_guard_exec_mode(struct bpf_guard *g, enum bpf_exec_mode mode);

/* ---- network ---- */

enum bpf_net_decision {
	BPF_NET_DENY = 0,  /* connect/sendmsg fails with EPERM, BPF_EV_NET_DENIED reported */
	BPF_NET_ALLOW = 1,
	BPF_NET_AUDIT = 2, /* allowed, BPF_EV_NET_AUDIT reported */
};

struct bpf_net_rule {
	int family;	   /* AF_INET or AF_INET6 (a v4-mapped ::ffff:a.b.c.d/96+n is stored as v4) */
	uint8_t addr[16];  /* network byte order: 4 bytes for AF_INET, 16 for AF_INET6 */
	uint8_t prefix;	   /* CIDR prefix length: 0..32 or 0..128 */
	uint8_t proto;	   /* 0 = any, IPPROTO_TCP, IPPROTO_UDP */
	uint16_t port_lo;  /* host byte order, inclusive; 0..65535 = any port */
	uint16_t port_hi;
	enum bpf_net_decision decision;
	uint32_t rule_id;  /* reported in events so the audit can name the policy rule */
};

/* Append a rule.  Rules are evaluated in the order they were added; the first rule whose
 * CIDR, port range and protocol contain the destination decides.  Host bits beyond the
 * prefix are ignored.  -E2BIG when more than BPF_NET_MAX_RULES rules, or more than
 * BPF_NET_MAX_CHAIN rules cover one address (nothing is changed then); -EINVAL,
 * -EAFNOSUPPORT, -EPROTONOSUPPORT for a malformed rule.  Add the rules before the session's
 * processes start: a rule added later takes effect node by node. */
#define BPF_NET_MAX_RULES 4096
#define BPF_NET_MAX_CHAIN 32
int bpf_guard_net_add(struct bpf_guard *g, const struct bpf_net_rule *r);
/* Decision when no rule matches (DENY until called). */
int bpf_guard_net_default(struct bpf_guard *g, enum bpf_net_decision d);
/* Optional DNS steering: UDP sendmsg and connects to port 53 (v4 and v6) go to this loopback
 * address instead (host byte order ip4 = 0x7f000001 style; port in host order); replies
 * look like they come from the original server.  port 0 turns it off. */
int bpf_guard_dns_redirect(struct bpf_guard *g, uint32_t ip4, uint16_t port);

/* ---- events ---- */

enum bpf_event_type {
	BPF_EV_EXEC = 1,	 /* exec completed (before its first instruction) */
	BPF_EV_FORK = 2,	 /* new process (not thread); pid = child, ppid = parent */
	BPF_EV_EXIT = 3,	 /* last thread of a process exited; exit_status is a wait status */
	BPF_EV_EXEC_KILLED = 4,	 /* verification failed, SIGKILL sent */
	BPF_EV_EXEC_MISMATCH = 5, /* same, in BPF_EXEC_AUDIT mode: not killed */
	BPF_EV_NET_DENIED = 6,
	BPF_EV_NET_AUDIT = 7,
	BPF_EV_SOCK_DENIED = 8,	 /* inet socket other than TCP/UDP refused; net.proto, net.port = type */
	BPF_EV_LOST = 9,	 /* `lost` events were dropped because the ring buffer was full */
};

enum bpf_exec_why {
	BPF_WHY_NONE = 0,
	BPF_WHY_NO_ENTRY = 1,	/* nobody announced this exec */
	BPF_WHY_MISMATCH = 2,	/* the file that runs is not the announced one */
	BPF_WHY_NOT_SCRIPT = 3, /* an interpreter was announced but no script was run */
	BPF_WHY_SCRIPT = 4,	/* an ELF was announced but the kernel ran an interpreter */
	BPF_WHY_ARGS = 5,	/* the arguments or environment changed after the decision */
};

#define BPF_EVF_TRUNCATED 1u /* filename was cut to fit */
#define BPF_EVF_SCRIPT 2u    /* the kernel ran an interpreter (shebang/binfmt_misc) */
#define BPF_EVF_KILL_FAILED 4u /* bpf_send_signal failed: the process was NOT killed */

struct bpf_event {
	enum bpf_event_type type;
	pid_t pid;	  /* tgid */
	pid_t tid;	  /* thread (exec: the thread that called execve, before it took the tgid) */
	pid_t ppid;	  /* real parent's tgid (process events; 0 in network events) */
	uid_t uid;
	uint32_t flags;	  /* BPF_EVF_* */
	uint64_t ts_ns;	  /* CLOCK_MONOTONIC */
	uint64_t cgroup_id;
	char comm[16];
	int exit_status;  /* BPF_EV_EXIT: wait status (WIFEXITED/WEXITSTATUS/WTERMSIG work) */
	uint64_t lost;	  /* BPF_EV_LOST */
	struct {	  /* BPF_EV_EXEC*, from bprm->file: what really runs */
		dev_t dev;
		ino_t ino;
		dev_t expect_dev; /* the announced file (0, 0 when none) */
		ino_t expect_ino;
		enum bpf_exec_why why;
	} exec;
	struct {	  /* BPF_EV_NET_*, BPF_EV_SOCK_DENIED */
		int family;	/* AF_INET / AF_INET6 (v4-mapped reported as AF_INET6) */
		uint8_t addr[16];
		uint16_t port;	/* host byte order */
		uint16_t proto;	/* IPPROTO_TCP / IPPROTO_UDP / the refused socket's protocol */
		uint8_t op;	/* 1 connect, 2 sendmsg, 3 socket, 4 a datagram of a UDP socket whose connect was denied */
		uint32_t rule_id; /* UINT32_MAX: the default decided */
	} net;
	char filename[256]; /* BPF_EV_EXEC*: the path given to execve (bprm->filename) */
};

/* Wait up to timeout_ms (0 = don't wait, -1 = forever) for events, then deliver every
 * pending event to cb.  Returns the number delivered or -errno (-EINTR is returned as 0). */
int bpf_guard_poll(struct bpf_guard *g, int timeout_ms,
		   void (*cb)(void *ctx, const struct bpf_event *ev), void *ctx);
/* An fd for epoll/poll: readable when bpf_guard_poll(g, 0, ...) has work.  Low-rate events
 * are flushed by an internal timer (BPF wakes the reader only per batch or for exec kills, and
 * the rest waits for the timer), so latency is bounded by ~50 ms without busy polling. */
int bpf_guard_fd(const struct bpf_guard *g);

/* ---- diagnostics for `agentsh doctor` ---- */

enum bpf_feature {
	BPF_FEAT_TP_BTF_EXEC = 0, /* sched_process_exec tracepoint, raw_tp (exec verification, events) */
	BPF_FEAT_TP_BTF_FORK,
	BPF_FEAT_TP_BTF_EXIT,
	BPF_FEAT_SEND_SIGNAL,	  /* bpf_send_signal from the exec tracepoint */
	BPF_FEAT_RINGBUF,
	BPF_FEAT_CONNECT4,
	BPF_FEAT_CONNECT6,
	BPF_FEAT_SENDMSG4,
	BPF_FEAT_SENDMSG6,
	BPF_FEAT_RECVMSG4,
	BPF_FEAT_RECVMSG6,
	BPF_FEAT_SOCK_CREATE,
	BPF_FEAT_LPM_TRIE,
	BPF_FEAT_CGROUP_V2,	  /* a cgroup2 mount to attach to */
	BPF_FEAT_LSM,		  /* extra layer where offered; refused here */
	BPF_FEAT_FENTRY,
	BPF_FEAT__COUNT
};

struct bpf_feature_status {
	const char *name;   /* "raw_tp/sched_process_exec", ... (static string) */
	bool ok;
	int err;	    /* -errno of the failed load/attach when !ok */
	char detail[256];   /* why not / where (e.g. the cgroup2 mount point) */
};

struct bpf_probe_report {
	struct bpf_feature_status f[BPF_FEAT__COUNT];
	bool guard_usable;	/* every feature bpf_guard_open needs is present */
	char cgroup2_mount[128];
};

/* Load (without attaching to anything live) each program type and helper the guard uses,
 * plus LSM/fentry for information.  Returns 0 when the report was filled (even if features
 * are missing), -errno when probing itself failed. */
int bpf_probe(struct bpf_probe_report *r);

/* The guard's programs are loaded once per build and pinned (docs/bpf.md, "Load once"):
 * what is pinned now.  Reads only; creates, locks and sweeps nothing. */
struct bpf_pin_report {
	char dir[128];		/* this build's directory: /sys/fs/bpf/agentsh/<build id> */
	bool present;		/* it exists (a session of this build has run since boot) */
	bool valid;		/* its pins are what this build creates (else the next session
				 * replaces them) */
	int sessions;		/* sessions registered in it now (-1 when not readable) */
	int stale;		/* of which dead (cgroup gone, or supervisor gone and cgroup
				 * empty): swept by the next session */
	int other_builds;	/* directories of other builds still pinned (in use, or swept
				 * by the next session) */
	int err;		/* -errno when !valid and present: what failed */
};
int bpf_pin_report(struct bpf_pin_report *r);

/* Human readable name of a decision / event type (static strings). */
const char *bpf_net_decision_name(enum bpf_net_decision d);
const char *bpf_event_type_name(enum bpf_event_type t);

#endif
