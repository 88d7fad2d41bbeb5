/* probe.c — what the running kernel offers, measured by trying it (in a throwaway
 * child, since a seccomp filter cannot be removed).  Cached per process. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/enforce_int.h"
#include "enforce/probe_int.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static struct enf_seccomp_caps caps;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static unsigned child_probe(void)
{
	unsigned r = 0;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_ERRNO }) == 0)
		r |= ENF_CAP_FILTER;
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
	if (fd >= 0) {
		r |= ENF_CAP_NOTIFY | ENF_CAP_KILLABLE;
	} else {
		fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (fd >= 0)
			r |= ENF_CAP_NOTIFY;
	}
	if (fd < 0)
		return r;
	if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0)
		r |= ENF_CAP_SYNC_WAKEUP;
	struct seccomp_notif_addfd a = { .id = 0x5eed, .srcfd = 0 };
	if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a) < 0 && errno == ENOENT)
		r |= ENF_CAP_ADDFD;           /* the ioctl exists; the id is unknown */
	if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &(__u64){ 0x5eed }) < 0 && errno == ENOENT)
		r |= ENF_CAP_ID_VALID;
	return r;
}

static void probe_once(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		caps.err = -errno;
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		caps.err = -errno;
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		unsigned r = child_probe();
		_exit(write(p[1], &r, sizeof r) == sizeof r ? 0 : 1);
	}
	close(p[1]);
	unsigned r = 0;
	if (read(p[0], &r, sizeof r) != sizeof r)
		caps.err = -EIO;
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	caps.flags = r;
}

/* Without a fork: seccomp(2) rejects unknown flags with EINVAL before it reads
 * the program, so a NULL program answers EFAULT exactly when the flags are
 * supported.  Nothing is installed.  The ioctls (ADDFD, SYNC_WAKE_UP) need a
 * listener and are checked on the first real one. */
unsigned enf_probe_seccomp_flags(void)
{
	unsigned r = 0;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_ERRNO }) == 0)
		r |= ENF_CAP_FILTER;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &(unsigned){ SECCOMP_RET_USER_NOTIF }) == 0 &&
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, NULL) < 0 &&
	    errno == EFAULT)
		r |= ENF_CAP_NOTIFY;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, NULL) < 0 &&
	    errno == EFAULT)
		r |= ENF_CAP_KILLABLE;
	return r;
}

const struct enf_seccomp_caps *enf_probe_seccomp(void)
{
	pthread_once(&once, probe_once);
	return &caps;
}
