/* outfilter.c — what the sandbox prints, minus the few sequences that turn
 * the human's terminal against them.
 *
 * A terminal obeys whatever bytes reach it.  Most of that is the point (colour,
 * cursor motion, full-screen programs), but a few sequences reach beyond the
 * screen: OSC 52 writes the clipboard the human later pastes into another
 * shell, and with "?" asks the terminal to *send* the clipboard back as input,
 * where the sandbox reads it; CSI 20 t / 21 t make the terminal type back a
 * title the sandbox set; DECUDK (DCS ... |) redefines the function keys.
 * Those are dropped whole; every other byte passes unchanged and in order.
 * A sequence whose number or header is longer than anything real (zeros
 * padded past what is held) is dropped too, since the terminal would still
 * read its value.
 *
 * The state survives between calls, so a sequence split across reads is
 * recognised.  Bytes that might start a dropped sequence are held (a few
 * dozen at most) until the sequence is known; C1 controls count in their UTF-8
 * form (0xC2 0x9B CSI, 0x9D OSC, 0x90 DCS, 0x9C ST), which terminals in UTF-8
 * mode obey, never as a lone byte, which is part of an ordinary character. */
#include "pty/pty.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OF_TEXT,
	OF_ESC,         /* ESC held */
	OF_C2,          /* 0xC2 held: maybe a C1 control */
	OF_OSC,         /* OSC introducer held; reading its number */
	OF_CSI,         /* CSI held; reading its first parameter */
	OF_CSI_REST,    /* first parameter is 20 or 21: held to the final byte */
	OF_DCS,         /* DCS introducer held; reading to its final byte */
	OF_ESC_PASS,    /* shown: ESC and intermediates, to the final byte */
	OF_CSI_PASS,    /* shown: a harmless CSI, to its final byte */
	OF_DROP_CSI,    /* not shown: a CSI, to its final byte */
	OF_DROP,        /* inside a dropped string, to BEL or ST */
	OF_DROP_ESC,    /* ESC inside a dropped string */
	OF_DROP_C2,     /* 0xC2 inside a dropped string */
};

#define CAN 0x18

static void hold(struct pty_outfilter *f, unsigned char c)
{
	f->held[f->nheld++] = (char)c;
}

/* Give the held bytes to the terminal after all, and follow the rest of the
 * sequence in state st. */
static size_t release(struct pty_outfilter *f, int st, char *out)
{
	size_t n = f->nheld;

	memcpy(out, f->held, n);
	f->nheld = 0;
	f->st = st;
	return n;
}

/* Not shown: what is held, and the sequence from here on (st).  A CAN goes
 * out instead: the terminal may be inside a sequence the filter already
 * showed part of (ESC and an intermediate, a harmless CSI), and would read on
 * through what follows as part of it; CAN sends it back to text, and is a
 * no-op there. */
static size_t drop(struct pty_outfilter *f, int st, char *out)
{
	f->nheld = 0;
	f->st = st;
	out[0] = CAN;
	return 1;
}

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Accumulate a decimal parameter, saturating: "000052" is 52, a huge one is
 * simply large. */
static void add_digit(struct pty_outfilter *f, unsigned char c)
{
	if (f->num < 100000)
		f->num = f->num * 10 + (unsigned)(c - '0');
}

static void start(struct pty_outfilter *f, int st, unsigned char c)
{
	hold(f, c);
	f->st = st;
	f->num = 0;
}

static bool in_header(int st)
{
	return st == OF_ESC || st == OF_OSC || st == OF_CSI || st == OF_CSI_REST || st == OF_DCS ||
	       st == OF_ESC_PASS || st == OF_CSI_PASS || st == OF_DROP_CSI;
}

static size_t step(struct pty_outfilter *f, unsigned char c, char *out);

/* A control byte in a sequence's header.  Terminals (the DEC parser that
 * xterm, VTE and others follow) abandon the sequence on CAN, SUB or ESC, and
 * otherwise execute a C0 control (ESC and CSI) or ignore it (OSC and DCS), and
 * ignore DEL, *without* ending the sequence: "ESC LF ] 52" is still OSC 52. */
static size_t header_control(struct pty_outfilter *f, unsigned char c, char *out)
{
	if (c == CAN || c == 0x1a || c == 0x1b) {
		/* nothing held would have had an effect: not shown */
		f->nheld = 0;
		f->st = OF_TEXT;
		return step(f, c, out);
	}
	if (f->st == OF_OSC || f->st == OF_DCS) {
		if (f->nheld < PTY_OUTFILTER_HOLD) {
			hold(f, c);             /* ignored inside the string */
			return 0;
		}
		return drop(f, OF_DROP, out);
	}
	out[0] = (char)c;               /* executed now; the sequence goes on */
	return 1;
}

/* A byte of 0x80 or more in a header.  Real programs never put one there, and
 * a terminal that maps it to its 7-bit twin (the DEC parser's rule for GR
 * bytes: 0xB2 is '2', 0x9B is ESC) would read another sequence than the
 * filter did.  Not shown, with the sequence it is in. */
static size_t garbled(struct pty_outfilter *f, char *out)
{
	switch (f->st) {
	case OF_OSC:
	case OF_DCS:
		return drop(f, OF_DROP, out);
	case OF_ESC:
	case OF_ESC_PASS:
	case OF_CSI_PASS:
		return drop(f, OF_TEXT, out);
	default:
		return drop(f, OF_DROP_CSI, out);
	}
}

static bool param(unsigned char c)
{
	return c >= 0x20 && c <= 0x3f;  /* parameter and intermediate bytes */
}

static bool final(unsigned char c)
{
	return c >= 0x40 && c <= 0x7e;
}

/* One byte; returns how many bytes it put in out (held bytes may come out). */
static size_t step(struct pty_outfilter *f, unsigned char c, char *out)
{
	size_t o;

	if (in_header(f->st)) {
		if (c >= 0x80)
			return garbled(f, out);
		if ((c < 0x20 || c == 0x7f) && !(f->st == OF_OSC && c == 0x07))
			return header_control(f, c, out);
	}
	switch (f->st) {
	case OF_TEXT:
		if (c == 0x1b || c == 0xc2) {
			start(f, c == 0x1b ? OF_ESC : OF_C2, c);
			return 0;
		}
		out[0] = (char)c;
		return 1;
	case OF_ESC:
	case OF_C2:
		if (f->st == OF_ESC ? c == ']' : c == 0x9d) {
			start(f, OF_OSC, c);
			return 0;
		}
		if (f->st == OF_ESC ? c == '[' : c == 0x9b) {
			start(f, OF_CSI, c);
			return 0;
		}
		if (f->st == OF_ESC ? c == 'P' : c == 0x90) {
			start(f, OF_DCS, c);
			return 0;
		}
		if (f->st == OF_C2) {           /* an ordinary character */
			o = release(f, OF_TEXT, out);
			return o + step(f, c, out + o);
		}
		o = release(f, c >= 0x20 && c <= 0x2f ? OF_ESC_PASS : OF_TEXT, out);
		out[o] = (char)c;
		return o + 1;
	case OF_ESC_PASS:
		out[0] = (char)c;
		if (c > 0x2f)
			f->st = OF_TEXT;
		return 1;
	case OF_OSC:
		if (digit(c) && f->nheld < PTY_OUTFILTER_HOLD) {
			hold(f, c);
			add_digit(f, c);
			return 0;
		}
		if (digit(c) || f->num == 52) {         /* the clipboard, or padded past the hold */
			o = drop(f, OF_DROP, out);
			return o + step(f, c, out + o);
		}
		o = release(f, OF_TEXT, out);           /* its string is shown as it comes */
		return o + step(f, c, out + o);
	case OF_CSI:
		if (digit(c) && f->nheld < PTY_OUTFILTER_HOLD) {
			hold(f, c);
			add_digit(f, c);
			return 0;
		}
		if (digit(c))                           /* padded with zeros past the hold */
			return drop(f, OF_DROP_CSI, out);
		if ((f->num == 20 || f->num == 21) && (param(c) || c == 't')) {
			if (c == 't')                   /* a title or icon-label report */
				return drop(f, OF_TEXT, out);
			hold(f, c);                     /* more parameters: wait for the final */
			f->st = OF_CSI_REST;
			return 0;
		}
		o = release(f, OF_CSI_PASS, out);
		return o + step(f, c, out + o);
	case OF_CSI_REST:
		if (c == 't')
			return drop(f, OF_TEXT, out);
		if (param(c) && f->nheld < PTY_OUTFILTER_HOLD) {
			hold(f, c);
			return 0;
		}
		if (param(c))                   /* a report request padded past the hold */
			return drop(f, OF_DROP_CSI, out);
		o = release(f, OF_CSI_PASS, out);
		return o + step(f, c, out + o);
	case OF_CSI_PASS:
		out[0] = (char)c;
		if (final(c))
			f->st = OF_TEXT;
		return 1;
	case OF_DROP_CSI:
		if (final(c))
			f->st = OF_TEXT;
		return 0;
	case OF_DCS:
		if (param(c) && f->nheld < PTY_OUTFILTER_HOLD) {
			hold(f, c);
			return 0;
		}
		if (c == '|' || param(c))       /* DECUDK, or a header too long */
			return drop(f, OF_DROP, out);
		o = release(f, OF_TEXT, out);   /* its string is shown as it comes */
		return o + step(f, c, out + o);
	case OF_DROP:
		f->st = c == 0x07 || c == CAN || c == 0x1a ? OF_TEXT
		      : c == 0x1b ? OF_DROP_ESC : c == 0xc2 ? OF_DROP_C2 : OF_DROP;
		return 0;
	case OF_DROP_ESC:
	case OF_DROP_C2:
		if (f->st == OF_DROP_ESC ? c == '\\' : c == 0x9c) {
			f->st = OF_TEXT;                /* ST */
			return 0;
		}
		if (f->st == OF_DROP_C2) {
			f->st = OF_DROP;                /* 0xC2 and a character of the string */
			return step(f, c, out);
		}
		/* an ESC that ends the string and starts something else */
		start(f, OF_ESC, 0x1b);
		return step(f, c, out);
	}
	return 0;
}

/* How many bytes from s are plain text: none of them can start a sequence. */
static size_t text_run(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != '\033' && s[i] != '\302')
		i++;
	return i;
}

size_t pty_outfilter(struct pty_outfilter *f, const char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		if (f->st == OF_TEXT) {         /* the relay's hot path: copy text in runs */
			size_t k = text_run(in + i, n - i);
			memcpy(out + o, in + i, k);
			o += k;
			i += k;
			if (i == n)
				break;
		}
		o += step(f, (unsigned char)in[i++], out + o);
	}
	return o;
}

char *pty_inert(const char *s)
{
	size_t n = s ? strlen(s) : 0, j = 0;
	char *o = malloc(4 * n + 1);

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) {
			o[j++] = (char)c;
		} else if (c >= 0xc3 && c <= 0xf4 && i + 1 < n && ((unsigned char)s[i + 1] & 0xc0) == 0x80) {
			/* a UTF-8 lead byte whose sequence cannot encode a C1 control
			 * (those are 0xc2 0x80-0x9f) */
			o[j++] = (char)c;
			while (i + 1 < n && ((unsigned char)s[i + 1] & 0xc0) == 0x80)
				o[j++] = s[++i];
		} else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0xa0 &&
			   (unsigned char)s[i + 1] <= 0xbf) {
			o[j++] = (char)c;
			o[j++] = s[++i];
		} else {
			j += (size_t)sprintf(o + j, "\\x%02x", c);
		}
	}
	o[j] = 0;
	return o;
}
