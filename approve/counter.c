/* WebAuthn signature counters, and the store's lock they (and the TOTP replay
 * cache) are kept under.
 *
 * An authenticator that implements a signature counter increases it with
 * every assertion.  A key that was cloned (its private key copied) has two
 * counters that drift apart, so the host sees one go backwards or repeat:
 * such an assertion is refused as a possible clone (WebAuthn §6.1.1).  Keys
 * without a counter always send 0; 0 after 0 stays accepted.  The last
 * counter per credential is in <dir>/u2f-counters ("cred_b64 counter" lines,
 * 0600 like every store file) and is read, compared and rewritten under the
 * store's exclusive lock, so two sessions verifying at once cannot both
 * accept the same counter. */
#include "approve/approve_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define COUNTERS "u2f-counters"

int ap_store_lock(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.lock", dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

unsigned ap_store_methods_of(const char *dir, const char *name)
{
	char file[AP_NAME_MAX + 8], *s = NULL;
	struct ap_u2f *u = NULL;
	size_t nu = 0;
	unsigned m = 0;

	snprintf(file, sizeof(file), "%s.totp", name);
	if (ap_store_read_file(dir, file, &s, NULL) == 0) {
		m |= AP_M_BIT(APPROVE_M_TOTP);          /* readable and safe: usable */
		explicit_bzero(s, strlen(s));
	}
	free(s);
	if (ap_u2f_load(dir, &u, &nu) == 0)
		for (size_t i = 0; i < nu; i++)
			if (strcmp(u[i].name, name) == 0)
				m |= AP_M_BIT(APPROVE_M_WEBAUTHN);
	ap_u2f_free(u, nu);
	return m;
}

/* Rewrite the table with cred's counter set; every other line kept. */
static int counters_write(const char *dir, const char *old, const char *cred, uint32_t counter)
{
	size_t cap = (old ? strlen(old) : 0) + strlen(cred) + 16, len = 0;
	char *out = malloc(cap), *buf = old ? strdup(old) : NULL, *save = NULL;
	int rc;

	if (!out || (old && !buf)) {
		free(out);
		free(buf);
		return -ENOMEM;
	}
	for (char *l = buf ? strtok_r(buf, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(l, ' ');
		if (sp && (size_t)(sp - l) == strlen(cred) && strncmp(l, cred, (size_t)(sp - l)) == 0)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s\n", l);
	}
	len += (size_t)snprintf(out + len, cap - len, "%s %lu\n", cred, (unsigned long)counter);
	rc = ap_store_write_file(dir, COUNTERS, out, len, NULL, 0);
	free(out);
	free(buf);
	return rc;
}

/* The stored counter of cred, 0 when there is none. */
static uint32_t counter_lookup(const char *table, const char *cred)
{
	size_t n = strlen(cred);

	for (const char *l = table; l && *l;) {
		const char *nl = strchr(l, '\n');
		if (strncmp(l, cred, n) == 0 && l[n] == ' ')
			return (uint32_t)strtoul(l + n + 1, NULL, 10);
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

int ap_counter_check(const char *dir, const char *cred_b64, uint32_t counter, uint32_t *stored)
{
	char *table = NULL;
	int lk, rc;

	*stored = 0;
	if (!cred_b64 || !*cred_b64 || strchr(cred_b64, ' ') || strchr(cred_b64, '\n'))
		return -EINVAL;
	if ((lk = ap_store_lock(dir)) < 0)
		return lk;
	rc = ap_store_read_file(dir, COUNTERS, &table, NULL);
	if (rc < 0 && rc != -ENOENT)
		goto out;       /* unreadable table: refuse rather than miss a clone */
	*stored = counter_lookup(table, cred_b64);
	if ((counter || *stored) && counter <= *stored)
		rc = -ESTALE;
	else if (counter || *stored || rc == 0)
		rc = counters_write(dir, table, cred_b64, counter);
	else
		rc = 0;         /* 0 and nothing stored: a key without counters, nothing to keep */
out:
	free(table);
	close(lk);
	return rc;
}
