/* Candidate generators: commands on PATH, file names, policy words. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "completions/completions_int.h"

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A regular file (after symlinks) that this process may execute. */
static bool executable_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, 0) < 0 || !S_ISREG(st.st_mode))
		return false;
	return faccessat(dfd, name, X_OK, AT_EACCESS) == 0;
}

static bool directory_at(int dfd, const char *name, unsigned char d_type)
{
	struct stat st;
	if (d_type == DT_DIR)
		return true;
	if (d_type != DT_LNK && d_type != DT_UNKNOWN)
		return false;
	return fstatat(dfd, name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Opens dir, relative to cwd when it is relative (cwd NULL: our own). */
static DIR *open_dir(const char *cwd, const char *dir)
{
	if (dir[0] == '/' || !cwd)
		return opendir(dir);
	int cfd = open(cwd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0)
		return NULL;
	int fd = openat(cfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(cfd);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

static int scan_path_dir(const char *dir, const char *prefix, struct completions_list *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;       /* a missing PATH entry is normal, not an error */
	int err = 0;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.' && !prefix[0])
			continue;
		if (has_prefix(e->d_name, prefix) && executable_at(dirfd(d), e->d_name))
			err = compl_list_add(out, e->d_name);
	}
	closedir(d);
	return err;
}

int compl_commands(const char *path, const char *prefix, struct completions_list *out)
{
	if (!path)
		return 0;
	char *copy = strdup(path), *save = NULL;
	if (!copy)
		return -ENOMEM;
	int err = 0;
	/* Relative PATH entries (and the empty one, meaning ".") are skipped: what
	 * they name depends on where the delegate is when the command runs. */
	for (char *dir = strtok_r(copy, ":", &save); dir && !err; dir = strtok_r(NULL, ":", &save))
		if (dir[0] == '/')
			err = scan_path_dir(dir, prefix, out);
	free(copy);
	return err;
}

/* "~/x" and "~user/x" name directories under a home; "~" alone is "~/". */
static char *expand_tilde(const char *dir)
{
	if (dir[0] != '~')
		return strdup(dir);
	const char *slash = strchr(dir, '/');
	size_t ulen = slash ? (size_t)(slash - dir - 1) : strlen(dir) - 1;
	const char *home = NULL;
	struct passwd *pw;
	if (ulen == 0) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : getenv("HOME");
	} else {
		char user[LOGIN_NAME_MAX + 1];
		if (ulen > LOGIN_NAME_MAX)
			return NULL;
		memcpy(user, dir + 1, ulen);
		user[ulen] = '\0';
		pw = getpwnam(user);
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return NULL;
	char *r = NULL;
	if (asprintf(&r, "%s%s", home, slash ? slash : "/") < 0)
		return NULL;
	return r;
}

/* word = "dir/part": lists dir (relative to cwd) for names starting with part.
 * Candidates keep the dir as typed and end in '/' for directories. */
int compl_files(const char *cwd, const char *word, bool only_exec_or_dir,
		struct completions_list *out)
{
	const char *slash = strrchr(word, '/');
	size_t dlen = slash ? (size_t)(slash - word + 1) : 0;
	const char *part = word + dlen;
	char *typed = strndup(word, dlen);
	char *dir = typed ? expand_tilde(dlen ? typed : ".") : NULL;
	if (!dir) {
		int r = typed ? 0 : -ENOMEM;    /* unknown ~user: nothing to offer */
		free(typed);
		return r;
	}
	DIR *d = open_dir(cwd, dir);
	int err = 0;
	struct dirent *e;
	while (d && !err && (e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || (n[0] == '.' && part[0] != '.'))
			continue;
		if (!has_prefix(n, part))
			continue;
		bool isdir = directory_at(dirfd(d), n, e->d_type);
		if (only_exec_or_dir && !isdir && !executable_at(dirfd(d), n))
			continue;
		char *c = NULL;
		if (asprintf(&c, "%s%s%s", typed, n, isdir ? "/" : "") < 0)
			err = -ENOMEM;
		else
			err = compl_list_add(out, c);
		free(c);
	}
	if (d)
		closedir(d);
	free(dir);
	free(typed);
	return err;
}
