/* pty — pseudo-terminal plumbing for agentsh: PTY pairs, the outer
 * terminal's raw mode (saved and restored on every exit path), window size
 * propagation, the output filter, and a libvterm model of the inner screen so a
 * prompt drawn over it (approvals) can be undone.  Depends on no other
 * agentsh module.
 *
 * Errors: 0 / -errno. */
#ifndef AGENTSH_PTY_H
#define AGENTSH_PTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <termios.h>

/* ------------------------------------------------------------ PTY pairs */

struct pty_pair {
	int master;             /* O_RDWR|O_NOCTTY|O_CLOEXEC */
	int slave;              /* O_RDWR|O_NOCTTY|O_CLOEXEC; -1 once closed */
	char name[64];          /* /dev/pts/N */
};

/* Open a pair; tio/ws may be NULL (kernel defaults; 24x80).  The slave is
 * opened too, so its termios can be set before any process uses it. */
int pty_open(struct pty_pair *p, const struct termios *tio, const struct winsize *ws);
void pty_close(struct pty_pair *p);

int pty_get_winsize(int fd, struct winsize *ws);
/* On a master: the kernel sends SIGWINCH to the slave's foreground group. */
int pty_set_winsize(int fd, const struct winsize *ws);
/* Copy the window size of from (the outer terminal) to to (a master). */
int pty_copy_winsize(int from, int to);

/* Write all of buf (retries EINTR/EAGAIN with poll). */
int pty_write_all(int fd, const void *buf, size_t n);
/* Write what a non-blocking fd takes now from buf[0..*n) and keep the rest
 * at the front of buf (*n updated).  0, or -errno when the fd is unusable
 * (then *n is 0: nobody will take the rest). */
int pty_write_some(int fd, char *buf, size_t *n);

/* ------------------------------------------------------------ the outer terminal */

struct pty_term {
	int fd;
	struct termios saved;
	bool valid;             /* saved holds the state to restore */
	bool raw;               /* currently in raw mode */
};

/* Remember fd's current state (and register it for pty_term_restore_all). */
int pty_term_save(struct pty_term *t, int fd);
/* cfmakeraw-like, keeping output processing off too; ISIG off so Ctrl-C etc.
 * arrive as bytes to be forwarded. */
int pty_term_raw(struct pty_term *t);
int pty_term_restore(struct pty_term *t);
/* Async-signal-safe: restore every saved terminal (crash handlers, atexit). */
void pty_term_restore_all(void);
/* Handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT that restore every
 * saved terminal, then die of the signal: a crash gives the terminal back. */
void pty_term_restore_on_crash(void);
void pty_term_forget(struct pty_term *t);

/* ------------------------------------------------------------ output filter */

/* What the sandbox prints, on its way to the outer terminal, minus the
 * sequences that act beyond the screen: OSC 52 (clipboard write and read-back),
 * CSI 20 t / 21 t (title reports typed back as input) and DECUDK (function-key
 * definitions).  Everything else passes unchanged.  Zero-initialise; the state
 * carries a sequence split across calls. */
#define PTY_OUTFILTER_HOLD 32
struct pty_outfilter {
	int st;
	unsigned num;
	size_t nheld;
	char held[PTY_OUTFILTER_HOLD + 2];
};
/* Filter n bytes of in into out, which must have room for n +
 * PTY_OUTFILTER_SLACK bytes; returns how many were written. */
#define PTY_OUTFILTER_SLACK (PTY_OUTFILTER_HOLD + 2)
size_t pty_outfilter(struct pty_outfilter *f, const char *in, size_t n, char *out);

/* A copy of untrusted text that does nothing on a terminal but show itself:
 * printable ASCII and UTF-8 characters stay; control characters, ESC, DEL,
 * C1 controls (also in their UTF-8 form) and stray bytes become \xNN.  For
 * text agentsh prints itself (notices, prompts) that names what the sandbox
 * chose: a path, a command line.  malloc'd; NULL when out of memory. */
char *pty_inert(const char *s);

/* ------------------------------------------------------------ screen model */

struct pty_screen;

int pty_screen_new(int rows, int cols, struct pty_screen **out);
void pty_screen_free(struct pty_screen *s);
/* Feed bytes written to the terminal (what the user sees). */
void pty_screen_feed(struct pty_screen *s, const char *buf, size_t n);
void pty_screen_resize(struct pty_screen *s, int rows, int cols);
void pty_screen_size(const struct pty_screen *s, int *rows, int *cols);
void pty_screen_cursor(const struct pty_screen *s, int *row, int *col);
/* UTF-8 text of row (0-based), trailing blanks removed; returns its length
 * (truncated to len-1), -EINVAL for a bad row. */
int pty_screen_row_text(const struct pty_screen *s, int row, char *buf, size_t len);
/* The program on the terminal switched to the alternate screen (a full-screen
 * program such as vim, less or top is running). */
bool pty_screen_altscreen(const struct pty_screen *s);
/* Repaint the whole screen on fd (clear, every cell with its attributes and
 * colours, then the cursor): undoes anything drawn over it. */
int pty_screen_redraw(const struct pty_screen *s, int fd);

#endif
