/* enforce_spawn — the spawn entry point against the real kernel: cgroup v2
 * placement, credential switch, fd hygiene, no_new_privs, kill-on-free; each
 * through both ways the child can be created (CLONE_VM and fork). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforce/enforce.h"
#include "enforce/enforce_int.h"
#include "policy/policy.h"

#define NOBODY 65534

static char sid[64];

static struct enforce_session *mk(void)
{
	static const gid_t groups[] = { NOBODY };
	struct enforce_config cfg = {
		.account = { .uid = NOBODY, .gid = NOBODY, .groups = groups, .ngroups = 1, .name = "nobody",
			     .home = "/" },
		.session_id = sid,
		.workspace = "/tmp",
	};
	static int n;
	snprintf(sid, sizeof sid, "t-spawn-%d-%d", (int)getpid(), n++);
	struct enforce_session *s = NULL;
	int rc = enforce_session_new(&cfg, &s);
	if (rc < 0)
		fail_msg("enforce_session_new: %s", enforce_strerror(s));
	return s;
}

/* Run sh -c SCRIPT in the session, collect stdout and the wait status. */
static int run(struct enforce_session *s, const char *script, char *out, size_t n, int *status)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct enforce_spawn_req r = { .argv = argv, .envp = envp, .stdio = { -1, p[1], 2 }, .ctty = -1 };
	pid_t pid;
	int pidfd;
	int rc = enforce_spawn(s, &r, &pid, &pidfd);
	close(p[1]);
	if (rc < 0) {
		close(p[0]);
		print_error("spawn: %s\n", enforce_strerror(s));
		return rc;
	}
	size_t got = 0;
	ssize_t k;
	while (got + 1 < n && (k = read(p[0], out + got, n - 1 - got)) > 0)
		got += (size_t)k;
	out[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
	close(pidfd);
	return 0;
}

static void t_runs_as_account_in_cgroup(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	char out[4096];
	int status;
	assert_int_equal(run(s, "id -u; id -g; id -G; grep NoNewPrivs /proc/self/status; "
			     "grep '^0::' /proc/self/cgroup; pwd", out, sizeof out, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	char want[512];
	snprintf(want, sizeof want, "65534\n65534\n65534\nNoNewPrivs:\t1\n0::/agentsh/%s\n/tmp\n", sid);
	assert_string_equal(out, want);
	enforce_session_free(s);
}

static void t_fds_closed(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	int leak = open("/etc/hostname", O_RDONLY);   /* not CLOEXEC on purpose */
	assert_true(leak >= 3);
	char out[4096];
	int status;
	assert_int_equal(run(s, "ls /proc/self/fd | sort -n | tr '\\n' ' '", out, sizeof out, &status), 0);
	/* 0 1 2 and the fd of ls's own directory listing */
	assert_string_equal(out, "0 1 2 3 ");
	close(leak);
	enforce_session_free(s);
}

static void t_exit_status_and_exec_error(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	char out[64];
	int status;
	assert_int_equal(run(s, "exit 7", out, sizeof out, &status), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 7);
	char *argv[] = { "/nonexistent/prog", NULL };
	struct enforce_spawn_req r = { .argv = argv, .stdio = { -1, -1, -1 }, .ctty = -1 };
	pid_t pid;
	int pidfd;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), -ENOENT);
	assert_non_null(strstr(enforce_strerror(s), "/nonexistent/prog"));
	char *rel[] = { "sh", NULL };
	r.argv = rel;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), -EINVAL);
	enforce_session_free(s);
}

/* before_exec runs once, after the sandbox is built and before the program:
 * the program's marker does not exist yet when it runs; a refusal kills the
 * child before its exec (the marker never appears, nothing is left running). */
struct gate {
	char marker[96];
	int calls, ret;
	bool marker_seen;
};

/* Spawn r in s, which must succeed, and wait for it: its wait status. */
static int spawn_wait(struct enforce_session *s, const struct enforce_spawn_req *r)
{
	pid_t pid;
	int pidfd, status;
	assert_int_equal(enforce_spawn(s, r, &pid, &pidfd), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(pidfd);
	return status;
}

static int gate_cb(void *arg)
{
	struct gate *g = arg;
	g->calls++;
	g->marker_seen = access(g->marker, F_OK) == 0;
	return g->ret;
}

static void t_before_exec_gate(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	struct gate g = { .ret = 0 };
	snprintf(g.marker, sizeof g.marker, "/tmp/agentsh-gate-%d", (int)getpid());
	unlink(g.marker);
	char script[160];
	snprintf(script, sizeof script, "touch %s", g.marker);
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct enforce_spawn_req r = { .argv = argv, .envp = envp, .stdio = { -1, -1, 2 }, .ctty = -1,
				       .before_exec = gate_cb, .before_exec_arg = &g };
	/* the marker's directory must be writable by nobody: /tmp is */
	int status = spawn_wait(s, &r);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(g.calls, 1);
	assert_false(g.marker_seen);
	assert_int_equal(access(g.marker, F_OK), 0);
	unlink(g.marker);

	g = (struct gate){ .ret = -EIO };
	snprintf(g.marker, sizeof g.marker, "/tmp/agentsh-gate-%d", (int)getpid());
	pid_t pid;
	int pidfd;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), -EIO);
	assert_int_equal(g.calls, 1);
	assert_non_null(strstr(enforce_strerror(s), "refused before its exec"));
	usleep(100000);
	assert_int_equal(access(g.marker, F_OK), -1);
	char procs[PATH_MAX + 16], buf[64];
	snprintf(procs, sizeof procs, "%s/cgroup.procs", s->cg.path);
	int fd = open(procs, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof buf), 0);        /* nothing of it is left */
	close(fd);
	enforce_session_free(s);
}

/* The child's fd table is a copy of ours: a descriptor it kept until its exec
 * would keep what the descriptor holds here, such as a flock, while the child
 * waits for before_exec.  By then the child has dropped every copy: a flock
 * taken on our descriptor and released here can be taken again at once. */
struct flock_gate {
	char path[96];
	int fd;             /* ours, locked when the child was created */
	int relock;         /* result of taking the lock again from a new descriptor */
};

static int flock_cb(void *arg)
{
	struct flock_gate *g = arg;
	close(g->fd);
	int fd = open(g->path, O_RDONLY | O_CLOEXEC);
	g->relock = fd < 0 ? -errno : flock(fd, LOCK_EX | LOCK_NB) < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return 0;
}

static void t_child_drops_inherited_fds(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	struct flock_gate g = { .relock = 1 };
	snprintf(g.path, sizeof g.path, "/tmp/agentsh-flock-%d", (int)getpid());
	g.fd = open(g.path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(g.fd >= 0);
	assert_int_equal(flock(g.fd, LOCK_EX), 0);
	char *argv[] = { "/bin/true", NULL };
	char *envp[] = { NULL };
	struct enforce_spawn_req r = { .argv = argv, .envp = envp, .stdio = { -1, -1, -1 }, .ctty = -1,
				       .before_exec = flock_cb, .before_exec_arg = &g };
	int status = spawn_wait(s, &r);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(g.relock, 0);      /* -EWOULDBLOCK: the child still held our lock */
	unlink(g.path);
	enforce_session_free(s);
}

static void t_free_kills_tree_and_removes_cgroup(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	char *argv[] = { "/bin/sh", "-c", "sleep 1000 & sleep 1000 & (sleep 1000 &) ; sleep 1000", NULL };
	struct enforce_spawn_req r = { .argv = argv, .stdio = { -1, -1, -1 }, .ctty = -1 };
	pid_t pid;
	int pidfd;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), 0);
	char path[256];
	snprintf(path, sizeof path, "/sys/fs/cgroup/unified/agentsh/%s", sid);
	usleep(200000);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	enforce_session_free(s);
	assert_int_equal(stat(path, &sb), -1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(pidfd);
}

static void t_refuses_root_and_bad_id(void **st)
{
	(void)st;
	struct enforce_config cfg = { .account = { .uid = 0, .gid = 0 }, .session_id = "x", .workspace = "/" };
	struct enforce_session *s = NULL;
	assert_int_equal(enforce_session_new(&cfg, &s), -EPERM);
	assert_non_null(strstr(enforce_strerror(s), "root"));
	enforce_session_free(s);
	cfg.account.uid = cfg.account.gid = NOBODY;
	cfg.session_id = "../escape";
	assert_int_equal(enforce_session_new(&cfg, &s), -EINVAL);
	enforce_session_free(s);
}

static void t_signal(void **st)
{
	(void)st;
	struct enforce_session *s = mk();
	char *argv[] = { "/bin/sleep", "1000", NULL };
	struct enforce_spawn_req r = { .argv = argv, .stdio = { -1, -1, -1 }, .ctty = -1 };
	pid_t pid;
	int pidfd;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), 0);
	assert_int_equal(enforce_session_signal(s, SIGTERM), 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	close(pidfd);
	enforce_session_free(s);
}

/* idle_timeout: armed by the first activity, reset by later ones */
static void t_idle_timeout(void **st)
{
	(void)st;
	static const char y[] = "version: 1\nname: idle\nfile_rules:\n  - name: all\n    paths: [\"/**\"]\n"
				"    operations: [\"*\"]\n    decision: allow\ncommand_rules:\n  - name: all\n"
				"    commands: [\"*\"]\n    decision: allow\nresource_limits:\n  idle_timeout: 1s\n";
	struct policy_vars v = { .home = "/tmp", .workspace = "/tmp", .tmpdir = "/tmp", .user = "nobody" };
	struct policy *pol = NULL;
	assert_int_equal(policy_load_buffer(y, strlen(y), "idle", &v, &pol, NULL), 0);
	static const gid_t groups[] = { NOBODY };
	snprintf(sid, sizeof sid, "t-idle-%d", (int)getpid());
	struct enforce_config cfg = {
		.policy = pol, .session_id = sid, .workspace = "/tmp",
		.account = { .uid = NOBODY, .gid = NOBODY, .groups = groups, .ngroups = 1, .name = "nobody" },
	};
	struct enforce_session *s = NULL;
	if (enforce_session_new(&cfg, &s) < 0)
		fail_msg("enforce_session_new: %s", enforce_strerror(s));
	char *argv[] = { "/bin/sleep", "10", NULL };
	struct enforce_spawn_req r = { .argv = argv, .stdio = { -1, -1, -1 }, .ctty = -1 };
	pid_t pid;
	int pidfd;
	assert_int_equal(enforce_spawn(s, &r, &pid, &pidfd), 0);
	for (int i = 0; i < 4; i++) {          /* activity every 0.5 s keeps it alive */
		enforce_session_activity(s);
		usleep(500000);
	}
	assert_false(enforce_session_timed_out(s));
	int status;
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);   /* then 1 s of silence */
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(enforce_session_timed_out(s));
	close(pidfd);
	enforce_session_free(s);
	policy_free(pol);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: enforce_spawn needs root (it creates cgroups and switches uid)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_runs_as_account_in_cgroup),
		cmocka_unit_test(t_fds_closed),
		cmocka_unit_test(t_exit_status_and_exec_error),
		cmocka_unit_test(t_before_exec_gate),
		cmocka_unit_test(t_child_drops_inherited_fds),
		cmocka_unit_test(t_free_kills_tree_and_removes_cgroup),
		cmocka_unit_test(t_refuses_root_and_bad_id),
		cmocka_unit_test(t_signal),
		cmocka_unit_test(t_idle_timeout),
	};
	/* both ways of creating the child: CLONE_VM (x86-64) and a copy (fork) */
	int failed = cmocka_run_group_tests_name("clone_vm", tests, NULL, NULL);
	enf_spawn_copy_mm = true;
	return failed + cmocka_run_group_tests_name("copy_mm", tests, NULL, NULL);
}
