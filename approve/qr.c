/* Terminal QR code for TOTP enrollment: libqrencode encodes, we draw two module
 * rows per text line with half blocks.  No colour escapes (NO_COLOR-safe): light
 * modules are drawn as blocks in the terminal's foreground colour, which scans on
 * the usual light-on-dark terminal (the same convention as `qrencode -t UTF8`). */
#include "approve/approve_int.h"
#include "approve/lazylib_int.h"

#include <errno.h>

#define QUIET 2

static int light(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return 1;       /* quiet zone */
	return !(q->data[y * q->width + x] & 1);
}

int ap_qr_print(FILE *f, const char *text, char *err, size_t errlen)
{
	QRcode *q;

	if (ap_qr_load(err, errlen) < 0)
		return -ENOSYS;
	if (!(q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)))
		return -errno ? -errno : -EINVAL;
	for (int y = -QUIET; y < q->width + QUIET; y += 2) {
		for (int x = -QUIET; x < q->width + QUIET; x++) {
			int t = light(q, x, y), b = light(q, x, y + 1);
			fputs(t && b ? "\u2588" : t ? "\u2580" : b ? "\u2584" : " ", f);
		}
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}
