/* A libvterm model of what the user sees, so agentsh can repaint the screen
 * after drawing something over it (an approval prompt). */
#include "pty/pty.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

struct pty_screen {
	VTerm *vt;
	VTermScreen *scr;
	VTermState *state;
	bool alt;
};

static int on_termprop(VTermProp prop, VTermValue *val, void *user)
{
	struct pty_screen *s = user;
	if (prop == VTERM_PROP_ALTSCREEN)
		s->alt = val->boolean;
	return 1;
}

static const VTermScreenCallbacks screen_cbs = { .settermprop = on_termprop };

int pty_screen_new(int rows, int cols, struct pty_screen **out)
{
	struct pty_screen *s;
	if (rows <= 0 || cols <= 0)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->vt = vterm_new(rows, cols);
	if (!s->vt) {
		free(s);
		return -ENOMEM;
	}
	vterm_set_utf8(s->vt, 1);
	s->scr = vterm_obtain_screen(s->vt);
	s->state = vterm_obtain_state(s->vt);
	vterm_screen_enable_altscreen(s->scr, 1);
	vterm_screen_set_callbacks(s->scr, &screen_cbs, s);
	vterm_screen_reset(s->scr, 1);
	*out = s;
	return 0;
}

void pty_screen_free(struct pty_screen *s)
{
	if (!s)
		return;
	vterm_free(s->vt);
	free(s);
}

void pty_screen_feed(struct pty_screen *s, const char *buf, size_t n)
{
	if (s && n)
		vterm_input_write(s->vt, buf, n);
}

void pty_screen_resize(struct pty_screen *s, int rows, int cols)
{
	if (s && rows > 0 && cols > 0)
		vterm_set_size(s->vt, rows, cols);
}

void pty_screen_size(const struct pty_screen *s, int *rows, int *cols)
{
	vterm_get_size(s->vt, rows, cols);
}

bool pty_screen_altscreen(const struct pty_screen *s)
{
	return s && s->alt;
}

void pty_screen_cursor(const struct pty_screen *s, int *row, int *col)
{
	VTermPos p;
	vterm_state_get_cursorpos(s->state, &p);
	*row = p.row;
	*col = p.col;
}

/* Encode one code point as UTF-8 into b (>= 4 bytes); returns its length. */
static size_t utf8(uint32_t c, char *b)
{
	if (c < 0x80) {
		b[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		b[0] = (char)(0xc0 | (c >> 6));
		b[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		b[0] = (char)(0xe0 | (c >> 12));
		b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | (c >> 18));
	b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	b[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	b[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

int pty_screen_row_text(const struct pty_screen *s, int row, char *buf, size_t len)
{
	int rows, cols;
	size_t n = 0, keep = 0;
	vterm_get_size(s->vt, &rows, &cols);
	if (row < 0 || row >= rows || len == 0)
		return -EINVAL;
	for (int c = 0; c < cols; c++) {
		VTermScreenCell cell;
		VTermPos pos = { .row = row, .col = c };
		char tmp[4 * VTERM_MAX_CHARS_PER_CELL];
		size_t tl = 0;
		if (!vterm_screen_get_cell(s->scr, pos, &cell))
			break;
		if (cell.width == 0)    /* right half of a wide character */
			continue;
		if (cell.chars[0] == 0)
			tmp[tl++] = ' ';
		for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i]; i++)
			tl += utf8(cell.chars[i], tmp + tl);
		if (n + tl >= len)
			break;
		memcpy(buf + n, tmp, tl);
		n += tl;
		if (cell.chars[0] != 0 && !(cell.chars[0] == ' ' && !cell.chars[1]))
			keep = n;
	}
	buf[keep] = 0;
	return (int)keep;
}

/* Append an SGR sequence for one colour (fg: base 30, bg: base 40). */
static int sgr_color(char *b, size_t len, const VTermColor *c, bool fg)
{
	if (fg ? VTERM_COLOR_IS_DEFAULT_FG(c) : VTERM_COLOR_IS_DEFAULT_BG(c))
		return snprintf(b, len, ";%d", fg ? 39 : 49);
	if (VTERM_COLOR_IS_INDEXED(c))
		return snprintf(b, len, ";%d;5;%u", fg ? 38 : 48, c->indexed.idx);
	return snprintf(b, len, ";%d;2;%u;%u;%u", fg ? 38 : 48, c->rgb.red, c->rgb.green,
			c->rgb.blue);
}

static size_t cell_sgr(const VTermScreenCell *cell, char *b, size_t len)
{
	int n = snprintf(b, len, "\033[0");
	if (cell->attrs.bold)
		n += snprintf(b + n, len - (size_t)n, ";1");
	if (cell->attrs.italic)
		n += snprintf(b + n, len - (size_t)n, ";3");
	if (cell->attrs.underline)
		n += snprintf(b + n, len - (size_t)n, ";4");
	if (cell->attrs.blink)
		n += snprintf(b + n, len - (size_t)n, ";5");
	if (cell->attrs.reverse)
		n += snprintf(b + n, len - (size_t)n, ";7");
	if (cell->attrs.strike)
		n += snprintf(b + n, len - (size_t)n, ";9");
	n += sgr_color(b + n, len - (size_t)n, &cell->fg, true);
	n += sgr_color(b + n, len - (size_t)n, &cell->bg, false);
	n += snprintf(b + n, len - (size_t)n, "m");
	return (size_t)n;
}

struct outbuf {
	char *p;
	size_t n, cap;
};

static int ob_put(struct outbuf *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		size_t cap = (o->cap + n) * 2;
		char *p = realloc(o->p, cap);
		if (!p)
			return -ENOMEM;
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	return 0;
}

int pty_screen_redraw(const struct pty_screen *s, int fd)
{
	struct outbuf o = {0};
	int rows, cols, r = 0, crow, ccol;
	char last[128] = "", sgr[128], tmp[64];

	vterm_get_size(s->vt, &rows, &cols);
	r |= ob_put(&o, "\033[0m\033[H\033[2J", 11);
	for (int row = 0; row < rows; row++) {
		int l = snprintf(tmp, sizeof(tmp), "\033[%d;1H", row + 1);
		r |= ob_put(&o, tmp, (size_t)l);
		last[0] = 0;
		for (int c = 0; c < cols; c++) {
			VTermScreenCell cell;
			VTermPos pos = { .row = row, .col = c };
			if (!vterm_screen_get_cell(s->scr, pos, &cell) || cell.width == 0)
				continue;
			size_t sl = cell_sgr(&cell, sgr, sizeof(sgr));
			if (strcmp(sgr, last)) {
				r |= ob_put(&o, sgr, sl);
				memcpy(last, sgr, sl + 1);
			}
			if (cell.chars[0] == 0) {
				r |= ob_put(&o, " ", 1);
				continue;
			}
			for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && cell.chars[i]; i++) {
				size_t ul = utf8(cell.chars[i], tmp);
				r |= ob_put(&o, tmp, ul);
			}
		}
	}
	pty_screen_cursor(s, &crow, &ccol);
	int l = snprintf(tmp, sizeof(tmp), "\033[0m\033[%d;%dH", crow + 1, ccol + 1);
	r |= ob_put(&o, tmp, (size_t)l);
	if (r == 0)
		r = pty_write_all(fd, o.p, o.n);
	free(o.p);
	return r;
}
