/* libFuzzer target for the exec path's parser of a file the agent writes:
 * the "#!" line of a script (enf_shebang).  What the kernel makes of the
 * same bytes is checked by tests/unit/enforce_shebang (the kernel runs each
 * header); here, on any bytes:
 *  - no read or write outside the buffers (ASan), at any output size;
 *  - only the first 256 bytes count, as for the kernel: bytes after them
 *    change nothing;
 *  - the interpreter's name holds no space or tab and the argument does not
 *    start with one (the kernel splits there).
 * Build: make fuzz; run: tests/fuzz/exec_header.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/notify_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char i1[ENF_SHEBANG_BUF + 1], a1[ENF_SHEBANG_BUF + 1];
	char i2[ENF_SHEBANG_BUF + 1], a2[ENF_SHEBANG_BUF + 1];
	char small_i[8], small_a[8];
	char *buf = malloc(n + ENF_SHEBANG_BUF);

	if (!buf)
		return 0;
	memcpy(buf, d, n);
	int r1 = enf_shebang(buf, n, i1, sizeof i1, a1, sizeof a1);
	/* output buffers smaller than the line: truncated, never overrun */
	int rs = enf_shebang(buf, n, small_i, sizeof small_i, small_a, sizeof small_a);
	if (rs != r1)
		abort();
	if (n >= ENF_SHEBANG_BUF) {
		/* the same first 256 bytes, other bytes after them */
		memset(buf + ENF_SHEBANG_BUF, '\n', n - ENF_SHEBANG_BUF);
		int r2 = enf_shebang(buf, n, i2, sizeof i2, a2, sizeof a2);
		if (r2 != r1 || (r1 >= 0 && (strcmp(i1, i2) || strcmp(a1, a2))))
			abort();
	}
	if (r1 >= 0 && (strpbrk(i1, " \t") || (r1 == 1 && (a1[0] == ' ' || a1[0] == '\t'))))
		abort();
	if (r1 == 0 && a1[0])
		abort();
	free(buf);
	return 0;
}
