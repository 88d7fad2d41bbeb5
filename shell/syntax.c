/* Is the text typed so far a complete command, or does it need PS2?  Asked
 * of `bash -n` (parse only, nothing executed) outside the sandbox, with a
 * clean environment and the account's uid.  This is UI only: it never decides
 * what may run; the delegate gets the text either way. */
#include "shell/shell_int.h"
#include "shell/syntax_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* A line ending in an odd number of backslashes continues (bash -n accepts it
 * at end of input). */
static bool ends_with_continuation(const char *text)
{
	size_t n = strlen(text), k = 0;
	while (n > 0 && text[n - 1] == '\\') {
		n--;
		k++;
	}
	return k % 2 == 1;
}

bool syntax_msg_incomplete(const char *err)
{
	return strstr(err, "unexpected end of file") ||
	       strstr(err, "delimited by end-of-file") ||
	       strstr(err, "unexpected EOF while looking for matching");
}

int syntax_incomplete(const char *bash, const char *text, uid_t uid, gid_t gid)
{
	int in = -1, err = -1, r = 0, st;
	char buf[2048];
	pid_t pid;

	if (ends_with_continuation(text))
		return 1;
	in = memfd_create("agentsh-syntax-in", MFD_CLOEXEC);
	err = memfd_create("agentsh-syntax-err", MFD_CLOEXEC);
	if (in < 0 || err < 0) {
		r = -errno;
		goto out;
	}
	size_t len = strlen(text);
	if (write(in, text, len) != (ssize_t)len || write(in, "\n", 1) != 1 ||
	    lseek(in, 0, SEEK_SET) < 0) {
		r = -EIO;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		char *const av[] = { (char *)bash, "-n", NULL };
		char *const env[] = { "LC_ALL=C", "PATH=/usr/bin:/bin", NULL };
		int nul = open("/dev/null", O_WRONLY);
		if (dup2(in, 0) < 0 || dup2(err, 2) < 0 || nul < 0 || dup2(nul, 1) < 0)
			_exit(126);
		/* euid: a set-uid install runs agentsh as root for a real uid that is not */
		if (geteuid() == 0 && uid != 0 &&
		    (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		     setresuid(uid, uid, uid) < 0))
			_exit(126);
		execve(bash, av, env);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			r = -errno;
			goto out;
		}
	ssize_t n = pread(err, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	r = syntax_msg_incomplete(buf) ? 1 : 0;
out:
	if (in >= 0)
		close(in);
	if (err >= 0)
		close(err);
	return r;
}
