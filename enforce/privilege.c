/* privilege.c — the supervisor's side of the privilege split.
 *
 * agentsh runs as root (a root service, or `sudo agentsh --user NAME`) or is
 * installed setuid root as a login shell.  In the setuid case the real uid is
 * the invoking account, and a process whose real uid is U can be signalled by
 * U: so the supervisor takes root for all three ids at once and remembers U as
 * the account the commands run as.  It also makes itself non-dumpable, so a
 * process of the session cannot read /proc/<agentsh>/mem or environ, nor
 * ptrace it (seccomp refuses ptrace anyway).  Commands get the account's ids in
 * the spawn child, verified, with no_new_privs. */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "enforce/enforce.h"

int enforce_privilege_init(uid_t *invoker, gid_t *invoker_gid, char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0) {
		snprintf(err, errlen, "cannot read the process credentials: %s", strerror(errno));
		return -errno;
	}
	*invoker = r;
	*invoker_gid = rg;
	if (e != 0) {
		/* unprivileged: only the reduced mode is possible (doctor says so) */
		return ENFORCE_PRIV_NONE;
	}
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		snprintf(err, errlen, "cannot make agentsh non-dumpable: %s", strerror(errno));
		return -errno;
	}
	if (r == 0)
		return ENFORCE_PRIV_ROOT;
	/* setuid root: become root for real before anything else runs */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0) {
		snprintf(err, errlen, "setuid agentsh cannot complete its privilege split "
			 "(setresuid/setresgid to root): %s; check the installation (docs/install.md)",
			 strerror(errno));
		return -EPERM;
	}
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {  /* the uid change reset it: set it again */
		snprintf(err, errlen, "cannot make agentsh non-dumpable: %s", strerror(errno));
		return -errno;
	}
	return ENFORCE_PRIV_SETUID;
}
