/* Persistent readline history, opened with the account's file-system ids:
 * agentsh may run as root for another account, and a symlink the agent
 * planted in its own home must not make root write elsewhere. */
#include "shell/shell_int.h"
#include "shell/history_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>

#define HISTORY_MAX 5000

void fsid_enter(const struct shell_ctx *ctx, struct fsid_save *s)
{
	s->active = geteuid() == 0 && ctx->acct.uid != 0;
	if (!s->active)
		return;
	s->gid = (gid_t)setfsgid(ctx->acct.gid);
	s->uid = (uid_t)setfsuid(ctx->acct.uid);
}

void fsid_root(struct fsid_save *s)
{
	s->active = geteuid() == 0;
	if (!s->active)
		return;
	s->gid = (gid_t)setfsgid(0);
	s->uid = (uid_t)setfsuid(0);
}

void fsid_leave(struct fsid_save *s)
{
	if (!s->active)
		return;
	setfsuid(s->uid);
	setfsgid(s->gid);
	s->active = false;
}

/* mkdir -p, each component created with the caller's current fs ids. */
static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The state directory comes from the passwd home, or XDG_STATE_HOME of the
 * caller's environment only when agentsh runs as that account (an agent's
 * variable must not point root somewhere). */
static int history_path(const struct shell_ctx *ctx, char *buf, size_t len)
{
	const char *x = getuid() == ctx->acct.uid ? shell_env_get(ctx, "XDG_STATE_HOME") : NULL;
	int n;
	if (x && x[0] == '/')
		n = snprintf(buf, len, "%s/agentsh", x);
	else
		n = snprintf(buf, len, "%s/.local/state/agentsh", ctx->acct.home);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int history_open(const struct shell_ctx *ctx, struct history_file *h)
{
	char dir[PATH_MAX];
	struct fsid_save fs;
	struct stat st;
	int r;

	h->fd = -1;
	stifle_history(HISTORY_MAX);
	if ((r = history_path(ctx, dir, sizeof(dir))) < 0)
		return r;
	fsid_enter(ctx, &fs);
	r = mkdirs(dir);
	if (r == 0) {
		char path[PATH_MAX + 16];
		snprintf(path, sizeof(path), "%s/history", dir);
		h->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
		if (h->fd < 0)
			r = -errno;
	}
	fsid_leave(&fs);
	if (r < 0)
		return r;
	if (fstat(h->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != ctx->acct.uid) {
		close(h->fd);
		h->fd = -1;
		return -EPERM;
	}
	/* readline takes names: this one reopens the very file we checked. */
	snprintf(h->procpath, sizeof(h->procpath), "/proc/self/fd/%d", h->fd);
	fsid_enter(ctx, &fs);
	read_history(h->procpath);
	fsid_leave(&fs);
	return 0;
}

void history_add(const struct shell_ctx *ctx, struct history_file *h, const char *line)
{
	HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
	struct fsid_save fs;
	if (!line[0] || (last && !strcmp(last->line, line)))
		return;
	add_history(line);
	if (h->fd < 0)
		return;
	fsid_enter(ctx, &fs);
	append_history(1, h->procpath);
	fsid_leave(&fs);
}

void history_close(const struct shell_ctx *ctx, struct history_file *h)
{
	struct fsid_save fs;
	if (h->fd < 0)
		return;
	fsid_enter(ctx, &fs);
	history_truncate_file(h->procpath, HISTORY_MAX);
	fsid_leave(&fs);
	close(h->fd);
	h->fd = -1;
}
