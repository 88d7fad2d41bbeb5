/* shell/ private: prompt rendering (pure). */
#ifndef AGENTSH_SHELL_PROMPT_INT_H
#define AGENTSH_SHELL_PROMPT_INT_H

#include <stdbool.h>
#include <stddef.h>

#define PROMPT_DEFAULT "\\u@\\h:\\w\\s\\$ "

struct prompt_info {
	const char *user, *host, *home, *cwd;
	int status;             /* last $?; shown by \s when non-zero */
	bool root;              /* \$ gives '#' */
};

/* Expand tmpl: \u user, \h host up to the first '.', \H full host, \w cwd
 * (home as ~), \W last component of cwd, \s " [N]" when the last status N is
 * non-zero, \$ '#' for root else '$', \n newline, \\ backslash.  With color,
 * fields are wrapped in SGR sequences inside readline's \001..\002 markers.
 * Control characters from the fields (a directory name is agent-chosen) are
 * shown as '?', so a cwd cannot inject terminal escapes.  Returns the length
 * (truncated to len-1). */
size_t prompt_render(const char *tmpl, const struct prompt_info *pi, bool color,
		     char *out, size_t len);

#endif
