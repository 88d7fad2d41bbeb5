/* TOTP (RFC 6238, SHA-1, 6 digits, 30 s) with liboath, plus the replay cache:
 * an accepted (approver, time step) is written to a root-only file under an
 * exclusive lock before the answer counts, so neither another session's broker
 * nor a restarted one accepts the same code again. */
#include "approve/approve_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#define STEP 30u
#define DIGITS 6

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_ok;

static void oath_boot(void)
{
	oath_ok = oath_init() == OATH_OK;
}

static int code_ok(const char *code)
{
	size_t n = code ? strlen(code) : 0;

	if (n != DIGITS)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)code[i]))
			return 0;
	return 1;
}

/* Decode NAME.totp (base32, spaces allowed) into raw secret bytes. */
static int load_secret(const char *dir, const char *name, char **raw, size_t *rawlen)
{
	char file[AP_NAME_MAX + 8], *b32, *w = NULL;
	int rc;

	snprintf(file, sizeof(file), "%s.totp", name);
	if ((rc = ap_store_read_file(dir, file, &b32, NULL)) < 0)
		return rc;
	w = b32;
	for (char *r = b32; *r; r++)
		if (!isspace((unsigned char)*r))
			*w++ = (char)toupper((unsigned char)*r);
	*w = 0;
	rc = oath_base32_decode(b32, strlen(b32), raw, rawlen) == OATH_OK && *rawlen >= 10 ? 0 : -EINVAL;
	free(b32);
	return rc;
}

/* Under the lock: is (name, step) already used?  If not, record it and drop
 * entries too old to matter.  0 recorded, -EALREADY replay, <0 error. */
static int replay_record(const char *dir, const char *name, uint64_t step, uint64_t now_step,
			 unsigned window)
{
	char *buf = NULL, *save = NULL, *out;
	size_t cap, len = 0;
	int rc;

	rc = ap_store_read_file(dir, "totp-replay", &buf, NULL);
	if (rc < 0 && rc != -ENOENT)
		return rc;      /* unreadable cache: refuse rather than risk a replay */
	cap = (buf ? strlen(buf) : 0) + AP_NAME_MAX + 32;
	if (!(out = malloc(cap))) {
		free(buf);
		return -ENOMEM;
	}
	rc = 0;
	for (char *l = buf ? strtok_r(buf, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char n[AP_NAME_MAX];
		unsigned long long s;
		if (sscanf(l, "%63s %llu", n, &s) != 2)
			continue;
		if (strcmp(n, name) == 0 && s == step)
			rc = -EALREADY;
		if (s + window + 2 < now_step)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", n, s);
	}
	if (rc == 0) {
		len += (size_t)snprintf(out + len, cap - len, "%s %llu\n", name, (unsigned long long)step);
		rc = ap_store_write_file(dir, "totp-replay", out, len, NULL, 0);
	}
	free(out);
	free(buf);
	return rc;
}

/* Does code match name's secret?  1 with *step set, 0 no, <0 error. */
static int match_one(const char *dir, const char *name, const char *code, unsigned window,
		     time_t now, uint64_t *step)
{
	char *raw = NULL;
	size_t rawlen = 0;
	int pos = 0, rc;
	uint64_t counter = 0;

	if ((rc = load_secret(dir, name, &raw, &rawlen)) < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = oath_totp_validate3(raw, rawlen, now, STEP, 0, window, &pos, &counter, code);
	explicit_bzero(raw, rawlen);
	free(raw);
	if (rc < 0)
		return 0;
	*step = counter;
	return 1;
}

int ap_totp_check(const char *dir, const char *code, unsigned window, time_t now,
		  char *name, size_t namelen)
{
	return ap_totp_check_allowed(dir, code, window, now, NULL, name, namelen);
}

/* Only the secrets of approvers allow admits are tried: a code of an approver
 * this request does not accept must neither approve nor be spent. */
int ap_totp_check_allowed(const char *dir, const char *code, unsigned window, time_t now,
			  const struct ap_allow *allow, char *name, size_t namelen)
{
	char **names;
	size_t n;
	int rc = -EACCES, lk;

	pthread_once(&oath_once, oath_boot);
	if (!oath_ok || !code_ok(code))
		return -EACCES;
	if (ap_store_names(dir, &names, &n) < 0)
		return -ENOENT;
	if ((lk = ap_store_lock(dir)) < 0) {
		ap_strv_free(names, n);
		return lk;
	}
	for (size_t i = 0; i < n && rc == -EACCES; i++) {
		uint64_t step = 0;
		if (allow && !ap_allow_name(allow, names[i]))
			continue;
		int m = match_one(dir, names[i], code, window, now, &step);
		if (m <= 0)
			continue;
		rc = replay_record(dir, names[i], step, (uint64_t)now / STEP, window);
		if (rc == 0)
			snprintf(name, namelen, "%s", names[i]);
	}
	close(lk);
	ap_strv_free(names, n);
	return rc;
}

int ap_totp_generate_secret(char **b32)
{
	unsigned char raw[20];
	size_t len = 0;

	pthread_once(&oath_once, oath_boot);
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	if (oath_base32_encode((const char *)raw, sizeof(raw), b32, &len) != OATH_OK)
		return -ENOMEM;
	explicit_bzero(raw, sizeof(raw));
	return 0;
}
