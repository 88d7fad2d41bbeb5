/* seccomp.c — the session's seccomp program.
 *
 * Built once per session in the parent with libseccomp: the kernel-side surface
 * (errno or kill, no notification, no user-space cost) plus the notify rules of
 * enforce-notify.  Exported to raw BPF and loaded by the child with seccomp(2)
 * directly, because libseccomp 2.5.4 cannot set WAIT_KILLABLE_RECV.
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

/* Syscalls refused outright.  nr is the x86_64 number, used when libseccomp
 * 2.5.4 does not know the name (newer than its tables). */
static const struct surface_sys {
	const char *name;
	int nr;
	int err;
} surface[] = {
	/* io_uring performs opens and connects seccomp never sees */
	{ "io_uring_setup", 425, EPERM }, { "io_uring_enter", 426, EPERM },
	{ "io_uring_register", 427, EPERM },
	/* other processes' memory */
	{ "ptrace", 101, EPERM }, { "process_vm_readv", 310, EPERM },
	{ "process_vm_writev", 311, EPERM },
	/* kernel programmability and observation */
	{ "bpf", 321, EPERM }, { "perf_event_open", 298, EPERM },
	/* the filesystem namespace */
	{ "mount", 165, EPERM }, { "umount2", 166, EPERM }, { "pivot_root", 155, EPERM },
	{ "chroot", 161, EPERM }, { "move_mount", 429, EPERM }, { "fsopen", 430, EPERM },
	{ "fsconfig", 431, EPERM }, { "fsmount", 432, EPERM }, { "fspick", 433, EPERM },
	{ "open_tree", 428, EPERM }, { "mount_setattr", 442, EPERM },
	{ "open_tree_attr", 467, EPERM },
	/* namespaces; clone3 is refused with ENOSYS so libc falls back to clone,
	 * whose flags sit in a register the filter can see */
	{ "unshare", 272, EPERM }, { "setns", 308, EPERM }, { "clone3", 435, ENOSYS },
	/* kernel replacement and modules */
	{ "kexec_load", 246, EPERM }, { "kexec_file_load", 320, EPERM },
	{ "init_module", 175, EPERM }, { "finit_module", 313, EPERM },
	{ "delete_module", 176, EPERM },
	/* exploit primitives */
	{ "userfaultfd", 323, EPERM }, { "keyctl", 250, EPERM }, { "add_key", 248, EPERM },
	{ "request_key", 249, EPERM }, { "open_by_handle_at", 304, EPERM },
};

/* Socket families refused at socket(): the reference's default list plus the
 * DirtyFrag/DirtyDecrypt gateways (AF_RXRPC, AF_KEY).  NETLINK_XFRM is refused
 * by protocol so that NETLINK_ROUTE keeps working. */
static const int bad_families[] = {
	AF_ALG, AF_RXRPC, AF_KEY, AF_VSOCK, AF_RDS, AF_TIPC, AF_KCM, AF_X25, AF_AX25,
	AF_NETROM, AF_ROSE, AF_DECnet, AF_APPLETALK, AF_IPX, AF_LLC, AF_IEEE802154,
	AF_CAIF, AF_NFC, AF_PHONET, AF_ISDN, AF_ATMPVC, AF_ATMSVC, AF_IRDA, AF_SMC,
	AF_XDP, AF_MCTP, AF_QIPCRTR, AF_BLUETOOTH,
};

static const unsigned long ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	CLONE_NEWCGROUP,
};

/* Terminal ioctls that inject input or read the console. */
static const unsigned long bad_ioctls[] = { TIOCSTI, TIOCLINUX };

static int sys_nr(const struct surface_sys *e)
{
	int nr = seccomp_syscall_resolve_name(e->name);
	return nr == __NR_SCMP_ERROR ? e->nr : nr;
}

static int add_surface(scmp_filter_ctx ctx)
{
	int rc;
	for (size_t i = 0; i < sizeof surface / sizeof surface[0]; i++)
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(surface[i].err), sys_nr(&surface[i]), 0)) < 0)
			return rc;
	for (size_t i = 0; i < sizeof bad_families / sizeof bad_families[0]; i++) {
		struct scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, bad_families[i]);
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
						 &a)) < 0 ||
		    (rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair),
						 1, &a)) < 0)
			return rc;
	}
	struct scmp_arg_cmp xfrm[2] = {
		SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_NETLINK),
		SCMP_A2_64(SCMP_CMP_MASKED_EQ, 0xffffffffu, NETLINK_XFRM),
	};
	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 2, xfrm)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
		struct scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &a)) < 0)
			return rc;
	}
	/* mask 0x7fffffff: also the high-bit spellings (0x80000000|TIOCSTI and
	 * anything above bit 31, which the kernel truncates away) */
	for (size_t i = 0; i < sizeof bad_ioctls / sizeof bad_ioctls[0]; i++) {
		struct scmp_arg_cmp a = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0x7fffffffu, bad_ioctls[i]);
		if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &a)) < 0)
			return rc;
	}
	return 0;
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

int enf_seccomp_prepare(struct enforce_session *s, unsigned notify_flags)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return enf_fail(s, -ENOMEM, "seccomp: cannot create a filter context (out of memory)");
	int rc;
	const char *what = "the kernel-side syscall surface";
	/* foreign ABIs (ia32 int 0x80, x32) are not in the filter: kill */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
		goto out;
	if ((rc = add_surface(ctx)) < 0)
		goto out;
	if (s->cfg.policy) {
		what = "the policy's notify rules";
		if ((rc = enforce_notify_add_rules_ex(ctx, s->cfg.policy, notify_flags)) < 0)
			goto out;
		s->filter.notify = true;
	}
	what = "exporting the filter";
	rc = export_prog(ctx, &s->filter);
	s->filter.flags = s->filter.notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER |
					     (s->seccomp_killable ? SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0)
					   : 0;
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
