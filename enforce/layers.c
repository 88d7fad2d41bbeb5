/* layers.c — per-session preparation of the kernel layers (parent side). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "enforce/enforce_int.h"

int enf_layers_prepare(struct enforce_session *s)
{
	(void)s;
	return 0;
}

void enf_layers_release(struct enforce_session *s)
{
	free(s->filter.prog);
	s->filter.prog = NULL;
	if (s->landlock_fd >= 0)
		close(s->landlock_fd);
	s->landlock_fd = -1;
}

int enf_landlock_apply_child(struct enforce_session *s)
{
	(void)s;
	return 0;
}

int enf_seccomp_apply_child(struct enforce_session *s, int *listener)
{
	(void)s;
	*listener = -1;
	return 0;
}

int enf_notify_attach(struct enforce_session *s, int pidfd, pid_t pid, int child_fd)
{
	(void)pidfd;
	(void)pid;
	(void)child_fd;
	return enf_fail(s, -ENOSYS, "the seccomp notify supervisor is not built in; refusing to run "
			"a filter whose notified syscalls nobody would answer");
}
