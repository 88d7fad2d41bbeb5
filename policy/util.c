/* Small parsers and names shared by the loader, the evaluator and the CLI. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy_int.h"

/* ---------------------------------------------------------------- names */

static const char *const decision_names[POLICY_NDECISIONS] = {
	"allow", "deny", "approve", "redirect", "audit", "soft_delete", "absorb",
};

const char *policy_decision_name(enum policy_decision d)
{
	return (unsigned)d < POLICY_NDECISIONS ? decision_names[d] : "invalid";
}

int policy_decision_parse(const char *s, enum policy_decision *out)
{
	for (int i = 0; i < POLICY_NDECISIONS; i++)
		if (!strcmp(s, decision_names[i])) {
			*out = (enum policy_decision)i;
			return 0;
		}
	return -EINVAL;
}

static const char *const file_op_names[POLICY_FILE_NOPS] = {
	"read", "write", "create", "delete", "rename", "link", "symlink", "mkdir",
	"rmdir", "chmod", "chown", "truncate", "xattr", "mknod", "exec", "open",
	"stat", "list", "readlink", "access",
};

const char *policy_file_op_name(enum policy_file_op op)
{
	return (unsigned)op < POLICY_FILE_NOPS ? file_op_names[op] : "invalid";
}

int policy_file_op_parse(const char *s, enum policy_file_op *out)
{
	for (int i = 0; i < POLICY_FILE_NOPS; i++)
		if (!strcmp(s, file_op_names[i])) {
			*out = (enum policy_file_op)i;
			return 0;
		}
	if (!strcmp(s, "unlink")) {
		*out = POLICY_FILE_DELETE;
		return 0;
	}
	return -EINVAL;
}

#define B(op) POLICY_FILE_OP_BIT(POLICY_FILE_##op)
/* A rule's operation word -> the set of checked operations it covers. */
uint32_t pol_file_ops_from_word(const char *w, bool *ok)
{
	*ok = true;
	if (!strcmp(w, "*") || !strcmp(w, "all"))
		return (1u << POLICY_FILE_NOPS) - 1;
	if (!strcmp(w, "read"))
		return POLICY_FILE_READ_OPS;
	if (!strcmp(w, "open"))
		return B(OPEN) | B(READ);
	if (!strcmp(w, "write"))
		return B(WRITE) | B(TRUNCATE) | B(XATTR);
	if (!strcmp(w, "delete") || !strcmp(w, "unlink"))
		return B(DELETE);
	enum policy_file_op op;
	if (policy_file_op_parse(w, &op) == 0)
		return POLICY_FILE_OP_BIT(op);
	*ok = false;
	return 0;
}

static const char *const unix_op_names[] = { "connect", "bind", "listen", "sendto" };
const char *policy_unix_op_name(enum policy_unix_op op)
{
	return (unsigned)op < 4 ? unix_op_names[op] : "invalid";
}

static const char *const target_names[] = {
	"self", "children", "descendants", "siblings", "session", "parent", "external", "system",
};
const char *policy_signal_target_name(enum policy_signal_target t)
{
	return (unsigned)t < 8 ? target_names[t] : "invalid";
}
int policy_signal_target_parse(const char *s, enum policy_signal_target *out)
{
	for (int i = 0; i < 8; i++)
		if (!strcmp(s, target_names[i]) ||
		    (!strcmp(s, "child") && i == 1) || (!strcmp(s, "descendant") && i == 2)) {
			*out = (enum policy_signal_target)i;
			return 0;
		}
	return -EINVAL;
}

static const struct { const char *n; int s; } sigs[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG },
	{ "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

int policy_signal_parse(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		return (*end || v < 1 || v > 64) ? -EINVAL : (int)v;
	}
	const char *n = strncasecmp(s, "SIG", 3) ? s : s + 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(n, sigs[i].n))
			return sigs[i].s;
	if (!strncasecmp(n, "RTMIN+", 6)) {
		char *end;
		long v = strtol(n + 6, &end, 10);
		if (!*end && v >= 0 && SIGRTMIN + v <= 64)
			return (int)(SIGRTMIN + v);
	}
	return -EINVAL;
}

const char *policy_signal_name(int sig)
{
	static const char *const full[65] = {
		[SIGHUP] = "SIGHUP", [SIGINT] = "SIGINT", [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
		[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT", [SIGBUS] = "SIGBUS", [SIGFPE] = "SIGFPE",
		[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1", [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
		[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM", [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
		[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT", [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
		[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU", [SIGURG] = "SIGURG", [SIGXCPU] = "SIGXCPU",
		[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
		[SIGIO] = "SIGIO", [SIGPWR] = "SIGPWR", [SIGSYS] = "SIGSYS",
	};
	return sig > 0 && sig <= 64 ? full[sig] : NULL;
}

#define SB(s) ((uint64_t)1 << ((s) - 1))   /* bit sig-1: signals 1..64 */
int pol_sig_group_mask(const char *s, uint64_t *mask)
{
	if (!strcmp(s, "@all"))
		*mask = 0x7fffffffull;          /* 1..31 */
	else if (!strcmp(s, "@fatal"))
		*mask = SB(SIGKILL) | SB(SIGTERM) | SB(SIGQUIT) | SB(SIGABRT);
	else if (!strcmp(s, "@job"))
		*mask = SB(SIGSTOP) | SB(SIGCONT) | SB(SIGTSTP) | SB(SIGTTIN) | SB(SIGTTOU);
	else if (!strcmp(s, "@reload"))
		*mask = SB(SIGHUP) | SB(SIGUSR1) | SB(SIGUSR2);
	else if (!strcmp(s, "@ignore"))
		*mask = SB(SIGCHLD) | SB(SIGURG) | SB(SIGWINCH);
	else if (!strcmp(s, "@rt"))
		*mask = ~0x7fffffffull;
	else
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------- durations */

/* "5m", "1h30m", "250ms", "2h", or a bare number of seconds. */
int pol_parse_duration_ms(const char *s, unsigned *ms)
{
	uint64_t total = 0;
	const char *p = s;
	if (!*p)
		return -EINVAL;
	bool bare = true;
	for (const char *q = s; *q; q++)
		if (!isdigit((unsigned char)*q))
			bare = false;
	if (bare) {
		unsigned long v = strtoul(s, NULL, 10);
		if (v > 4000000)
			return -ERANGE;
		*ms = (unsigned)(v * 1000);
		return 0;
	}
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		p = end;
		uint64_t mult;
		if (!strncmp(p, "ms", 2)) { mult = 1; p += 2; }
		else if (*p == 's') { mult = 1000; p++; }
		else if (*p == 'm') { mult = 60000; p++; }
		else if (*p == 'h') { mult = 3600000; p++; }
		else if (*p == 'd') { mult = 86400000; p++; }
		else return -EINVAL;
		if (v > 100000000)
			return -ERANGE;
		total += (uint64_t)v * mult;
		if (total > 0xffffffffull)
			return -ERANGE;
	}
	*ms = (unsigned)total;
	return 0;
}

/* ---------------------------------------------------------------- CIDR */

int pol_parse_cidr(const char *s, struct policy_cidr *c)
{
	char buf[64];
	size_t n = strlen(s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	char *slash = strchr(buf, '/');
	long pfx = -1;
	if (slash) {
		*slash = 0;
		char *end;
		if (!slash[1] || !isdigit((unsigned char)slash[1]))
			return -EINVAL;
		pfx = strtol(slash + 1, &end, 10);
		if (*end)
			return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		if (pfx < 0)
			pfx = 32;
		if (pfx > 32)
			return -EINVAL;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		if (pfx < 0)
			pfx = 128;
		if (pfx > 128)
			return -EINVAL;
		/* an IPv4-mapped prefix is an IPv4 rule */
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (pfx >= 96 && !memcmp(c->addr, mapped, 12)) {
			memmove(c->addr, c->addr + 12, 4);
			memset(c->addr + 4, 0, 12);
			c->family = AF_INET;
			pfx -= 96;
		}
	} else {
		return -EINVAL;
	}
	c->prefix = (uint8_t)pfx;
	/* clear host bits so matching is a plain masked compare */
	for (unsigned i = 0; i < 16; i++) {
		int bits = (int)c->prefix - (int)(i * 8);
		if (bits >= 8)
			continue;
		c->addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
	return 0;
}

bool pol_cidr_contains(const struct policy_cidr *c, int family, const uint8_t *addr)
{
	if (c->family != family)
		return false;
	unsigned full = c->prefix / 8, rem = c->prefix % 8;
	if (memcmp(c->addr, addr, full))
		return false;
	if (rem && ((addr[full] & (uint8_t)(0xff << (8 - rem))) != c->addr[full]))
		return false;
	return true;
}

/* ---------------------------------------------------------------- variables */

static const char *var_value(const struct policy_vars *v, const char *name, size_t len)
{
#define V(n, f) if (len == sizeof(n) - 1 && !memcmp(name, n, len)) return v ? v->f : NULL
	V("HOME", home);
	V("WORKSPACE", workspace);
	V("PROJECT_ROOT", project_root);
	V("GIT_ROOT", git_root);
	V("TMPDIR", tmpdir);
	V("USER", user);
#undef V
	return NULL;
}

/* HOME, WORKSPACE, PROJECT_ROOT and GIT_ROOT name directories that rules are
 * built on (an allow on everything under ${WORKSPACE}).  "/" would stretch it over the
 * whole filesystem and a relative value means nothing: both are refused
 * (a ${X:-fallback} then applies).  Returns why, or NULL when fine. */
static const char *unusable_dir(const char *name, size_t len, const char *val)
{
	static const char *const dirs[] = { "HOME", "WORKSPACE", "PROJECT_ROOT", "GIT_ROOT" };
	bool isdir = false;
	for (size_t i = 0; i < 4; i++)
		isdir |= strlen(dirs[i]) == len && !memcmp(dirs[i], name, len);
	if (!isdir || !val || !*val)
		return NULL;
	if (val[0] != '/')
		return "not an absolute path; the session must give an absolute directory";
	for (const char *p = val; *p; p++)
		if (*p != '/')
			return NULL;
	return "rules built on it would cover the whole filesystem; start the session in a "
	       "project directory (or write ${NAME:-fallback} in the policy)";
}

struct sbuf { char *s; size_t n, cap; bool oom; };
static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = (b->n + n + 1) * 2;
		char *ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

/* Values come from the account and session, not from the policy author: glob
 * characters in them are escaped so a HOME like "/home/a*" stays literal. */
static void sb_add_escaped(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("*?[]{}\\", *s))
			sb_add(b, "\\", 1);
		sb_add(b, s, 1);
	}
}

static int expand_into(const char *s, size_t len, const struct policy_vars *v, struct sbuf *b,
		       char *err, size_t errlen, int depth)
{
	if (depth > 8) {
		snprintf(err, errlen, "variable fallbacks nested more than 8 deep");
		return -EINVAL;
	}
	size_t i = 0;
	while (i < len) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			size_t j = i + 2, d = 1;
			while (j < len && d) {
				if (s[j] == '{') d++;
				else if (s[j] == '}') d--;
				if (d) j++;
			}
			if (j >= len) {
				snprintf(err, errlen, "unterminated '${' (add the closing '}')");
				return -EINVAL;
			}
			const char *body = s + i + 2;
			size_t blen = j - (i + 2);
			const char *sep = memmem(body, blen, ":-", 2);
			size_t nlen = sep ? (size_t)(sep - body) : blen;
			for (size_t k = 0; k < nlen; k++)
				if (!(isalnum((unsigned char)body[k]) || body[k] == '_')) {
					snprintf(err, errlen, "invalid variable name '%.*s'", (int)nlen, body);
					return -EINVAL;
				}
			const char *val = var_value(v, body, nlen);
			const char *bad = unusable_dir(body, nlen, val);
			if (bad && !sep) {
				snprintf(err, errlen, "${%.*s} is '%s': %s", (int)nlen, body, val, bad);
				return -EINVAL;
			}
			if (val && *val && !bad) {
				sb_add_escaped(b, val);
			} else if (sep) {
				int e = expand_into(sep + 2, blen - nlen - 2, v, b, err, errlen, depth + 1);
				if (e)
					return e;
			} else {
				snprintf(err, errlen,
					 "undefined variable ${%.*s} (known: HOME, WORKSPACE, PROJECT_ROOT, GIT_ROOT, "
					 "TMPDIR, USER; write ${%.*s:-fallback} to give a default)",
					 (int)nlen, body, (int)nlen, body);
				return -EINVAL;
			}
			i = j + 1;
		} else {
			sb_add(b, s + i, 1);
			i++;
		}
	}
	return 0;
}

char *pol_vars_expand(const char *s, const struct policy_vars *v, char *err, size_t errlen)
{
	struct sbuf b = { 0 };
	sb_add(&b, "", 0);
	if (expand_into(s, strlen(s), v, &b, err, errlen, 0) || b.oom) {
		if (b.oom)
			snprintf(err, errlen, "out of memory");
		free(b.s);
		return NULL;
	}
	/* "${HOME}/x" with HOME ending in '/' must not leave "//" in a glob */
	char *w = b.s;
	for (char *r = b.s; *r; r++)
		if (!(r[0] == '/' && r[1] == '/'))
			*w++ = *r;
	*w = 0;
	return b.s;
}

/* ---------------------------------------------------------------- paths */

/* Lexical normalisation: collapse "//", drop "/.", resolve "/.." (never above
 * "/"), drop a trailing '/'.  -EINVAL for relative paths, -ENAMETOOLONG. */
int pol_normalize_path(const char *in, char *out, size_t outlen)
{
	if (in[0] != '/')
		return -EINVAL;
	size_t n = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, '/');
		size_t sl = e ? (size_t)(e - p) : strlen(p);
		if (sl == 1 && p[0] == '.') {
			/* skip */
		} else if (sl == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + 1 + sl + 1 > outlen)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, p, sl);
			n += sl;
		}
		p += sl;
	}
	if (n == 0) {
		if (outlen < 2)
			return -ENAMETOOLONG;
		out[n++] = '/';
	}
	out[n] = 0;
	return (int)n;
}

/* ---------------------------------------------------------------- messages */

static void cat(char *out, size_t outlen, size_t *n, const char *s, size_t len)
{
	if (*n + 1 >= outlen)
		return;
	if (len > outlen - 1 - *n)
		len = outlen - 1 - *n;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = 0;
}

/* Renders Go-template-style fields used by the reference's policies:
 * {{.Path}} {{.Args}} {{.Command}} {{.RemoteAddr}} {{.RemotePort}}
 * {{.Domain}} {{.Operation}} {{.Rule}}.  Unknown fields were refused at load. */
void pol_render_message(const char *tmpl, char *out, size_t outlen, const char *path,
		    const char *const *argv, int argc, const char *addr, int port,
		    const char *op, const char *rule)
{
	size_t n = 0;
	out[0] = 0;
	for (const char *p = tmpl; *p;) {
		const char *o = strstr(p, "{{");
		if (!o) {
			cat(out, outlen, &n, p, strlen(p));
			break;
		}
		cat(out, outlen, &n, p, (size_t)(o - p));
		const char *c = strstr(o, "}}");
		if (!c) {
			cat(out, outlen, &n, o, strlen(o));
			break;
		}
		const char *f = o + 2;
		while (*f == ' ')
			f++;
		size_t fl = (size_t)(c - f);
		while (fl && f[fl - 1] == ' ')
			fl--;
#define F(s) (fl == sizeof(s) - 1 && !memcmp(f, s, fl))
		char num[16];
		if (F(".Path") || F(".Command")) {
			if (path)
				cat(out, outlen, &n, path, strlen(path));
		} else if (F(".Args")) {
			for (int i = 1; i < argc; i++) {
				if (i > 1)
					cat(out, outlen, &n, " ", 1);
				cat(out, outlen, &n, argv[i], strlen(argv[i]));
			}
		} else if (F(".RemoteAddr") || F(".Domain")) {
			if (addr)
				cat(out, outlen, &n, addr, strlen(addr));
		} else if (F(".RemotePort")) {
			if (port >= 0) {
				int k = snprintf(num, sizeof(num), "%d", port);
				cat(out, outlen, &n, num, (size_t)k);
			}
		} else if (F(".Operation")) {
			if (op)
				cat(out, outlen, &n, op, strlen(op));
		} else if (F(".Rule")) {
			cat(out, outlen, &n, rule, strlen(rule));
		}
#undef F
		p = c + 2;
	}
}
