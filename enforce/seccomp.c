/* seccomp.c — the session's seccomp program.
 *
 * Built once per session in the parent with libseccomp: the syscall surface
 * plus the notify rules of enforce-notify.  Exported to raw BPF and loaded by
 * the child with seccomp(2) directly, because libseccomp 2.5.4 cannot set
 * WAIT_KILLABLE_RECV.
 *
 * The surface is decided by the filter alone (the syscall number and, for
 * socket/ioctl/clone, the refused argument value), so none of it costs
 * anything on a hot path.  With a policy (a notify supervisor exists) those
 * rare refused calls are NOTIFY instead of ERRNO: the supervisor answers the
 * same errno from the registers (enforce_surface_match) and audits the attempt,
 * which an in-kernel errno never reports.  If the supervisor is gone the call
 * fails anyway (ENOSYS).  Without a policy there is no supervisor: ERRNO.
 * Foreign ABIs stay an in-kernel kill.
 *
 * Integer arguments are compared on their low 32 bits (MASKED_EQ 0xffffffff):
 * the kernel truncates `int domain` and `unsigned int cmd`, so a 64-bit equality
 * test would let (1UL<<32)|AF_ALG or (1UL<<32)|TIOCSTI through. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "enforce/notify_int.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Why each group is refused (the audit message and the notice). */
#define W_URING "io_uring is not available in agent sessions (its operations bypass the syscall policy)"
#define W_MEM   "reading or controlling another process's memory is not allowed"
#define W_FDS   "taking another process's open files is not allowed"
#define W_KERN  "kernel programming and observation interfaces are not allowed"
#define W_MOUNT "changing the filesystem namespace (mount, chroot) is not allowed"
#define W_NS    "creating or entering namespaces is not allowed"
#define W_MOD   "loading kernels and kernel modules is not allowed"
#define W_EXPL  "this kernel interface is a common exploit primitive and is not allowed"
#define W_SOCK  "this socket family is not allowed in agent sessions"
#define W_TTY   "injecting terminal input or reading the console is not allowed"

/* Syscalls refused outright.  nr is the x86_64 number, used when libseccomp
 * 2.5.4 does not know the name (newer than its tables). */
static const struct surface_sys {
	const char *name;
	int nr;
	int err;
	const char *why;
} surface[] = {
	/* io_uring performs opens and connects seccomp never sees */
	{ "io_uring_setup", 425, EPERM, W_URING }, { "io_uring_enter", 426, EPERM, W_URING },
	{ "io_uring_register", 427, EPERM, W_URING },
	/* other processes' memory */
	{ "ptrace", 101, EPERM, W_MEM }, { "process_vm_readv", 310, EPERM, W_MEM },
	{ "process_vm_writev", 311, EPERM, W_MEM },
	/* another process's descriptors (a terminal, a socket to a server that
	 * runs outside the sandbox); Landlock's ptrace scope refuses it too */
	{ "pidfd_getfd", 438, EPERM, W_FDS },
	/* kernel programmability and observation */
	{ "bpf", 321, EPERM, W_KERN }, { "perf_event_open", 298, EPERM, W_KERN },
	/* the filesystem namespace */
	{ "mount", 165, EPERM, W_MOUNT }, { "umount2", 166, EPERM, W_MOUNT },
	{ "pivot_root", 155, EPERM, W_MOUNT }, { "chroot", 161, EPERM, W_MOUNT },
	{ "move_mount", 429, EPERM, W_MOUNT }, { "fsopen", 430, EPERM, W_MOUNT },
	{ "fsconfig", 431, EPERM, W_MOUNT }, { "fsmount", 432, EPERM, W_MOUNT },
	{ "fspick", 433, EPERM, W_MOUNT }, { "open_tree", 428, EPERM, W_MOUNT },
	{ "mount_setattr", 442, EPERM, W_MOUNT }, { "open_tree_attr", 467, EPERM, W_MOUNT },
	/* namespaces; clone3 is refused with ENOSYS so libc falls back to clone,
	 * whose flags sit in a register the filter can see.  clone3 stays in the
	 * kernel: glibc calls it for every fork/thread (a hot path), and its
	 * refusal is a fallback signal, not an escape attempt. */
	{ "unshare", 272, EPERM, W_NS }, { "setns", 308, EPERM, W_NS },
	{ "clone3", 435, ENOSYS, NULL },
	/* kernel replacement and modules */
	{ "kexec_load", 246, EPERM, W_MOD }, { "kexec_file_load", 320, EPERM, W_MOD },
	{ "init_module", 175, EPERM, W_MOD }, { "finit_module", 313, EPERM, W_MOD },
	{ "delete_module", 176, EPERM, W_MOD },
	/* exploit primitives */
	{ "userfaultfd", 323, EPERM, W_EXPL }, { "keyctl", 250, EPERM, W_EXPL },
	{ "add_key", 248, EPERM, W_EXPL }, { "request_key", 249, EPERM, W_EXPL },
	{ "open_by_handle_at", 304, EPERM, W_EXPL },
};

/* Socket families refused at socket(): the reference's default list plus the
 * DirtyFrag/DirtyDecrypt gateways (AF_RXRPC, AF_KEY), and other families no agent
 * needs whose code has been a local root exploit's way in (CAN BCM, PPPoL2TP,
 * TIPC, RDS, vsock).  NETLINK_XFRM is refused
 * by protocol so that NETLINK_ROUTE keeps working. */
#define F(af) { af, #af }
static const struct named { unsigned long v; const char *name; } bad_families[] = {
	F(AF_ALG), F(AF_RXRPC), F(AF_KEY), F(AF_VSOCK), F(AF_RDS), F(AF_TIPC), F(AF_KCM),
	F(AF_X25), F(AF_AX25), F(AF_NETROM), F(AF_ROSE), F(AF_DECnet), F(AF_APPLETALK),
	F(AF_IPX), F(AF_LLC), F(AF_IEEE802154), F(AF_CAIF), F(AF_NFC), F(AF_PHONET),
	F(AF_ISDN), F(AF_ATMPVC), F(AF_ATMSVC), F(AF_IRDA), F(AF_SMC), F(AF_XDP), F(AF_MCTP),
	F(AF_QIPCRTR), F(AF_BLUETOOTH), F(AF_CAN), F(AF_PPPOX),
};

static const struct named ns_flags[] = {
	F(CLONE_NEWNS), F(CLONE_NEWUTS), F(CLONE_NEWIPC), F(CLONE_NEWUSER), F(CLONE_NEWPID),
	F(CLONE_NEWNET), F(CLONE_NEWCGROUP),
};

/* Terminal ioctls that inject input or read the console. */
static const struct named bad_ioctls[] = { F(TIOCSTI), F(TIOCLINUX) };
#undef F

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define IOCTL_MASK 0x7fffffffu

static int sys_nr(const struct surface_sys *e)
{
	int nr = seccomp_syscall_resolve_name(e->name);
	return nr == __NR_SCMP_ERROR ? e->nr : nr;
}

/* notify: answer in the supervisor (audited); otherwise errno in the kernel. */
static uint32_t act(bool notify, int err)
{
	return notify ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO((uint32_t)err);
}

static int add_surface(scmp_filter_ctx ctx, bool notify)
{
	int rc;
	for (size_t i = 0; i < NELEM(surface); i++) {
		bool n = notify && surface[i].why;
		if ((rc = seccomp_rule_add(ctx, act(n, surface[i].err), sys_nr(&surface[i]), 0)) < 0)
			return rc;
	}
	for (size_t i = 0; i < NELEM(bad_families); i++) {
		struct scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, bad_families[i].v);
		if ((rc = seccomp_rule_add_array(ctx, act(notify, EAFNOSUPPORT), SCMP_SYS(socket), 1,
						 &a)) < 0 ||
		    (rc = seccomp_rule_add_array(ctx, act(notify, EAFNOSUPPORT), SCMP_SYS(socketpair),
						 1, &a)) < 0)
			return rc;
	}
	struct scmp_arg_cmp xfrm[2] = {
		SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_NETLINK),
		SCMP_A2_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, NETLINK_XFRM),
	};
	if ((rc = seccomp_rule_add_array(ctx, act(notify, EAFNOSUPPORT), SCMP_SYS(socket), 2, xfrm)) < 0)
		return rc;
	for (size_t i = 0; i < NELEM(ns_flags); i++) {
		struct scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i].v, ns_flags[i].v);
		if ((rc = seccomp_rule_add_array(ctx, act(notify, EPERM), SCMP_SYS(clone), 1, &a)) < 0)
			return rc;
	}
	/* mask 0x7fffffff: also the high-bit spellings (0x80000000|TIOCSTI and
	 * anything above bit 31, which the kernel truncates away) */
	for (size_t i = 0; i < NELEM(bad_ioctls); i++) {
		struct scmp_arg_cmp a = SCMP_A1_64(SCMP_CMP_MASKED_EQ, IOCTL_MASK, bad_ioctls[i].v);
		if ((rc = seccomp_rule_add_array(ctx, act(notify, EPERM), SCMP_SYS(ioctl), 1, &a)) < 0)
			return rc;
	}
	return 0;
}

static const char *named_find(const struct named *t, size_t n, unsigned long mask, unsigned long v)
{
	for (size_t i = 0; i < n; i++)
		if ((v & mask) == (t[i].v & mask))
			return t[i].name;
	return NULL;
}

/* The argument-matched rules, mirrored exactly (same masks as the filter). */
static bool match_args(int nr, const uint64_t a[6], struct surface_hit *h)
{
	const char *what;
	h->why = nr == SCMP_SYS(ioctl) ? W_TTY : nr == SCMP_SYS(clone) ? W_NS : W_SOCK;
	h->err = nr == SCMP_SYS(ioctl) || nr == SCMP_SYS(clone) ? EPERM : EAFNOSUPPORT;
	if (nr == SCMP_SYS(socket) || nr == SCMP_SYS(socketpair)) {
		h->name = nr == SCMP_SYS(socket) ? "socket" : "socketpair";
		if ((what = named_find(bad_families, NELEM(bad_families), 0xffffffffu, a[0])))
			snprintf(h->target, sizeof h->target, "%s", what);
		else if (nr == SCMP_SYS(socket) && (uint32_t)a[0] == AF_NETLINK &&
			 (uint32_t)a[2] == NETLINK_XFRM)
			snprintf(h->target, sizeof h->target, "AF_NETLINK/NETLINK_XFRM");
		else
			return false;
		return true;
	}
	if (nr == SCMP_SYS(ioctl)) {
		h->name = "ioctl";
		if (!(what = named_find(bad_ioctls, NELEM(bad_ioctls), IOCTL_MASK, a[1])))
			return false;
		snprintf(h->target, sizeof h->target, "%s (0x%llx) on fd %d", what,
			 (unsigned long long)a[1], (int)a[0]);
		return true;
	}
	if (nr == SCMP_SYS(clone)) {
		h->name = "clone";
		for (size_t i = 0; i < NELEM(ns_flags); i++)
			if ((a[0] & ns_flags[i].v) == ns_flags[i].v) {
				snprintf(h->target, sizeof h->target, "%s (flags 0x%llx)", ns_flags[i].name,
					 (unsigned long long)a[0]);
				return true;
			}
	}
	return false;
}

/* A readable target from the registers alone (never the target's memory). */
static void reg_target(const struct surface_sys *e, const uint64_t a[6], char *buf, size_t len)
{
	if (!strcmp(e->name, "ptrace"))
		snprintf(buf, len, "pid %d (request %lld)", (int)a[1], (long long)a[0]);
	else if (!strncmp(e->name, "process_vm_", 11))
		snprintf(buf, len, "pid %d", (int)a[0]);
	else if (!strcmp(e->name, "setns"))
		snprintf(buf, len, "fd %d", (int)a[0]);
	else if (!strcmp(e->name, "unshare"))
		snprintf(buf, len, "flags 0x%llx", (unsigned long long)a[0]);
	else if (!strcmp(e->name, "perf_event_open"))
		snprintf(buf, len, "pid %d", (int)a[1]);
	else if (!strcmp(e->name, "bpf"))
		snprintf(buf, len, "command %d", (int)a[0]);
	else if (!strcmp(e->name, "keyctl"))
		snprintf(buf, len, "operation %d", (int)a[0]);
	else
		buf[0] = 0;
}

bool enforce_surface_match(int nr, const uint64_t a[6], struct surface_hit *h)
{
	memset(h, 0, sizeof *h);
	for (size_t i = 0; i < NELEM(surface); i++)
		if (surface[i].why && sys_nr(&surface[i]) == nr) {
			h->name = surface[i].name;
			h->err = surface[i].err;
			h->why = surface[i].why;
			reg_target(&surface[i], a, h->target, sizeof h->target);
			return true;
		}
	return match_args(nr, a, h);
}

/* Export into a memfd (seccomp_export_bpf_mem is 2.5.5+), copy out. */
static int export_prog(scmp_filter_ctx ctx, struct enf_filter *f)
{
	int mfd = memfd_create("agentsh-seccomp", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	int rc = seccomp_export_bpf(ctx, mfd);
	off_t len = rc < 0 ? 0 : lseek(mfd, 0, SEEK_END);
	if (rc >= 0 && (len <= 0 || len % sizeof(struct sock_filter) ||
			len / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (rc >= 0) {
		f->prog = malloc((size_t)len);
		if (!f->prog)
			rc = -ENOMEM;
		else if (pread(mfd, f->prog, (size_t)len, 0) != len)
			rc = -EIO;
		f->len = (unsigned short)(len / sizeof(struct sock_filter));
	}
	close(mfd);
	return rc < 0 ? rc : 0;
}

static void set_flags(struct enforce_session *s)
{
	s->filter.flags = s->filter.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
					     (s->seccomp_killable ? SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0)
					   : 0;
}

int enf_seccomp_prepare(struct enforce_session *s, unsigned notify_flags)
{
	const struct policy *p = s->cfg.policy;
	unsigned shape = p ? 1u | enforce_notify_filter_shape(p, notify_flags) << 1 : 0;
	if (enf_seccomp_cache_load(shape, &s->filter) == 0) {
		s->filter.notify = p != NULL;
		set_flags(s);
		return 0;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return enf_fail(s, -ENOMEM, "seccomp: cannot create a filter context (out of memory)");
	int rc;
	const char *what = "the syscall surface";
	/* foreign ABIs (ia32 int 0x80, x32) are not in the filter: kill */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
		goto out;
	if ((rc = add_surface(ctx, s->cfg.policy != NULL)) < 0)
		goto out;
	if (s->cfg.policy) {
		what = "the policy's notify rules";
		if ((rc = enforce_notify_add_rules_ex(ctx, s->cfg.policy, notify_flags)) < 0)
			goto out;
		s->filter.notify = true;
	}
	what = "exporting the filter";
	rc = export_prog(ctx, &s->filter);
	set_flags(s);
	if (rc == 0)
		enf_seccomp_cache_store(shape, &s->filter);
out:
	seccomp_release(ctx);
	if (rc < 0)
		return enf_fail(s, rc, "seccomp: building %s failed: %s", what, strerror(-rc));
	return 0;
}

/* Child side: raw syscall only (no libseccomp, no allocation). */
int enf_seccomp_apply_child(struct enforce_session *s, int *listener)
{
	*listener = -1;
	if (!s->filter.prog)
		return 0;
	struct sock_fprog prog = { .len = s->filter.len, .filter = s->filter.prog };
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->filter.flags, &prog);
	if (fd < 0)
		return errno;
	if (s->filter.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
		*listener = (int)fd;
	return 0;
}
