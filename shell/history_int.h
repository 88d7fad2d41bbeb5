/* shell/ private: history file and file-system id switching. */
#ifndef AGENTSH_SHELL_HISTORY_INT_H
#define AGENTSH_SHELL_HISTORY_INT_H

#include <stdbool.h>
#include <sys/types.h>

struct shell_ctx;

/* Run file accesses with the account's fs uid/gid (root acting for it). */
struct fsid_save {
	bool active;
	uid_t uid;
	gid_t gid;
};
void fsid_enter(const struct shell_ctx *ctx, struct fsid_save *s);
/* Back to root's fs ids (the line editor's callbacks run with the account's)
 * for code that reaches root-owned state for the account by itself. */
void fsid_root(struct fsid_save *s);
void fsid_leave(struct fsid_save *s);

struct history_file {
	int fd;
	char procpath[64];
};

/* Open (creating) the account's history file and load it.  0 or -errno;
 * without a file history still works in memory. */
int history_open(const struct shell_ctx *ctx, struct history_file *h);
void history_add(const struct shell_ctx *ctx, struct history_file *h, const char *line);
void history_close(const struct shell_ctx *ctx, struct history_file *h);

#endif
