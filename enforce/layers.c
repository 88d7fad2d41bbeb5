/* layers.c — per-session preparation of the kernel layers (parent side), in
 * the order they depend on each other, and their release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "enforce/enforce_int.h"
#include "enforce/notify_int.h"
#include "enforce/probe_int.h"

static int prepare_seccomp_caps(struct enforce_session *s)
{
	unsigned f = enf_probe_seccomp_flags();
	if (!(f & ENF_CAP_FILTER))
		return enf_fail(s, -ENOSYS, "seccomp filters are not available in this kernel: the syscall "
				"surface cannot be restricted; refusing to start");
	if (s->cfg.policy && !(f & ENF_CAP_NOTIFY))
		return enf_fail(s, -ENOSYS, "seccomp user notification is not available (Linux 5.0+ needed): "
				"the policy's exec and file decisions cannot be enforced; refusing to start");
	s->seccomp_killable = f & ENF_CAP_KILLABLE;
	s->seccomp_sync_wakeup = true;   /* tried on each listener; doctor reports it */
	if (s->cfg.policy && !s->seccomp_killable)
		return enf_degrade(s, -ENOTSUP, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not available "
				   "(Linux 5.19+): signal-heavy programs may see notified syscalls restarted");
	return 0;
}

static int prepare_bpf(struct enforce_session *s)
{
	if (!s->cfg.policy)
		return 0;
	if (s->cg.dirfd < 0)
		return enf_degrade(s, -ENOTSUP, "no BPF guard without a session cgroup: no kernel-side exec "
				   "verification, network rules decided by the supervisor");
	int rc = bpf_guard_open(s->cg.dirfd, &s->bpf);
	if (rc < 0) {
		s->bpf = NULL;
		return enf_degrade(s, rc, "the BPF guard could not be attached to %s (%s): no kernel-side "
				   "exec verification and network rules", s->cg.path, strerror(-rc));
	}
	if ((rc = enf_net_install(s)) < 0)
		return rc;
	return enf_events_start(s);
}

/* Everything that does not need the BPF guard comes first: agentsh -c loads
 * the guard in a thread (bpf_guard_preload) and bpf_guard_open() waits for it,
 * so this work runs while the verifier does. */
int enf_layers_prepare(struct enforce_session *s)
{
	int rc;
	if ((rc = prepare_seccomp_caps(s)) < 0 || (rc = enf_limits_prepare(s)) < 0 ||
	    (rc = enf_landlock_prepare(s)) < 0 || (rc = enf_mountfloor_prepare(s)) < 0)
		return rc;
	return 0;
}

static unsigned notify_flags(const struct enforce_session *s, bool bpf_net)
{
	return (bpf_net ? NOTIFY_RULES_NO_INET : 0) |
	       (s->floor_covers_reads ? NOTIFY_RULES_NO_READS : 0) |
	       (s->kernel_writes ? NOTIFY_RULES_KERNEL_WRITES : 0);
}

/* The seccomp filter is compiled before the guard is opened, for the flags it
 * will most likely need (network decided by the guard whenever there is a
 * session cgroup), so the compile runs while bpf_guard_open() waits for a
 * preload; if the guard ends up not deciding the network, it is compiled
 * again without NOTIFY_RULES_NO_INET.  The filter applied always matches
 * s->bpf_net. */
int enf_layers_finish(struct enforce_session *s)
{
	int rc;
	/* read-only opens cost a round trip only when something the floor cannot
	 * hold gates reads (the floor reports its own denials: trap.c) */
	s->kernel_writes = enf_writemode_kernel(s->cfg.policy, s->landlock_fd >= 0 ? s->landlock_abi : 0,
						s->floor, s->nfloor, s->write_mode_why, sizeof s->write_mode_why);
	if (s->kernel_writes && !enf_mountfloor_ttys_covered(s)) {
		/* Landlock lets /dev/pts be written: only the supervisor can refuse
		 * the human's terminal when the floor does not cover it */
		s->kernel_writes = false;
		snprintf(s->write_mode_why, sizeof s->write_mode_why, "the terminal agentsh holds could "
			 "not be covered in the mount namespace; the supervisor decides every write");
	}
	bool guess = s->cfg.policy && s->cg.dirfd >= 0;
	if ((rc = enf_seccomp_prepare(s, notify_flags(s, guess))) < 0)
		return rc;
	if ((rc = prepare_bpf(s)) < 0)
		return rc;
	if (s->bpf_net == guess)
		return 0;
	free(s->filter.prog);
	s->filter = (struct enf_filter){ 0 };
	return enf_seccomp_prepare(s, notify_flags(s, s->bpf_net));
}

void enf_layers_release(struct enforce_session *s)
{
	enf_timer_stop(s);
	enf_notify_stop_all(s);
	enf_events_stop(s);
	bpf_guard_close(s->bpf);
	s->bpf = NULL;
	enf_mountfloor_release(s);
	free(s->filter.prog);
	s->filter.prog = NULL;
	if (s->landlock_fd >= 0)
		close(s->landlock_fd);
	s->landlock_fd = -1;
}
