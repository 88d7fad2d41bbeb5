/* The inline approval prompt on the session's outer terminal.
 *
 * agentsh draws it itself, full screen, while the shell holds the sandbox's
 * output and routes keystrokes here (docs/approvals.md, "Integrating the
 * prompt").  Every string shown comes from the sandbox (paths, argv, messages)
 * and is made inert first: control characters and escape sequences are shown as
 * \xNN, so nothing the agent chooses can move the cursor, recolour, or paint a
 * fake "approved".  The answer is only what agentsh reads from the outer
 * terminal, and it is only accepted with a proof: a TOTP code or a security-key
 * touch (plain y/n only on sessions configured as human-only). */
#include "approve/approve_int.h"
#include "pty/pty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_IN 64

/* Where the input is in an escape sequence.  What reaches the prompt is keys
 * and the terminal's own replies to queries; the sandbox can make the terminal
 * send replies (a title or colour report, DECRQSS) that carry text it chose, so
 * a string sequence is skipped whole, to its BEL or ST, not just its first
 * byte. */
enum key_seq {
	SEQ_NONE,
	SEQ_ESC,        /* ESC seen */
	SEQ_CSI,        /* ESC [ or ESC O: to the final byte 0x40-0x7e */
	SEQ_STR,        /* ESC ] P X ^ _ (OSC, DCS, SOS, PM, APC): to BEL or ESC \ */
	SEQ_STR_ESC,    /* ESC inside a string */
};

struct approve_prompt {
	struct approve_broker *b;
	char id[APPROVE_ID_MAX];
	enum approve_op op;
	char *target, *cmdline, *rule, *message, *argv;
	pid_t pid;
	uint64_t deadline_ms;
	int fd, rows, cols;
	char line[LINE_MAX_IN];
	size_t len;
	enum key_seq esc;       /* inside an escape sequence from the terminal */
	enum approve_prompt_state state;
	char note[256];         /* result of the last answer */
	unsigned methods;       /* what this request accepts (AP_M_BIT mask) */
};


static char *join_argv(char *const *argv)
{
	size_t n = 1;
	char *s;

	for (char *const *a = argv; a && *a; a++)
		n += strlen(*a) + 1;
	if (!(s = calloc(1, n)))
		return NULL;
	for (char *const *a = argv; a && *a; a++) {
		if (a != argv)
			strcat(s, " ");
		strcat(s, *a);
	}
	return s;
}

int approve_prompt_new(struct approve_broker *b, const struct approve_request *req,
		       int out_fd, int rows, int cols, struct approve_prompt **out)
{
	struct approve_prompt *p = calloc(1, sizeof(*p));
	char *argv = req ? join_argv(req->argv) : NULL;

	*out = NULL;
	if (!p || !req || !argv) {
		free(p);
		free(argv);
		return -ENOMEM;
	}
	p->b = b;
	memcpy(p->id, req->id, sizeof(p->id));
	/* Only the methods the request accepts are offered.  Not pending any
	 * more (answered meanwhile): offer the default, the prompt closes. */
	if (!(p->methods = ap_broker_methods(b, req->id)))
		p->methods = AP_M_BIT(APPROVE_M_TOTP) | AP_M_BIT(APPROVE_M_WEBAUTHN) |
			     (ap_broker_confirm_allowed(b) ? AP_M_BIT(APPROVE_M_CONFIRM) : 0);
	p->op = req->op;
	p->pid = req->pid;
	p->target = pty_inert(req->target);
	p->cmdline = pty_inert(req->cmdline);
	p->rule = pty_inert(req->rule);
	p->message = pty_inert(req->message);
	p->argv = pty_inert(argv);
	free(argv);
	p->deadline_ms = ap_now_ms() + (req->timeout_ms ? req->timeout_ms : APPROVE_DEFAULT_TIMEOUT_MS);
	p->fd = out_fd;
	p->rows = rows > 0 ? rows : 24;
	p->cols = cols > 20 ? cols : 80;
	if (!p->target || !p->cmdline || !p->rule || !p->message || !p->argv) {
		approve_prompt_free(p);
		return -ENOMEM;
	}
	*out = p;
	return 0;
}

void approve_prompt_free(struct approve_prompt *p)
{
	if (!p)
		return;
	free(p->target);
	free(p->cmdline);
	free(p->rule);
	free(p->message);
	free(p->argv);
	explicit_bzero(p->line, sizeof(p->line));
	free(p);
}

void approve_prompt_resize(struct approve_prompt *p, int rows, int cols)
{
	p->rows = rows > 0 ? rows : 24;
	p->cols = cols > 20 ? cols : 80;
}

const char *approve_prompt_id(const struct approve_prompt *p)
{
	return p->id;
}

struct out {
	char buf[16384];
	size_t n;
};

static void emit(struct out *o, const char *s)
{
	size_t l = strlen(s);

	if (o->n + l < sizeof(o->buf)) {
		memcpy(o->buf + o->n, s, l);
		o->n += l;
	}
}

/* One row: label and value, cut to the terminal width (by bytes of ASCII or
 * whole UTF-8 sequences, so a cut never splits a character). */
static void row(struct out *o, int cols, const char *label, const char *val)
{
	char tmp[1024];
	int w = 0, max = cols - 1;
	size_t j = 0;

	size_t i = 0;

	snprintf(tmp, sizeof(tmp), " %-10s %s", label, val ? val : "");
	for (; tmp[i] && w < max - 1 && j < sizeof(tmp) - 8; w++) {
		do
			o->buf[o->n + j++] = tmp[i++];
		while (tmp[i] && ((unsigned char)tmp[i] & 0xc0) == 0x80);
		if (o->n + j + 8 >= sizeof(o->buf))
			break;
	}
	o->n += j;
	/* the last column: the next character, or a mark that the value was cut
	 * (the whole request: `agentsh approve show ID` on another terminal) */
	if (tmp[i] && (unsigned char)tmp[i] < 0x80 && !tmp[i + 1]) {
		char c[2] = { tmp[i], 0 };
		emit(o, c);
	} else if (tmp[i]) {
		emit(o, "\u2026");
	}
	emit(o, "\033[K\r\n");
}

int approve_prompt_draw(struct approve_prompt *p)
{
	struct out o = { .n = 0 };
	uint64_t now = ap_now_ms();
	unsigned left = p->deadline_ms > now ? (unsigned)((p->deadline_ms - now + 999) / 1000) : 0;
	bool color = !getenv("NO_COLOR");
	bool small = p->rows < 18;      /* keep the answer lines on screen */
	char pid[64], tl[32], typed[LINE_MAX_IN + 8] = "> ";

	snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	snprintf(tl, sizeof(tl), "%u:%02u", left / 60, left % 60);
	emit(&o, "\033[?25h\033[H\033[2J");
	emit(&o, color ? "\033[1;7m" : "");
	row(&o, p->cols, "agentsh", "APPROVAL REQUIRED - a human must answer; the agent cannot");
	emit(&o, color ? "\033[0m" : "");
	row(&o, p->cols, "operation", approve_op_name(p->op));
	row(&o, p->cols, "target", p->target);
	row(&o, p->cols, "command", p->cmdline);
	row(&o, p->cols, "pid", pid);
	if (!small)
		row(&o, p->cols, "argv", p->argv);
	row(&o, p->cols, "rule", p->rule);
	row(&o, p->cols, "message", p->message);
	if (!small)
		row(&o, p->cols, "id", p->id);
	row(&o, p->cols, "time left", tl);
	if (!small)
		row(&o, p->cols, "", "");
	const char *how = "answer";
	if (p->methods & AP_M_BIT(APPROVE_M_TOTP)) {
		row(&o, p->cols, how, "TOTP code + Enter: approve once; code + s (123456s): for this session");
		how = "";
	}
	if (p->methods & AP_M_BIT(APPROVE_M_WEBAUTHN)) {
		row(&o, p->cols, how, "t + Enter: touch your security key (ts: for this session)");
		how = "";
	}
	row(&o, p->cols, how, p->methods & AP_M_BIT(APPROVE_M_CONFIRM) ? "y: approve once, n or d: deny"
									: "d + Enter: deny");
	row(&o, p->cols, "", p->note);
	/* masked: whoever watches the terminal learns only how many keys */
	memset(typed + 2, '*', p->len);
	typed[2 + p->len] = 0;
	emit(&o, typed);
	emit(&o, "\033[K");
	return pty_write_all(p->fd, o.buf, o.n);
}

static void set_note(struct approve_prompt *p, int rc, const char *err, const char *ok)
{
	if (rc == 0)
		snprintf(p->note, sizeof(p->note), "%s", ok);
	else
		snprintf(p->note, sizeof(p->note), "refused: %s", err[0] ? err : strerror(-rc));
}

static int answer_webauthn(struct approve_prompt *p, enum approve_verdict v, char *err, size_t errlen)
{
	struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };
	char *ch, *as = NULL;
	int rc;

	/* Not accepted here: let the broker refuse (and audit) it without a touch. */
	if (!(p->methods & AP_M_BIT(APPROVE_M_WEBAUTHN)))
		return approve_resolve(p->b, p->id, v, &(struct approve_proof){ .method = APPROVE_M_WEBAUTHN },
				       &tty, err, errlen);
	ch = ap_broker_challenge(p->b, p->id);
	if (!ch) {
		ap_err(err, errlen, "the request is no longer pending");
		return -ENOENT;
	}
	snprintf(p->note, sizeof(p->note), "touch your security key now");
	approve_prompt_draw(p);
	rc = approve_webauthn_sign(ch, getenv("AGENTSH_FIDO_DEVICE"), &as, err, errlen);
	free(ch);
	if (rc < 0)
		return -EACCES;
	rc = approve_resolve(p->b, p->id, v, &(struct approve_proof){ .method = APPROVE_M_WEBAUTHN,
			     .assertion_json = as }, &tty, err, errlen);
	free(as);
	return rc;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static int submit(struct approve_prompt *p)
{
	const struct approve_actor tty = { .uid = (uid_t)-1, .via = "tty" };
	struct approve_proof proof = { .method = APPROVE_M_TOTP };
	char err[512] = "", code[LINE_MAX_IN];
	enum approve_verdict v = APPROVE_ONCE;
	size_t n = p->len;
	int rc;

	memcpy(code, p->line, n);
	code[n] = 0;
	explicit_bzero(p->line, sizeof(p->line));
	p->len = 0;
	if (strcmp(code, "d") == 0 || strcmp(code, "deny") == 0 ||
	    (strcmp(code, "n") == 0 && ap_broker_confirm_allowed(p->b))) {
		rc = approve_resolve(p->b, p->id, APPROVE_DENY, NULL, &tty, err, sizeof(err));
		set_note(p, rc, err, "denied");
	} else if (strcmp(code, "t") == 0 || strcmp(code, "ts") == 0) {
		rc = answer_webauthn(p, code[1] ? APPROVE_SESSION : APPROVE_ONCE, err, sizeof(err));
		set_note(p, rc, err, "approved");
	} else if (strcmp(code, "y") == 0 && ap_broker_confirm_allowed(p->b)) {
		proof.method = APPROVE_M_CONFIRM;
		rc = approve_resolve(p->b, p->id, APPROVE_ONCE, &proof, &tty, err, sizeof(err));
		set_note(p, rc, err, "approved");
	} else {
		if (n && (code[n - 1] == 's' || code[n - 1] == 'S')) {
			v = APPROVE_SESSION;
			code[--n] = 0;
		}
		if (!all_digits(code, n)) {
			snprintf(p->note, sizeof(p->note), "refused: type a 6-digit code, t, or d");
			explicit_bzero(code, sizeof(code));
			return -EINVAL;
		}
		proof.totp_code = code;
		rc = approve_resolve(p->b, p->id, v, &proof, &tty, err, sizeof(err));
		set_note(p, rc, err, "approved");
	}
	explicit_bzero(code, sizeof(code));
	return rc;
}

/* Advance the escape-sequence state by one byte; true if the byte belongs to
 * a sequence (and is not an answer key).  CR and LF end an unterminated string,
 * so a stray ESC ] typed by hand cannot swallow the answer. */
static bool in_sequence(enum key_seq *st, unsigned char c)
{
	switch (*st) {
	case SEQ_NONE:
		if (c != 0x1b)
			return false;
		*st = SEQ_ESC;
		return true;
	case SEQ_ESC:
		*st = c == '[' || c == 'O' ? SEQ_CSI
		    : c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_' ? SEQ_STR
		    : c == 0x1b ? SEQ_ESC : SEQ_NONE;
		return true;
	case SEQ_CSI:
		if (c == 0x1b)
			*st = SEQ_ESC;
		else if ((c >= 0x40 && c <= 0x7e) || c == 0x18 || c == 0x1a)
			*st = SEQ_NONE;
		return true;
	case SEQ_STR:
	case SEQ_STR_ESC:
		if (c == '\r' || c == '\n') {
			*st = SEQ_NONE;
			return false;
		}
		if (*st == SEQ_STR_ESC) {
			if (c == '\\') {       /* ST */
				*st = SEQ_NONE;
				return true;
			}
			*st = SEQ_ESC;          /* the ESC ended the string and starts a sequence */
			return in_sequence(st, c);
		}
		*st = c == 0x1b ? SEQ_STR_ESC : c == 0x07 ? SEQ_NONE : SEQ_STR;
		return true;
	}
	return false;
}

enum approve_prompt_state approve_prompt_feed(struct approve_prompt *p, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && (p->state == APPROVE_PROMPT_OPEN || p->state == APPROVE_PROMPT_REJECTED); i++) {
		unsigned char c = (unsigned char)buf[i];
		if (in_sequence(&p->esc, c))
			continue;
		if (c == '\r' || c == '\n') {
			int rc = submit(p);
			p->state = rc == 0 ? APPROVE_PROMPT_SUBMITTED : rc == -ENOENT ? APPROVE_PROMPT_CLOSED
										 : APPROVE_PROMPT_REJECTED;
		} else if (c == 0x7f || c == 0x08) {
			if (p->len)
				p->line[--p->len] = 0;
		} else if (c == 0x15) {         /* Ctrl-U */
			explicit_bzero(p->line, sizeof(p->line));
			p->len = 0;
		} else if (c >= 0x20 && c < 0x7f && p->len < sizeof(p->line) - 1) {
			p->line[p->len++] = (char)c;
			p->line[p->len] = 0;
		}
	}
	if (p->state == APPROVE_PROMPT_OPEN || p->state == APPROVE_PROMPT_REJECTED)
		approve_prompt_draw(p);
	return p->state;
}

void approve_prompt_close(struct approve_prompt *p)
{
	if (p->state == APPROVE_PROMPT_OPEN || p->state == APPROVE_PROMPT_REJECTED)
		p->state = APPROVE_PROMPT_CLOSED;
}

int approve_prompt_erase(struct approve_prompt *p)
{
	return pty_write_all(p->fd, "\033[H\033[2J", 7);
}

int approve_prompt_restore(struct approve_prompt *p, const struct pty_screen *inner)
{
	int rc = approve_prompt_erase(p);

	return rc < 0 || !inner ? rc : pty_screen_redraw(inner, p->fd);
}
