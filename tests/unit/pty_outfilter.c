/* The output filter between the sandbox and the outer terminal: the
 * clipboard (OSC 52), title reports (CSI 20/21 t) and key definitions (DECUDK)
 * are dropped whole, in their ESC and UTF-8 C1 forms, however the bytes are
 * split across reads, and a CAN (0x18, a no-op in text) takes their place;
 * everything else comes out byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pty/pty.h"

/* Filter s in chunks of `chunk` bytes (0: all at once) with one state. */
static char *run(const char *s, size_t n, size_t chunk, size_t *outn)
{
	struct pty_outfilter f = { 0 };
	char *out = malloc(n + PTY_OUTFILTER_SLACK + 1);
	size_t o = 0;

	assert_non_null(out);
	if (!chunk)
		chunk = n ? n : 1;
	for (size_t i = 0; i < n; i += chunk)
		o += pty_outfilter(&f, s + i, n - i < chunk ? n - i : chunk, out + o);
	out[o] = 0;
	*outn = o;
	return out;
}

/* in -> want, whole and in every chunk size from 1 to 7 */
static void expect_n(const char *in, size_t inn, const char *want, size_t wantn)
{
	for (size_t chunk = 0; chunk < 8; chunk++) {
		size_t n;
		char *got = run(in, inn, chunk, &n);
		if (n != wantn || memcmp(got, want, n)) {
			fprintf(stderr, "chunk %zu: got %zu bytes, want %zu\n", chunk, n, wantn);
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, "%02x ", (unsigned char)got[i]);
			fprintf(stderr, "\n");
			free(got);
			fail();
		}
		free(got);
	}
}

static void expect(const char *in, const char *want)
{
	expect_n(in, strlen(in), want, strlen(want));
}

static void test_ordinary_output_unchanged(void **state)
{
	(void)state;
	const char *same[] = {
		"plain text\r\n",
		"\033[1;31mred\033[0m \033[38;2;255;128;0mtruecolour\033[m",
		"\033[H\033[2J\033[?1049h\033[23;1Hvim\033[?1049l",
		"\033]0;my title\007\033]2;other\033\\",      /* setting a title is fine */
		"\033]8;;https://example.com\033\\link\033]8;;\033\\",
		"\033]11;?\007\033]4;1;?\007",                  /* colour queries */
		"\033[14t\033[18t\033[8;24;80t\033[2t",         /* other window ops */
		"\033[?21t\033[>21t",                           /* private forms: not reports */
		"\033P$qm\033\\",                               /* DECRQSS */
		"caf\303\251 \304\235 \303\235 \302\251 \302\240",  /* é ĝ Ý © nbsp: 0x9d as a continuation byte */
		"\033[A\033x",                                  /* cursor up, Alt-x */
	};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		expect(same[i], same[i]);
}

static void test_clipboard_dropped(void **state)
{
	(void)state;
	expect("a\033]52;c;c2VjcmV0\007b", "a\030b");
	expect("a\033]52;c;?\033\\b", "a\030b");                    /* read-back request */
	expect("a\033]52;;cm0gLXJmIH4K\033\\b\033[0m", "a\030b\033[0m");
	expect("a\033]052;p;eA==\007b", "a\030b");                  /* leading zero */
	expect("a\302\23552;c;?\302\234b", "a\030b");               /* UTF-8 C1 OSC ... ST */
	expect("a\033]52;c;x\030b", "a\030b");                      /* CAN ends it */
	/* an ESC inside the dropped string ends it and starts the next sequence */
	expect("\033]52;c;x\033[1mB", "\030\033[1mB");
	/* a longer number is another OSC */
	expect("\033]520;x\007", "\033]520;x\007");
}

static void test_title_reports_dropped(void **state)
{
	(void)state;
	expect("a\033[21tb", "a\030b");
	expect("a\033[20tb", "a\030b");
	expect("a\033[021tb", "a\030b");
	expect("a\302\23321tb", "a\030b");
	expect("a\033[21;1;2tb", "a\030b");
	/* padded past what the filter holds: still dropped */
	char in[200], *p = in;
	p += sprintf(p, "a\033[21");
	for (int i = 0; i < 40; i++)
		p += sprintf(p, ";1");
	sprintf(p, "tb");
	expect(in, "a\030b");
	/* same first parameter, another final: passes */
	expect("\033[21;5H", "\033[21;5H");
	expect("\033[20h", "\033[20h");
}

static void test_key_definitions_dropped(void **state)
{
	(void)state;
	expect("a\0331;1|17/72702D7266207E0A\033\\b", "a\0331;1|17/72702D7266207E0A\033\\b"); /* ESC 1: not DCS */
	expect("a\033P1;1|17/72702D7266207E0A\033\\b", "a\030b");
	expect("a\033P|17/6C730A\007b", "a\030b");
	expect("a\302\2200;1|17/6C730A\302\234b", "a\030b");
}

/* Terminals execute (ESC, CSI) or ignore (OSC, DCS) a C0 control or DEL in
 * the middle of a sequence and carry on parsing it: the filter must too. */
static void test_controls_inside_sequences(void **state)
{
	(void)state;
	expect("\033\n]52;c;?\007x", "\n\030x");            /* executed, then the OSC */
	expect("\033]5\n2;c;?\007x", "\030x");               /* ignored inside the OSC */
	expect("\033]5\r\0162;c;?\033\\x", "\030x");
	expect("\033[2\n1tx", "\n\030x");
	expect("\033[2\1771tx", "\177\030x");
	expect("\033[21\b;1tx", "\b\030x");
	expect("\033P\n1;1|17/6C730A\033\\x", "\030x");
	/* CAN and SUB abort: the cut sequence is not shown, what follows is text */
	expect("\033]52\030;c;?\007", "\030;c;?\007");
	expect("\033[21\032t", "\032t");
	/* a byte of 0x80 or more inside a header: a terminal may read it as its
	 * 7-bit twin (0xb2 as '2'), so the sequence is not shown */
	expect("\033[2\2611tx", "\030x");
	expect("\033]5\262;c;?\007x", "\030x");
	expect("\033\335" "52;c;?\007x", "\030" "52;c;?\007x");
	/* an ESC cuts the sequence short and starts the next one */
	expect("\033[2\033[21tx", "\030x");
	expect("\033[2\033[1mx", "\033[1mx");
	expect("\033\033\n\377\377]52;c;?\007", "\n\030\377]52;c;?\007");
	/* a high byte in a CSI already shown (first parameter harmless) cancels it */
	expect("\033[;\233]52;c;?\007x", "\033[;\030]52;c;?\007x");
}

static void test_nul_bytes_pass(void **state)
{
	(void)state;
#define LIT(s) s, sizeof(s) - 1
	expect_n(LIT("a\0b\033]5\0;t\007"), LIT("a\0b\033]5\0;t\007"));
	expect_n(LIT("a\0b\033]52\0x\007c"), LIT("a\0b\030c"));
#undef LIT
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_ordinary_output_unchanged),
		cmocka_unit_test(test_clipboard_dropped),
		cmocka_unit_test(test_title_reports_dropped),
		cmocka_unit_test(test_key_definitions_dropped),
		cmocka_unit_test(test_controls_inside_sequences),
		cmocka_unit_test(test_nul_bytes_pass),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
