/* Ring buffer consumer.  The BPF side wakes the reader only per batch (wake_bytes) or for
 * urgent records, so a periodic timer in the same epoll set flushes quiet periods: the
 * latency of a lone event is bounded by FLUSH_MS without a wakeup per event. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include "bpf/libbpf_int.h"
#include "bpf/guard_int.h"

#define FLUSH_MS 50

static void convert(const struct guard_ev *w, size_t size, struct bpf_event *e)
{
	memset(e, 0, sizeof *e);
	e->type = (enum bpf_event_type)w->type;
	e->pid = (pid_t)w->pid;
	e->tid = (pid_t)w->tid;
	e->ppid = (pid_t)w->ppid;
	e->uid = w->uid;
	e->flags = w->flags & (BPF_EVF_TRUNCATED | BPF_EVF_SCRIPT | BPF_EVF_KILL_FAILED);
	e->ts_ns = w->ts;
	e->cgroup_id = w->cgid;
	memcpy(e->comm, w->comm, sizeof e->comm);
	e->comm[sizeof e->comm - 1] = 0;
	e->exit_status = w->exit_status;
	e->exec.dev = guard_udev(w->dev);
	e->exec.ino = (ino_t)w->ino;
	e->exec.expect_dev = w->eino ? guard_udev(w->edev) : 0;
	e->exec.expect_ino = (ino_t)w->eino;
	e->exec.why = (enum bpf_exec_why)w->why;
	e->net.family = (int)w->family;
	memcpy(e->net.addr, w->addr, sizeof e->net.addr);
	e->net.port = w->port;
	e->net.proto = w->proto;
	e->net.op = w->op;
	e->net.rule_id = w->rule_id;
	if (size >= sizeof *w) {
		memcpy(e->filename, w->filename, sizeof e->filename);
		e->filename[sizeof e->filename - 1] = 0;
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct bpf_guard *g = ctx;
	struct bpf_event e;
	if (size < GUARD_EV_SHORT)
		return 0; /* not ours: ignore rather than read past it */
	if (((const struct guard_ev *)data)->sess != g->cgid || !g->cb)
		return 0; /* left in the reused ring by an earlier session (or not polling) */
	convert(data, size, &e);
	g->cb(g->cbctx, &e);
	g->delivered++;
	return 0;
}

int guard_events_open(struct bpf_guard *g)
{
	g->rb = ring_buffer__new(g->ring, on_record, g, NULL);
	if (!g->rb)
		return -errno;
	g->epfd = epoll_create1(EPOLL_CLOEXEC);
	g->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (g->epfd < 0 || g->timerfd < 0)
		return -errno;
	struct itimerspec its = { .it_interval = { 0, FLUSH_MS * 1000000L },
				  .it_value = { 0, FLUSH_MS * 1000000L } };
	if (timerfd_settime(g->timerfd, 0, &its, NULL) < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = ring_buffer__epoll_fd(g->rb) };
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
		return -errno;
	ev.data.fd = g->timerfd;
	if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->timerfd, &ev) < 0)
		return -errno;
	/* free the space of what an earlier session of this ring slot left unread */
	ring_buffer__consume(g->rb);
	return 0;
}

void guard_events_close(struct bpf_guard *g)
{
	ring_buffer__free(g->rb);
	g->rb = NULL;
	if (g->epfd >= 0)
		close(g->epfd);
	if (g->timerfd >= 0)
		close(g->timerfd);
	g->epfd = g->timerfd = -1;
}

int bpf_guard_fd(const struct bpf_guard *g)
{
	return g ? g->epfd : -EINVAL;
}

static void report_lost(struct bpf_guard *g)
{
	__u64 now = 0;
	if (bpf_map_lookup_elem(g->pins.lostc, &g->cgid, &now) || now == g->lost_seen)
		return;
	struct bpf_event e = { .type = BPF_EV_LOST, .lost = now - g->lost_seen };
	g->lost_seen = now;
	g->cb(g->cbctx, &e);
	g->delivered++;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* One wait + drain; returns records delivered or -errno. */
static int poll_once(struct bpf_guard *g, int timeout_ms)
{
	struct epoll_event ev[2];
	int n = epoll_wait(g->epfd, ev, 2, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	__u64 ticks;
	while (read(g->timerfd, &ticks, sizeof ticks) > 0)
		;
	int r = ring_buffer__consume(g->rb);
	if (r < 0)
		return r;
	report_lost(g);
	return 0;
}

int bpf_guard_poll(struct bpf_guard *g, int timeout_ms,
		   void (*cb)(void *ctx, const struct bpf_event *ev), void *ctx)
{
	if (!g || !cb)
		return -EINVAL;
	g->cb = cb;
	g->cbctx = ctx;
	g->delivered = 0;
	long long end = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		long long left = end < 0 ? -1 : end - now_ms();
		if (end >= 0 && left < 0)
			left = 0;
		int r = poll_once(g, (int)left);
		if (r < 0)
			return r;
		/* timer ticks wake us with nothing to deliver: keep waiting until the deadline */
		if (g->delivered || (end >= 0 && now_ms() >= end))
			return g->delivered;
	}
}

const char *bpf_net_decision_name(enum bpf_net_decision d)
{
	switch (d) {
	case BPF_NET_DENY: return "deny";
	case BPF_NET_ALLOW: return "allow";
	case BPF_NET_AUDIT: return "audit";
	}
	return "unknown";
}

const char *bpf_event_type_name(enum bpf_event_type t)
{
	static const char *const n[] = {
		[BPF_EV_EXEC] = "exec", [BPF_EV_FORK] = "fork", [BPF_EV_EXIT] = "exit",
		[BPF_EV_EXEC_KILLED] = "exec_killed", [BPF_EV_EXEC_MISMATCH] = "exec_mismatch",
		[BPF_EV_NET_DENIED] = "net_denied", [BPF_EV_NET_AUDIT] = "net_audit",
		[BPF_EV_SOCK_DENIED] = "sock_denied", [BPF_EV_LOST] = "lost",
	};
	if ((unsigned)t < sizeof n / sizeof n[0] && n[t])
		return n[t];
	return "unknown";
}
