/* The interactive prompt.  Pure: unit-tested in tests/unit/shell_units.c (test_prompt). */
#include "shell/prompt_int.h"
#include "pty/pty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pbuf {
	char *p;
	size_t n, len;
};

static void put(struct pbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && b->n + 1 < b->len; i++)
		b->p[b->n++] = s[i];
	b->p[b->n] = 0;
}

static void puts_(struct pbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Agent-chosen text (cwd, names): shown inert (pty_inert), so no control
 * character, ESC or C1 control (also in its UTF-8 form) reaches the terminal. */
static void put_safe(struct pbuf *b, const char *s, size_t n)
{
	char *copy = strndup(s, n), *safe = copy ? pty_inert(copy) : NULL;

	puts_(b, safe ? safe : "?");
	free(safe);
	free(copy);
}

static void colored(struct pbuf *b, bool color, const char *sgr, const char *s, size_t n)
{
	if (color) {
		puts_(b, "\001\033[");
		puts_(b, sgr);
		puts_(b, "m\002");
	}
	put_safe(b, s, n);
	if (color)
		puts_(b, "\001\033[0m\002");
}

static void put_cwd(struct pbuf *b, const struct prompt_info *pi, bool color, bool base)
{
	const char *cwd = pi->cwd ? pi->cwd : "?";
	char tmp[4200];
	size_t hl = pi->home ? strlen(pi->home) : 0;
	if (base) {
		const char *sl = strrchr(cwd, '/');
		if (hl > 1 && !strcmp(cwd, pi->home))
			snprintf(tmp, sizeof(tmp), "~");
		else
			snprintf(tmp, sizeof(tmp), "%s", sl && sl[1] ? sl + 1 : cwd);
	} else if (hl > 1 && !strncmp(cwd, pi->home, hl) && (cwd[hl] == 0 || cwd[hl] == '/')) {
		snprintf(tmp, sizeof(tmp), "~%s", cwd + hl);
	} else {
		snprintf(tmp, sizeof(tmp), "%s", cwd);
	}
	colored(b, color, "1;34", tmp, strlen(tmp));
}

size_t prompt_render(const char *tmpl, const struct prompt_info *pi, bool color,
		     char *out, size_t len)
{
	struct pbuf b = { out, 0, len };
	char num[32];
	if (!len)
		return 0;
	out[0] = 0;
	for (const char *t = tmpl ? tmpl : PROMPT_DEFAULT; *t; t++) {
		if (*t != '\\' || !t[1]) {
			put(&b, t, 1);
			continue;
		}
		const char *host = pi->host ? pi->host : "?";
		switch (*++t) {
		case 'u':
			colored(&b, color, "1;32", pi->user ? pi->user : "?", strlen(pi->user ? pi->user : "?"));
			break;
		case 'h':
			colored(&b, color, "1;32", host, strcspn(host, "."));
			break;
		case 'H':
			colored(&b, color, "1;32", host, strlen(host));
			break;
		case 'w':
			put_cwd(&b, pi, color, false);
			break;
		case 'W':
			put_cwd(&b, pi, color, true);
			break;
		case 's':
			if (pi->status) {
				snprintf(num, sizeof(num), " [%d]", pi->status);
				colored(&b, color, "1;31", num, strlen(num));
			}
			break;
		case '$':
			puts_(&b, pi->root ? "#" : "$");
			break;
		case 'n':
			puts_(&b, "\n");
			break;
		case '\\':
			puts_(&b, "\\");
			break;
		default:
			put(&b, t - 1, 2);
			break;
		}
	}
	return b.n;
}
