/* The delegate control protocol, pure parts: parsing the messages the
 * delegate sends on its control socket, and finding (and removing) the OSC
 * sentinel it prints on the terminal after each command.  Authentication of
 * the sender is in interactive.c; nothing here trusts anything. */
#include "shell/marker_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_num(const char **p, long *out)
{
	char *end;
	long v;
	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || v < 0 || v > 1000000000L)
		return -EINVAL;
	*out = v;
	*p = end;
	return 0;
}

int marker_parse(const char *buf, size_t n, struct marker_msg *m)
{
	char tmp[MARKER_MAX_MSG + 1];
	const char *p;
	long st;
	if (n < 3 || n > MARKER_MAX_MSG || memchr(buf, 0, n))
		return -EINVAL;
	memcpy(tmp, buf, n);
	tmp[n] = 0;
	memset(m, 0, sizeof(*m));
	if ((tmp[0] != 'D' && tmp[0] != 'S') || tmp[1] != ' ')
		return -EINVAL;
	m->kind = tmp[0];
	p = tmp + 2;
	if (parse_num(&p, &m->seq) < 0)
		return -EINVAL;
	if (m->kind == 'S')
		return *p == 0 ? 0 : -EINVAL;
	if (*p++ != ' ' || parse_num(&p, &st) < 0 || st > 255 || *p++ != ' ' || *p != '/')
		return -EINVAL;
	m->status = (int)st;
	if (strlen(p) >= sizeof(m->cwd))
		return -EINVAL;
	strcpy(m->cwd, p);
	return 0;
}

static const char PREFIX[] = "\033]" MARKER_OSC ";";
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* hold[] holds a possible sentinel split across reads: the prefix so far,
 * then digits.  Anything that stops matching is released as output. */
size_t sentinel_filter(struct sentinel_scan *s, const char *in, size_t n, char *out,
		       long expected, bool *found)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		if (s->nhold < PREFIX_LEN) {
			if (c == PREFIX[s->nhold]) {
				s->hold[s->nhold++] = c;
				continue;
			}
			/* Release what was held; c may start a new match. */
			memcpy(out + o, s->hold, s->nhold);
			o += s->nhold;
			s->nhold = 0;
			if (c == PREFIX[0]) {
				s->hold[s->nhold++] = c;
				continue;
			}
			out[o++] = c;
			continue;
		}
		if (c >= '0' && c <= '9' && s->nhold < sizeof(s->hold) - 1) {
			s->hold[s->nhold++] = c;
			continue;
		}
		if (c == '\a' && s->nhold > PREFIX_LEN) {
			s->hold[s->nhold] = 0;
			if (strtol(s->hold + PREFIX_LEN, NULL, 10) == expected && expected >= 0)
				*found = true;
			s->nhold = 0;   /* every sentinel-shaped sequence is dropped */
			continue;
		}
		memcpy(out + o, s->hold, s->nhold);
		o += s->nhold;
		s->nhold = 0;
		if (c == PREFIX[0]) {
			s->hold[s->nhold++] = c;
			continue;
		}
		out[o++] = c;
	}
	return o;
}

size_t sentinel_flush(struct sentinel_scan *s, char *out)
{
	size_t n = s->nhold;
	memcpy(out, s->hold, n);
	s->nhold = 0;
	return n;
}
