/* libFuzzer target for the audit module's parsers of untrusted input:
 *  - the anchor file (a root-only file, but verify must survive any content);
 *  - time arguments (--since/--until);
 *  - terminal-safe printing of untrusted text;
 *  - events built from arbitrary strings (NUL-separated fields, as an agent
 *    controls paths, argv and DNS names): canonical serialisation must be
 *    deterministic and JSON conversion must not crash whatever the bytes.
 * Build: make fuzz; run: tests/fuzz/audit_input.sh. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit_int.h"

static struct audit_hmac *mac;
static char anchor_path[64];

static void init(void)
{
	static const unsigned char key[AUDIT_KEY_LEN] = { 1, 2, 3 };
	if (mac)
		return;
	if (audit_hmac_new(key, &mac))
		abort();
	snprintf(anchor_path, sizeof anchor_path, "/tmp/audit-fuzz-anchor.%d", (int)getpid());
}

static void fuzz_anchor(const uint8_t *d, size_t n)
{
	int fd = open(anchor_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	if (write(fd, d, n) != (ssize_t)n) {
		close(fd);
		return;
	}
	close(fd);
	struct audit a = { .anchor_path = anchor_path };
	int64_t seq;
	unsigned char link[AUDIT_LINK_LEN];
	int rc = audit_anchor_read(&a, mac, &seq, link);
	/* random bytes never carry a valid MAC */
	if (rc == 0 && seq >= 0 && n > 0)
		abort();
}

static void fuzz_event(const uint8_t *d, size_t n)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return;
	memcpy(buf, d, n);
	buf[n] = 0;
	const char *f[8] = { 0 };
	size_t k = 0;
	for (char *p = buf; k < 8 && p <= buf + n; p += strlen(p) + 1)
		f[k++] = p;
	struct audit_event ev = AUDIT_EVENT_INIT(n ? 1 + d[0] % (AUDIT_TYPE_MAX - 1) : AUDIT_FILE);
	ev.operation = f[0];
	ev.path = f[1];
	ev.path2 = f[2];
	ev.argv = f[3];
	ev.dns_name = f[4];
	ev.rule = f[5];
	ev.details = f[6];
	ev.command = f[7];
	ev.decision = n > 1 ? d[1] % AUDIT_DEC_MAX : 0;
	ev.effective = n > 2 ? d[2] % AUDIT_DEC_MAX : 0;
	ev.port = n > 3 ? d[3] : -1;
	unsigned char *c1 = NULL, *c2 = NULL;
	size_t cap1 = 0, cap2 = 0;
	struct audit_rec *r = audit_rec_new(&ev);
	ssize_t l1 = audit_canon(&ev, 7, &c1, &cap1);
	ssize_t l2 = r ? audit_canon(&r->ev, 7, &c2, &cap2) : l1;
	if (r && (l1 != l2 || (l1 > 0 && memcmp(c1, c2, (size_t)l1))))
		abort();
	json_t *j = audit_event_json(&ev, 7);
	char *s = json_dumps(j, JSON_COMPACT);
	free(s);
	json_decref(j);
	int64_t ns;
	audit_parse_time(f[0], &ns);
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull)
		audit_fput_safe(f[1], devnull);
	free(c1);
	free(c2);
	free(r);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	init();
	if (n && d[0] & 0x80)
		fuzz_anchor(d + 1, n - 1);
	else
		fuzz_event(d, n);
	return 0;
}
