/* Helpers shared by tests/unit/bpf_*.c: throw-away cgroup v2 directories and children
 * that enter them, wait for the parent's go, then run a function. */
#ifndef BPF_TEST_UTIL_H
#define BPF_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bpf/bpf.h"

struct tcg {
	char path[256];
	int fd;
};

/* Skip (exit 77, reason last) unless root with a cgroup2 mount and a usable guard. */
static inline void tcg_require(void)
{
	struct bpf_probe_report r;
	signal(SIGPIPE, SIG_IGN); /* a child that already exited must not kill the test */
	/* LeakSanitizer clones a tracer process at exit: it would show up as fork events */
	const char *ao = getenv("ASAN_OPTIONS");
	char buf[512];
	snprintf(buf, sizeof buf, "%s%sdetect_leaks=0", ao ? ao : "", ao && *ao ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
	if (geteuid() != 0) {
		printf("SKIP: needs root (creates cgroups and loads eBPF)\n");
		exit(77);
	}
	if (bpf_probe(&r) || !r.guard_usable) {
		for (int i = 0; i < BPF_FEAT__COUNT; i++)
			if (r.f[i].name && !r.f[i].ok && i != BPF_FEAT_LSM && i != BPF_FEAT_FENTRY)
				printf("# %s: %s\n", r.f[i].name, r.f[i].detail);
		printf("SKIP: this kernel cannot run the bpf guard (see lines above)\n");
		exit(77);
	}
}

static inline const char *tcg_root(void)
{
	static struct bpf_probe_report r;
	static int done;
	if (!done) {
		bpf_probe(&r);
		done = 1;
	}
	return r.cgroup2_mount;
}

static inline int tcg_create(struct tcg *c, const char *tag)
{
	snprintf(c->path, sizeof c->path, "%s/agentsh-test-bpf-%d-%s", tcg_root(), (int)getpid(), tag);
	if (mkdir(c->path, 0755) < 0 && errno != EEXIST)
		return -errno;
	c->fd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return c->fd < 0 ? -errno : 0;
}

static inline int tcg_write(const struct tcg *c, const char *file, const char *val)
{
	char p[320];
	snprintf(p, sizeof p, "%s/%s", c->path, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

static inline int tcg_enter(const struct tcg *c)
{
	char b[32];
	snprintf(b, sizeof b, "%d\n", (int)getpid());
	return tcg_write(c, "cgroup.procs", b);
}

/* Kill whatever is left, wait for the cgroup to empty, remove it. */
static inline void tcg_destroy(struct tcg *c)
{
	if (!c->path[0])
		return;
	tcg_write(c, "cgroup.kill", "1");
	for (int i = 0; i < 200 && rmdir(c->path) < 0 && errno == EBUSY; i++)
		usleep(10000);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->path[0] = 0;
}

/* Path of a helper program from tests/tools, next to this test binary's directory. */
static inline const char *tool_path(const char *name)
{
	static char out[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		return name;
	self[n] = 0;
	snprintf(out, sizeof out, "%s/../tools/%s", dirname(self), name);
	return out;
}

struct tchild {
	pid_t pid;
	int go_w;	/* parent writes one byte: go */
};

/* Fork a child that (if c) enters cgroup c, reports ready, waits for go, then runs fn. */
static inline int tchild_start(struct tchild *t, const struct tcg *c, void (*fn)(void *), void *arg)
{
	int ready[2], go[2];
	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	t->pid = fork();
	if (t->pid < 0)
		return -errno;
	if (t->pid == 0) {
		char b = 0;
		if (c && tcg_enter(c))
			_exit(120);
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(121);
		fn(arg);
		_exit(122);
	}
	char b;
	close(ready[1]);
	close(go[0]);
	int ok = read(ready[0], &b, 1) == 1;
	close(ready[0]);
	t->go_w = go[1];
	return ok ? 0 : -ECHILD;
}

/* Send go, wait for the child (5 s limit), return its wait status. */
static inline int tchild_go_wait(struct tchild *t)
{
	char b = 1;
	int st = -1;
	if (write(t->go_w, &b, 1) != 1) {
		/* the child may have been told already and be gone */
	}
	close(t->go_w);
	for (int i = 0; i < 500; i++) {
		if (waitpid(t->pid, &st, WNOHANG) == t->pid)
			return st;
		usleep(10000);
	}
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	return -2;
}

static inline int file_exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* Collects events during a bpf_guard_poll. */
#define TEV_MAX 256
struct tevents {
	int n;
	struct bpf_event ev[TEV_MAX];
};

static inline void tev_cb(void *ctx, const struct bpf_event *e)
{
	struct tevents *t = ctx;
	if (t->n < TEV_MAX)
		t->ev[t->n++] = *e;
}

/* Poll until no event arrived for 150 ms (the flush timer is 50 ms). */
static inline void tev_drain(struct bpf_guard *g, struct tevents *t)
{
	while (bpf_guard_poll(g, 150, tev_cb, t) > 0)
		;
}

static inline const struct bpf_event *tev_find(const struct tevents *t, enum bpf_event_type type, pid_t pid)
{
	for (int i = 0; i < t->n; i++)
		if (t->ev[i].type == type && (!pid || t->ev[i].pid == pid))
			return &t->ev[i];
	return NULL;
}


/* The exec-check fixture shared by bpf_exec and bpf_exec_args (needs cmocka): a
 * session cgroup with the guard on it, a marker tool, a shebang script that appends to
 * its marker, and the inodes an announcement names. */
struct exec_fx {
	struct tcg cg;
	struct bpf_guard *g;
	char dir[64], marker[128], script[128];
	struct stat marker_st, script_st, sh_st, true_st;
};

static inline int exec_fx_setup(void **state, const char *name)
{
	struct exec_fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->cg.fd = -1;
	assert_int_equal(tcg_create(&f->cg, name), 0);
	assert_int_equal(bpf_guard_open(f->cg.fd, &f->g), 0);
	snprintf(f->dir, sizeof f->dir, "/tmp/bpf-%s-XXXXXX", name);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->marker, sizeof f->marker, "%s/marker", f->dir);
	snprintf(f->script, sizeof f->script, "%s/script.sh", f->dir);
	FILE *s = fopen(f->script, "w");
	assert_non_null(s);
	fprintf(s, "#!/bin/sh\necho ran >> %s\n", f->marker);
	fclose(s);
	chmod(f->script, 0755);
	assert_int_equal(stat(tool_path("bpf_marker"), &f->marker_st), 0);
	assert_int_equal(stat(f->script, &f->script_st), 0);
	assert_int_equal(stat("/bin/sh", &f->sh_st), 0); /* follows the link: the real interpreter */
	assert_int_equal(stat("/bin/true", &f->true_st), 0);
	*state = f;
	return 0;
}

static inline int exec_fx_teardown(void **state)
{
	struct exec_fx *f = *state;
	bpf_guard_close(f->g);
	tcg_destroy(&f->cg);
	unlink(f->marker);
	unlink(f->script);
	rmdir(f->dir);
	free(f);
	return 0;
}

#endif
