/* The approver store: a root-owned 0700 directory of 0600 files.  Every read
 * checks ownership and mode, so a secret made readable by mistake is refused
 * rather than trusted (fail closed). */
#include "approve/approve_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fido.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

int ap_store_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		int e = errno;
		ap_err(err, errlen, "approver store %s: %s; enroll an approver as root with "
		       "'agentsh approver add NAME --totp'", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode) || !owner_ok(&st) || (st.st_mode & 077)) {
		ap_err(err, errlen, "approver store %s must be a directory owned by root with mode "
		       "0700 (it is %04o, uid %u); fix with: chown root: %s && chmod 700 %s",
		       dir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, dir, dir);
		return -EPERM;
	}
	return 0;
}

int ap_store_ensure(const char *dir, char *err, size_t errlen)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *s = tmp + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
				int e = errno;
				ap_err(err, errlen, "cannot create %s: %s", tmp, strerror(e));
				return -e;
			}
			*s = '/';
		}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		ap_err(err, errlen, "cannot create approver store %s: %s", dir, strerror(e));
		return -e;
	}
	return ap_store_check(dir, err, errlen);
}

int ap_store_write_file(const char *dir, const char *file, const char *data, size_t len,
			char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	int fd, e = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		e = errno;
		ap_err(err, errlen, "cannot write %s: %s", tmp, strerror(e));
		return -e;
	}
	if (fchmod(fd, 0600) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0)
		e = errno ? errno : EIO;
	close(fd);
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		ap_err(err, errlen, "cannot write %s: %s", path, strerror(e));
		return -e;
	}
	return 0;
}

int ap_store_read_file(const char *dir, const char *file, char **out, size_t *len)
{
	char path[4096];
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !owner_ok(&st) || (st.st_mode & 077) ||
	    st.st_size > (1 << 20)) {
		close(fd);
		return -EPERM;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = (size_t)n;
	return 0;
}

void ap_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **nv;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	if (!(nv = realloc(*v, (*n + 1) * sizeof(char *))))
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ap_store_names(const char *dir, char ***names, size_t *n)
{
	struct ap_u2f *u = NULL;
	size_t nu = 0;
	struct dirent *de;
	DIR *d;

	*names = NULL;
	*n = 0;
	if (ap_store_check(dir, NULL, 0) < 0 || !(d = opendir(dir)))
		return -ENOENT;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char nm[AP_NAME_MAX];
		if (l <= 5 || l - 5 >= sizeof(nm) || strcmp(de->d_name + l - 5, ".totp") != 0)
			continue;
		memcpy(nm, de->d_name, l - 5);
		nm[l - 5] = 0;
		if (ap_name_ok(nm))
			strv_add(names, n, nm);
	}
	closedir(d);
	if (ap_u2f_load(dir, &u, &nu) == 0)
		for (size_t i = 0; i < nu; i++)
			strv_add(names, n, u[i].name);
	ap_u2f_free(u, nu);
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

bool ap_store_has_any(const char *dir)
{
	char **v;
	size_t n;

	if (ap_store_names(dir, &v, &n) < 0)
		return false;
	ap_strv_free(v, n);
	return n > 0;
}

bool ap_store_account_allowed(const char *dir, const char *account)
{
	char **v, *buf, *save = NULL;
	size_t n;
	bool ok = false;

	if (ap_store_names(dir, &v, &n) == 0) {
		for (size_t i = 0; i < n && !ok; i++)
			ok = strcmp(v[i], account) == 0;
		ap_strv_free(v, n);
	}
	if (!ok && ap_store_read_file(dir, "accounts", &buf, NULL) == 0) {
		for (char *l = strtok_r(buf, "\n", &save); l && !ok; l = strtok_r(NULL, "\n", &save))
			ok = strcmp(l, account) == 0;
		free(buf);
	}
	return ok;
}

/* ---- pam_u2f authfile: NAME:KH,PK,COSE,OPTS[:KH,PK,COSE,OPTS...] ---- */

static int cose_parse(const char *s)
{
	if (strcmp(s, "es256") == 0)
		return COSE_ES256;
	if (strcmp(s, "eddsa") == 0)
		return COSE_EDDSA;
	if (strcmp(s, "rs256") == 0)
		return COSE_RS256;
	return 0;
}

static int u2f_push(struct ap_u2f **v, size_t *n, const char *name, char *cred)
{
	char *save = NULL, *kh = strtok_r(cred, ",", &save), *pk = strtok_r(NULL, ",", &save);
	char *cose = strtok_r(NULL, ",", &save), *opts = strtok_r(NULL, ",", &save);
	struct ap_u2f *nv, *e;

	if (!kh || !pk || !cose || !cose_parse(cose))
		return 0;       /* unreadable credential: ignored, never trusted */
	if (!(nv = realloc(*v, (*n + 1) * sizeof(**v))))
		return -ENOMEM;
	*v = nv;
	e = &nv[*n];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kh_b64 = strdup(kh);
	e->pk_b64 = strdup(pk);
	e->cose = cose_parse(cose);
	e->presence = !opts || strstr(opts, "+presence") || !strstr(opts, "-presence");
	(*n)++;
	return 0;
}

int ap_u2f_load(const char *dir, struct ap_u2f **out, size_t *n)
{
	char *buf, *save = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = ap_store_read_file(dir, "u2f_keys", &buf, NULL)) < 0)
		return rc == -ENOENT ? 0 : rc;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL, *name = strtok_r(l, ":", &s2), *cred;
		if (!name || !ap_name_ok(name))
			continue;
		while ((cred = strtok_r(NULL, ":", &s2)))
			if (u2f_push(out, n, name, cred) < 0) {
				free(buf);
				return -ENOMEM;
			}
	}
	free(buf);
	return 0;
}

void ap_u2f_free(struct ap_u2f *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].kh_b64);
		free(v[i].pk_b64);
	}
	free(v);
}

/* Rewrite u2f_keys keeping every line except NAME's; append line if given. */
static int u2f_rewrite(const char *dir, const char *name, const char *line, int *removed,
		       char *err, size_t errlen)
{
	char *buf = NULL, *save = NULL, *out;
	size_t cap, len = 0, nl = strlen(name);
	int rc;

	if ((rc = ap_store_read_file(dir, "u2f_keys", &buf, NULL)) < 0 && rc != -ENOENT) {
		ap_err(err, errlen, "cannot read %s/u2f_keys (must be root-owned 0600): %s", dir,
		       strerror(-rc));
		return rc;
	}
	if (rc == -ENOENT && !line)
		return 0;       /* nothing to remove, nothing to create */
	cap = (buf ? strlen(buf) : 0) + (line ? strlen(line) : 0) + 2;
	if (!(out = malloc(cap))) {
		free(buf);
		return -ENOMEM;
	}
	out[0] = 0;
	for (char *l = buf ? strtok_r(buf, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, name, nl) == 0 && l[nl] == ':') {
			if (removed)
				(*removed)++;
			if (line)
				continue;       /* replaced below, merged with the new credential */
			continue;
		}
		len += (size_t)snprintf(out + len, cap - len, "%s\n", l);
	}
	if (line)
		len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
	rc = ap_store_write_file(dir, "u2f_keys", out, len, err, errlen);
	free(out);
	free(buf);
	return rc;
}

int ap_u2f_append(const char *dir, const char *name, const char *kh_b64, const char *pk_b64,
		  const char *cose_name, char *err, size_t errlen)
{
	struct ap_u2f *v = NULL;
	size_t n = 0, cap = 256, len;
	char *line;
	int rc;

	if ((rc = ap_u2f_load(dir, &v, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			cap += strlen(v[i].kh_b64) + strlen(v[i].pk_b64) + 32;
	cap += strlen(name) + strlen(kh_b64) + strlen(pk_b64);
	if (!(line = malloc(cap))) {
		ap_u2f_free(v, n);
		return -ENOMEM;
	}
	len = (size_t)snprintf(line, cap, "%s", name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			len += (size_t)snprintf(line + len, cap - len, ":%s,%s,%s,+presence", v[i].kh_b64,
						v[i].pk_b64, v[i].cose == COSE_EDDSA ? "eddsa" :
						v[i].cose == COSE_RS256 ? "rs256" : "es256");
	snprintf(line + len, cap - len, ":%s,%s,%s,+presence", kh_b64, pk_b64, cose_name);
	ap_u2f_free(v, n);
	rc = u2f_rewrite(dir, name, line, NULL, err, errlen);
	free(line);
	return rc;
}

int ap_u2f_remove(const char *dir, const char *name, int *removed, char *err, size_t errlen)
{
	return u2f_rewrite(dir, name, NULL, removed, err, errlen);
}
