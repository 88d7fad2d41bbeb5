/* shell/ private: the read-only "is this command complete?" check. */
#ifndef AGENTSH_SHELL_SYNTAX_INT_H
#define AGENTSH_SHELL_SYNTAX_INT_H

#include <stdbool.h>
#include <sys/types.h>

/* 1: incomplete (show PS2), 0: complete or a real syntax error (send it; the
 * delegate reports errors), <0: the check could not run (treat as complete). */
int syntax_incomplete(const char *bash, const char *text, uid_t uid, gid_t gid);
/* Does a `bash -n` error text (LC_ALL=C) mean "needs more input"? */
bool syntax_msg_incomplete(const char *err);

#endif
