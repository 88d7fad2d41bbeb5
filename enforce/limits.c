/* limits.c — resource_limits: cgroup controllers where they live, and timeouts.
 *
 * Controllers: cgroup v2 when the v2 root offers them (systemd hosts); else the
 * v1 hierarchy that has them.  In v1 the session joins a child of the cgroup the
 * supervisor itself is in (read from /proc/self/cgroup) — on this host the v1
 * memory cgroup belongs to the machinery that runs us, and tasks must never be
 * moved out of it.  The child writes itself into the v1 `tasks` file before it
 * drops privileges; the v2 placement is atomic (clone3 CLONE_INTO_CGROUP).
 * `tasks`, not `cgroup.procs`: the child is a thread group of one, so the two
 * move the same thing, but only a write to `cgroup.procs` takes the global
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period
 * (10-19 ms per spawn on a host without `favordynmods`).
 *
 * Timeouts: one timer thread per session with three deadlines (command, session,
 * idle); expiry kills the whole session cgroup and marks it timed out (124). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "enforce/enforce_int.h"
#include "policy/policy.h"

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int write_file(const char *dir, const char *file, const char *val)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
		return -ENAMETOOLONG;
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int e = w < 0 ? -errno : 0;
	close(fd);
	return e;
}

/* What the limits are looked up in, read once per session: each read of
 * /proc/self/mountinfo makes the kernel print every mount, and reading the
 * three files again for each controller cost ~0.25 ms of every start here. */
struct cg_tables {
	char *mountinfo, *cgroup, *v2ctrls;     /* NULL: not read yet (or unreadable) */
	bool have_mountinfo, have_cgroup, have_v2ctrls;
};

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while (buf && (n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += (size_t)n;
		if (len + 1 < cap)
			continue;
		char *b = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;
		if (!b)
			free(buf);
		buf = b;
		cap *= 2;
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

static const char *table(char **slot, bool *have, const char *path)
{
	if (!*have) {
		*slot = slurp(path);
		*have = true;
	}
	return *slot;
}

static void tables_free(struct cg_tables *t)
{
	free(t->mountinfo);
	free(t->cgroup);
	free(t->v2ctrls);
}

static bool has_word(const char *buf, const char *word)
{
	size_t wl = strlen(word);
	if (!buf)
		return false;
	for (const char *p = buf; (p = strstr(p, word)); p += wl)
		if ((p == buf || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || !p[wl]))
			return true;
	return false;
}

/* The line of a table (a copy, NUL-terminated) for which match() is true. */
static int find_line(const char *tab, bool (*match)(char *line, const char *ctrl, char *out, size_t n),
		     const char *ctrl, char *out, size_t n)
{
	char *copy = tab ? strdup(tab) : NULL;
	if (!copy)
		return tab ? -ENOMEM : -ENOENT;
	int rc = -ENOENT;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && rc < 0; l = strtok_r(NULL, "\n", &save))
		if (match(l, ctrl, out, n))
			rc = 0;
	free(copy);
	return rc;
}

/* mountinfo: "... <mount point> ... - cgroup cgroup rw,<ctrl>,..." */
static bool mount_of(char *line, const char *ctrl, char *mnt, size_t mn)
{
	char *sep = strstr(line, " - cgroup ");
	if (!sep)
		return false;
	char *opts = strrchr(sep, ' ');
	bool match = false;
	for (char *save = NULL, *o = strtok_r(opts + 1, ",", &save); o; o = strtok_r(NULL, ",", &save))
		match |= strcmp(o, ctrl) == 0;
	return match && enf_mountinfo_point(line, mnt, mn) == 0;
}

/* /proc/self/cgroup: "<id>:<ctrl>,<ctrl>:<path>" */
static bool own_path(char *line, const char *ctrl, char *own, size_t on)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2)
		return false;
	*c2 = 0;
	bool match = false;
	for (char *save = NULL, *o = strtok_r(c1 + 1, ",", &save); o; o = strtok_r(NULL, ",", &save))
		match |= strcmp(o, ctrl) == 0;
	return match && snprintf(own, on, "%s", strcmp(c2 + 1, "/") ? c2 + 1 : "") < (int)on;
}

/* v1 mount point of a controller and our own path in it. */
static int v1_location(struct cg_tables *t, const char *ctrl, char *mnt, size_t mn, char *own, size_t on)
{
	int rc = find_line(table(&t->mountinfo, &t->have_mountinfo, "/proc/self/mountinfo"), mount_of,
			   ctrl, mnt, mn);
	if (rc < 0)
		return rc;
	return find_line(table(&t->cgroup, &t->have_cgroup, "/proc/self/cgroup"), own_path, ctrl, own, on);
}

/* v2: the controller must be offered by the root and enabled down to us. */
static int limit_v2(struct enforce_session *s, struct cg_tables *t, const char *ctrl, const char *file,
		    const char *val)
{
	char p[PATH_MAX + 32], plus[32];
	if (s->cg.dirfd < 0)
		return -ENOENT;
	snprintf(p, sizeof p, "%s/cgroup.controllers", s->cg.root);
	if (!has_word(table(&t->v2ctrls, &t->have_v2ctrls, p), ctrl))
		return -ENOENT;
	snprintf(plus, sizeof plus, "+%s", ctrl);
	snprintf(p, sizeof p, "%s/agentsh", s->cg.root);
	int rc = write_file(s->cg.root, "cgroup.subtree_control", plus);
	if (rc == 0)
		rc = write_file(p, "cgroup.subtree_control", plus);
	return rc < 0 ? rc : write_file(s->cg.path, file, val);
}

static int limit_v1(struct enforce_session *s, struct cg_tables *t, const char *ctrl, const char *file,
		    const char *val)
{
	struct enf_cgroup *cg = &s->cg;
	struct enf_v1cg *v = NULL;
	for (size_t i = 0; i < cg->nv1; i++)
		if (strcmp(cg->v1[i].ctrl, ctrl) == 0)
			v = &cg->v1[i];
	if (!v) {
		if (cg->nv1 >= ENF_V1_MAX)
			return -E2BIG;
		char mnt[PATH_MAX / 2], own[PATH_MAX / 2];
		int rc = v1_location(t, ctrl, mnt, sizeof mnt, own, sizeof own);
		if (rc < 0)
			return rc;
		v = &cg->v1[cg->nv1];
		snprintf(v->ctrl, sizeof v->ctrl, "%s", ctrl);
		if (snprintf(v->path, sizeof v->path, "%s%s/agentsh-%s", mnt, own, s->session_id) >=
		    (int)sizeof v->path)
			return -ENAMETOOLONG;
		if (mkdir(v->path, 0755) < 0)
			return -errno;
		char tasks[PATH_MAX + 16];
		snprintf(tasks, sizeof tasks, "%s/tasks", v->path);
		v->tasks_fd = open(tasks, O_WRONLY | O_CLOEXEC);
		cg->nv1++;          /* from here enf_cg_destroy removes it */
		if (v->tasks_fd < 0)
			return -errno;
	}
	return write_file(v->path, file, val);
}

static int set_limit(struct enforce_session *s, struct cg_tables *t, const char *ctrl, const char *v2file,
		     const char *v2val, const char *v1file, const char *v1val, const char *what)
{
	int rc = limit_v2(s, t, ctrl, v2file, v2val);
	if (rc == -ENOENT)
		rc = limit_v1(s, t, ctrl, v1file, v1val);
	if (rc < 0)
		return enf_degrade(s, rc, "the policy limits %s but the %s controller is not usable here (%s)",
				   what, ctrl, strerror(-rc));
	return 0;
}

/* v2 limits swap alone (memory.swap.max); v1 limits memory+swap together
 * (memory.memsw.limit_in_bytes), so it needs max_memory_mb. */
static int limit_swap(struct enforce_session *s, struct cg_tables *t, const struct policy_limits *l)
{
	char a[64], b[64];
	snprintf(a, sizeof a, "%" PRIu64, l->memory_swap_max_mb * 1024 * 1024);
	int rc = limit_v2(s, t, "memory", "memory.swap.max", a);
	if (rc != -ENOENT)
		return rc < 0 ? enf_degrade(s, rc, "the policy limits swap but memory.swap.max cannot be "
					    "set (%s)", strerror(-rc)) : 0;
	if (!l->max_memory_mb)
		return enf_degrade(s, -ENOTSUP, "the policy limits swap without max_memory_mb, which cgroup "
				   "v1 cannot express (memory.memsw.limit_in_bytes is memory plus swap)");
	snprintf(b, sizeof b, "%" PRIu64, (l->max_memory_mb + l->memory_swap_max_mb) * 1024 * 1024);
	rc = limit_v1(s, t, "memory", "memory.memsw.limit_in_bytes", b);
	return rc < 0 ? enf_degrade(s, rc, "the policy limits swap but memory.memsw.limit_in_bytes cannot "
				    "be set (%s; swap accounting may be off)", strerror(-rc)) : 0;
}

static void *timer_main(void *arg);

static int timer_start(struct enforce_session *s)
{
	if (s->timer_started)
		return 0;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->timer_cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&s->timer, NULL, timer_main, s);
	if (rc)
		return enf_fail(s, -rc, "cannot start the session timer: %s", strerror(rc));
	s->timer_started = true;
	return 0;
}

int enf_limits_prepare(struct enforce_session *s)
{
	if (!s->cfg.policy)
		return 0;
	const struct policy_limits *l = policy_limits(s->cfg.policy);
	struct cg_tables t = { 0 };
	char a[64], b[64];
	int rc = 0;
	if (l->pids_max) {
		snprintf(a, sizeof a, "%u", l->pids_max);
		rc = set_limit(s, &t, "pids", "pids.max", a, "pids.max", a, "the number of processes");
	}
	if (rc == 0 && l->max_memory_mb) {
		snprintf(a, sizeof a, "%" PRIu64, l->max_memory_mb * 1024 * 1024);
		rc = set_limit(s, &t, "memory", "memory.max", a, "memory.limit_in_bytes", a, "memory");
	}
	if (rc == 0 && l->cpu_quota_percent) {
		snprintf(a, sizeof a, "%u 100000", l->cpu_quota_percent * 1000);
		snprintf(b, sizeof b, "%u", l->cpu_quota_percent * 1000);
		rc = set_limit(s, &t, "cpu", "cpu.max", a, "cpu.cfs_quota_us", b, "CPU time");
	}
	if (rc == 0 && (l->memory_swap_max_mb || l->memory_swap_set))
		rc = limit_swap(s, &t, l);
	/* not enforced by agentsh: say so instead of pretending */
	if (rc == 0 && (l->disk_read_bps_max || l->disk_write_bps_max))
		rc = enf_degrade(s, -ENOTSUP, "the policy limits disk bandwidth (disk_read_bps_max/"
				 "disk_write_bps_max), which agentsh does not enforce");
	if (rc == 0 && l->net_bandwidth_mbps)
		rc = enf_degrade(s, -ENOTSUP, "the policy limits network bandwidth (net_bandwidth_mbps), "
				 "which agentsh does not enforce");
	tables_free(&t);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	if (l->session_timeout_s)
		s->deadline_session_ms = mono_ms() + 1000L * l->session_timeout_s;
	s->idle_ms = 1000L * l->idle_timeout_s;
	pthread_mutex_unlock(&s->lock);
	return l->session_timeout_s ? timer_start(s) : 0;
}

unsigned enforce_command_timeout_ms(const struct enforce_session *s)
{
	if (!s || !s->cfg.policy)
		return 0;
	unsigned t = policy_limits(s->cfg.policy)->command_timeout_s;
	return t > UINT32_MAX / 1000 ? UINT32_MAX : t * 1000;
}

int enf_timer_arm_command(struct enforce_session *s, unsigned ms)
{
	if (!ms)
		return 0;
	int rc = timer_start(s);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->lock);
	s->deadline_cmd_ms = mono_ms() + ms;
	pthread_cond_signal(&s->timer_cv);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void enforce_session_activity(struct enforce_session *s)
{
	if (!s || !s->idle_ms)
		return;
	if (!s->timer_started && timer_start(s) < 0)
		return;
	pthread_mutex_lock(&s->lock);
	s->last_activity_ms = mono_ms();
	pthread_cond_signal(&s->timer_cv);
	pthread_mutex_unlock(&s->lock);
}

static long next_deadline(struct enforce_session *s, const char **what)
{
	long d = 0;
	*what = NULL;
	if (s->deadline_cmd_ms) {
		d = s->deadline_cmd_ms;
		*what = "command_timeout";
	}
	if (s->deadline_session_ms && (!d || s->deadline_session_ms < d)) {
		d = s->deadline_session_ms;
		*what = "session_timeout";
	}
	if (s->idle_ms && s->last_activity_ms && (!d || s->last_activity_ms + s->idle_ms < d)) {
		d = s->last_activity_ms + s->idle_ms;
		*what = "idle_timeout";
	}
	return d;
}

static void expire(struct enforce_session *s, const char *what)
{
	s->timed_out = true;
	s->deadline_cmd_ms = 0;
	if (strcmp(what, "session_timeout") == 0)
		s->deadline_session_ms = 0;
	if (strcmp(what, "idle_timeout") == 0)
		s->last_activity_ms = 0;
	enf_cg_kill(&s->cg);
	char line[160];
	snprintf(line, sizeof line, "killed every process of the session: resource_limits.%s reached", what);
	if (s->cfg.hooks.notice)
		s->cfg.hooks.notice(s->cfg.hooks.ctx, line);
	if (s->cfg.audit) {
		struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_LIMIT_HIT);
		ev.operation = what;
		ev.message = line;
		ev.layer = AUDIT_LAYER_CGROUP;
		ev.session_id = s->session_id;
		audit_emit(s->cfg.audit, &ev);
	}
}

static void *timer_main(void *arg)
{
	struct enforce_session *s = arg;
	pthread_mutex_lock(&s->lock);
	while (!s->timer_stop) {
		const char *what;
		long d = next_deadline(s, &what);
		if (d && mono_ms() >= d) {
			expire(s, what);
			continue;
		}
		if (!d) {
			pthread_cond_wait(&s->timer_cv, &s->lock);
			continue;
		}
		struct timespec ts = { .tv_sec = d / 1000, .tv_nsec = (d % 1000) * 1000000L };
		pthread_cond_timedwait(&s->timer_cv, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void enf_timer_stop(struct enforce_session *s)
{
	if (!s->timer_started)
		return;
	pthread_mutex_lock(&s->lock);
	s->timer_stop = true;
	pthread_cond_signal(&s->timer_cv);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->timer, NULL);
	pthread_cond_destroy(&s->timer_cv);
	s->timer_started = false;
}
