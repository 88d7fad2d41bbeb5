/* libFuzzer target for the filter between the sandbox's output and the outer
 * terminal (pty_outfilter), on arbitrary bytes:
 *  - it never writes more than n + PTY_OUTFILTER_SLACK bytes (the output
 *    buffer is exactly that big, so ASan sees an overrun);
 *  - its output does not depend on how the input was split into reads;
 *  - a model terminal written here, independently and on the paranoid side
 *    (the DEC parser, C0 controls executed or ignored inside sequences, UTF-8
 *    C1 forms, GR bytes read as their 7-bit twins), finds no clipboard
 *    (OSC 52), title report (CSI 20/21 t) or key definition (DECUDK) in it.
 * Build: make fuzz; run: tests/fuzz/pty_output.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pty/pty.h"

enum { G, E, EI, CSI, OSC, OSC_STR, DCS, DCS_STR };

struct term {
	int st;
	bool c2;                /* the previous byte was 0xC2 (UTF-8 C1 form) */
	unsigned num;
	bool digits, first_done, private_, inter;
};

static void enter(struct term *t, int st)
{
	t->st = st;
	t->num = 0;
	t->digits = t->first_done = t->private_ = t->inter = false;
}

static void add(struct term *t, unsigned char c)
{
	if (t->num < 100000)
		t->num = t->num * 10 + (unsigned)(c - '0');
	t->digits = true;
}

/* Feed one byte; abort() on a sequence the filter should have dropped. */
static void feed(struct term *t, unsigned char raw)
{
	if (t->c2) {
		t->c2 = false;
		if (raw == 0x9b || raw == 0x9d || raw == 0x90) {
			enter(t, raw == 0x9b ? CSI : raw == 0x9d ? OSC : DCS);
			return;
		}
		if (raw == 0x9c) {
			enter(t, G);
			return;
		}
	}
	if (raw == 0xc2 && (t->st == G || t->st == OSC_STR || t->st == DCS_STR)) {
		t->c2 = true;
		return;
	}
	if (raw == 0xc2)
		t->c2 = true;   /* and, in a header, also read as 'B' below */
	unsigned char c = t->st == G || t->st == OSC_STR || t->st == DCS_STR ? raw : raw & 0x7f;
	if (c == 0x18 || c == 0x1a) {
		enter(t, G);
		return;
	}
	if (c == 0x1b) {
		enter(t, E);
		return;
	}
	switch (t->st) {
	case G:
		return;
	case E:
		if (c < 0x20 || c == 0x7f)
			return;
		enter(t, c == '[' ? CSI : c == ']' ? OSC : c == 'P' ? DCS : c <= 0x2f ? EI : G);
		return;
	case EI:                        /* ESC and intermediates: to the final */
		if (c >= 0x30 && c != 0x7f)
			enter(t, G);
		return;
	case CSI:
		if (c < 0x20 || c == 0x7f)
			return;
		if (c >= '0' && c <= '9' && !t->first_done && !t->inter) {
			add(t, c);
		} else if (c >= '<' && c <= '?') {
			t->private_ = true;
		} else if (c == ';' || c == ':') {
			t->first_done = true;
		} else if (c >= 0x20 && c <= 0x2f) {
			t->inter = true;
		} else if (c >= 0x40 && c <= 0x7e) {
			if (c == 't' && t->digits && !t->private_ && (t->num == 20 || t->num == 21))
				abort();        /* a title report reached the terminal */
			enter(t, G);
		}
		return;
	case OSC:
		if (c == 0x07) {
			enter(t, G);
			return;
		}
		if (c < 0x20 || c == 0x7f)
			return;
		if (c >= '0' && c <= '9') {
			add(t, c);
			return;
		}
		if (t->digits && t->num == 52)
			abort();                /* the clipboard reached the terminal */
		t->st = OSC_STR;
		return;
	case OSC_STR:
		if (c == 0x07)
			enter(t, G);
		return;
	case DCS:
		if (c < 0x20 || c == 0x7f || (c >= 0x20 && c <= 0x3f))
			return;
		if (c == '|')
			abort();                /* a key definition reached the terminal */
		t->st = DCS_STR;
		return;
	case DCS_STR:
		return;
	}
}

static size_t filter(const uint8_t *d, size_t n, size_t split, char *out)
{
	struct pty_outfilter f = { 0 };
	size_t o = 0;

	for (size_t i = 0; i < n; i += split)
		o += pty_outfilter(&f, (const char *)d + i, n - i < split ? n - i : split, out + o);
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	size_t split = 1 + d[0] % 8;
	d++, n--;
	char *whole = malloc(n + PTY_OUTFILTER_SLACK), *parts = malloc(n + 8 * PTY_OUTFILTER_SLACK);
	if (!whole || !parts)
		abort();
	struct pty_outfilter f = { 0 };
	size_t a = pty_outfilter(&f, (const char *)d, n, whole);
	size_t b = filter(d, n, split, parts);
	if (a > n + PTY_OUTFILTER_SLACK || a != b || memcmp(whole, parts, a))
		abort();
	struct term t = { 0 };
	for (size_t i = 0; i < a; i++)
		feed(&t, (unsigned char)whole[i]);
	free(whole);
	free(parts);
	return 0;
}
