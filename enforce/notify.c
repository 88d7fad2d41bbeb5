/* notify.c — supervisor life cycle (being implemented; fails closed). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "enforce/notify_int.h"

int enforce_notify_start(const struct notify_cfg *cfg, int listener_fd, struct notify **out)
{
	(void)cfg;
	*out = NULL;
	if (listener_fd >= 0)
		close(listener_fd);
	return -ENOSYS;
}

void enforce_notify_stop(struct notify *n)
{
	(void)n;
}

void enforce_notify_stats(const struct notify *n, struct notify_stats *out)
{
	(void)n;
	*out = (struct notify_stats){ 0 };
}

int enforce_trash_cli(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 2;
}
