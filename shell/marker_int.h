/* shell/ private: control-protocol messages and the output sentinel. */
#ifndef AGENTSH_SHELL_MARKER_H
#define AGENTSH_SHELL_MARKER_H

#include <stdbool.h>
#include <stddef.h>

#define MARKER_OSC "6973"       /* OSC number of the sentinel: ESC ] 6973 ; SEQ BEL */
#define MARKER_MAX_MSG 4200

struct marker_msg {
	char kind;              /* 'D' command done (prompt), 'S' command starting */
	long seq;
	int status;             /* D: $? */
	char cwd[4097];         /* D: $PWD */
};

/* "D SEQ STATUS /CWD" or "S SEQ"; 0 or -EINVAL. */
int marker_parse(const char *buf, size_t n, struct marker_msg *m);

struct sentinel_scan {
	char hold[32];
	size_t nhold;
};

/* Copy in[0,n) to out (capacity >= n + 32), removing every sentinel
 * sequence; *found becomes true when one carried seq == expected.  Returns
 * the number of bytes written to out. */
size_t sentinel_filter(struct sentinel_scan *s, const char *in, size_t n, char *out,
		       long expected, bool *found);
/* Release a held partial match (at EOF). */
size_t sentinel_flush(struct sentinel_scan *s, char *out);

#endif
