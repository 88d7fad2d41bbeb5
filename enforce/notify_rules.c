/* notify_rules.c — which syscalls go to the user-space supervisor.
 *
 * Only what needs a user-space decision is notified: a notified syscall costs
 * ~10 µs here against ~3 µs for a plain openat.  Read-only opens stay in the
 * kernel unless the policy gates reads with something other than allow/audit
 * (then every open is emulated, never CONTINUEd). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/syscall.h>

#include "enforce/notify_int.h"

/* Newer than the 6.1 UAPI headers. */
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif

bool enforce_notify_policy_gates_reads(const struct policy *p)
{
	size_t n = policy_file_rule_count(p);

	for (size_t i = 0; i < n; i++) {
		struct policy_file_rule_info r;

		if (policy_file_rule_get(p, i, &r) < 0)
			return true;            /* cannot tell: notify (fail closed) */
		if (r.decision == POLICY_ALLOW || r.decision == POLICY_AUDIT)
			continue;
		if (r.ops & POLICY_FILE_READ_OPS)
			return true;
	}
	return false;
}

static int notify_all(scmp_filter_ctx ctx, int nr)
{
	int rc = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);

	/* -EDOM/-EINVAL: the syscall does not exist on this arch (e.g. legacy
	 * open on arm64); nothing to trap then. */
	return rc == -EDOM || rc == -EINVAL ? 0 : rc;
}

/* Opens that write, create or truncate: notified; read-only ones are not. */
static int notify_open_writes(scmp_filter_ctx ctx, int nr, unsigned argi)
{
	static const struct { uint64_t mask, val; } m[] = {
		{ O_ACCMODE, O_WRONLY }, { O_ACCMODE, O_RDWR }, { O_ACCMODE, O_ACCMODE },
		{ O_CREAT, O_CREAT }, { O_TRUNC, O_TRUNC }, { O_TMPFILE, O_TMPFILE },
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		struct scmp_arg_cmp c = { argi, SCMP_CMP_MASKED_EQ, m[i].mask, m[i].val };
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 1, &c);

		if (rc == -EDOM)
			return 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Writes Landlock governs exactly (ABI >= 3): left to the kernel under
 * NOTIFY_RULES_KERNEL_WRITES, whose soundness writemode.c proves per policy. */
static const int landlock_writes[] = {
	SCMP_SYS(creat),
	SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rmdir),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(mknod), SCMP_SYS(mknodat),
	SCMP_SYS(truncate),
};

static const int always[] = {
	SCMP_SYS(openat2),
	SCMP_SYS(chmod), SCMP_SYS(fchmod), SCMP_SYS(fchmodat), __NR_fchmodat2,
	SCMP_SYS(chown), SCMP_SYS(fchown), SCMP_SYS(lchown), SCMP_SYS(fchownat),
	SCMP_SYS(ftruncate),
	SCMP_SYS(setxattr), SCMP_SYS(lsetxattr), SCMP_SYS(fsetxattr),
	SCMP_SYS(removexattr), SCMP_SYS(lremovexattr), SCMP_SYS(fremovexattr),
	__NR_setxattrat, __NR_removexattrat,
	SCMP_SYS(utimensat), SCMP_SYS(utimes), SCMP_SYS(futimesat), SCMP_SYS(utime),
	SCMP_SYS(execve), SCMP_SYS(execveat),
	SCMP_SYS(connect), SCMP_SYS(bind),
	SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill), SCMP_SYS(pidfd_send_signal),
	SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(rt_tgsigqueueinfo),
};

unsigned enforce_notify_filter_shape(const struct policy *p, unsigned flags)
{
	bool reads = (flags & NOTIFY_RULES_ALL_READS) ||
		     (!(flags & NOTIFY_RULES_NO_READS) && enforce_notify_policy_gates_reads(p));
	return (reads ? NOTIFY_SHAPE_READS : 0) |
	       (flags & NOTIFY_RULES_KERNEL_WRITES ? NOTIFY_SHAPE_KERNEL_WRITES : 0);
}

int enforce_notify_add_rules_ex(scmp_filter_ctx ctx, const struct policy *p, unsigned flags)
{
	int rc;

	if (!ctx || !p)
		return -EINVAL;
	unsigned shape = enforce_notify_filter_shape(p, flags);
	bool reads = shape & NOTIFY_SHAPE_READS, kwrites = shape & NOTIFY_SHAPE_KERNEL_WRITES;

	for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
		if ((rc = notify_all(ctx, always[i])) < 0)
			return rc;
	for (size_t i = 0; !kwrites && i < sizeof landlock_writes / sizeof landlock_writes[0]; i++)
		if ((rc = notify_all(ctx, landlock_writes[i])) < 0)
			return rc;
	if (reads) {
		if ((rc = notify_all(ctx, SCMP_SYS(open))) < 0 ||
		    (rc = notify_all(ctx, SCMP_SYS(openat))) < 0)
			return rc;
	} else if (!kwrites) {
		if ((rc = notify_open_writes(ctx, SCMP_SYS(open), 1)) < 0 ||
		    (rc = notify_open_writes(ctx, SCMP_SYS(openat), 2)) < 0)
			return rc;
	}
	/* sendto without an address goes to the connected peer, decided at connect. */
	struct scmp_arg_cmp has_addr = { 4, SCMP_CMP_NE, 0, 0 };
	if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, &has_addr)) < 0)
		return rc;
	/* sendmsg/sendmmsg carry their address inside user memory, which the
	 * filter cannot read: a unix datagram to a named socket needs a decision
	 * even when the BPF hooks carry the inet rules (NOTIFY_RULES_NO_INET only
	 * makes the supervisor CONTINUE inet ones quickly). */
	if ((rc = notify_all(ctx, SCMP_SYS(sendmsg))) < 0 ||
	    (rc = notify_all(ctx, SCMP_SYS(sendmmsg))) < 0)
		return rc;
	return 0;
}

int enforce_notify_add_rules(scmp_filter_ctx ctx, const struct policy *p)
{
	return enforce_notify_add_rules_ex(ctx, p, 0);
}
