/* events.c — what the kernel layers report, turned into audit events and
 * one-line notices: BPF network denials and audits, exec-verification kills,
 * raw-socket refusals, and processes killed by the seccomp filter (SIGSYS: a
 * foreign ABI).  Errno answers of the seccomp surface are not reported by the
 * kernel at all; docs/enforcement.md says so. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "bpf/bpf.h"
#include "enforce/enforce_int.h"
#include "policy/policy.h"

static const char *net_rule_name(struct enforce_session *s, uint32_t id)
{
	struct policy_net_rule_info ri;
	if (id == UINT32_MAX || !s->cfg.policy || policy_net_rule_get(s->cfg.policy, id, &ri) < 0)
		return "default-deny-network";
	return ri.name;
}

static void emit(struct enforce_session *s, struct audit_event *ev, const char *notice)
{
	ev->session_id = s->session_id;
	if (s->cfg.audit)
		audit_emit(s->cfg.audit, ev);
	if (notice && s->cfg.hooks.notice)
		s->cfg.hooks.notice(s->cfg.hooks.ctx, notice);
}

/* The rule's rendered message for a kernel network decision: the policy
 * evaluated again for the same destination, used only when it names the same
 * rule the kernel reported.  An approve or redirect rule was decided as deny
 * in the kernel (enforce/net.c), and the text says so. */
static void net_message(struct enforce_session *s, const struct bpf_event *e, const char *rule,
			char *out, size_t n)
{
	struct sockaddr_storage ss = { 0 };
	struct policy_result res;

	out[0] = 0;
	if (e->net.family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(e->net.port);
		memcpy(&a->sin_addr, e->net.addr, 4);
	} else if (e->net.family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(e->net.port);
		memcpy(&a->sin6_addr, e->net.addr, 16);
	} else {
		return;
	}
	if (!s->cfg.policy || policy_check_net(s->cfg.policy, (struct sockaddr *)&ss, NULL, &res) < 0 ||
	    strcmp(res.rule, rule))
		return;
	bool asks = res.decision == POLICY_APPROVE || res.decision == POLICY_REDIRECT;
	snprintf(out, n, "%s%s%s", res.message, res.message[0] && asks ? "; " : "",
		 asks ? "network connects cannot be approved or redirected yet: refused" : "");
}

static void on_net(struct enforce_session *s, const struct bpf_event *e)
{
	char addr[INET6_ADDRSTRLEN] = "?", line[1024], msg[640];
	inet_ntop(e->net.family, e->net.addr, addr, sizeof addr);
	const char *rule = net_rule_name(s, e->net.rule_id);
	const char *op = e->net.op == 4 ? "send" : e->net.op == 2 ? "sendmsg" : "connect";
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_NETWORK);
	ev.operation = op;
	ev.address = addr;
	ev.port = e->net.port;
	ev.pid = e->pid;
	ev.uid = e->uid;
	ev.rule = rule;
	ev.layer = AUDIT_LAYER_BPF;
	bool denied = e->type == BPF_EV_NET_DENIED;
	ev.decision = ev.effective = denied ? AUDIT_DEC_DENY : AUDIT_DEC_AUDIT;
	ev.err = denied ? EPERM : 0;
	net_message(s, e, rule, msg, sizeof msg);
	ev.message = msg[0] ? msg : NULL;
	snprintf(line, sizeof line, "denied %s to %s port %u (rule %s%s%s)", op, addr, e->net.port, rule,
		 msg[0] ? ": " : "", msg);
	emit(s, &ev, denied ? line : NULL);
}

static void on_exec_killed(struct enforce_session *s, const struct bpf_event *e)
{
	char line[400];
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_EXEC);
	ev.operation = "execve";
	ev.path = e->filename;
	ev.pid = e->pid;
	ev.uid = e->uid;
	ev.decision = ev.effective = AUDIT_DEC_DENY;
	ev.layer = AUDIT_LAYER_BPF;
	ev.rule = "exec-verification";
	bool args = e->exec.why == BPF_WHY_ARGS;
	ev.message = args ? "arguments changed after the decision: the argv/environment the kernel copied "
			    "is not the one that was decided on; killed before its first instruction"
			  : "the file that ran is not the one that was decided on; killed before its first instruction";
	ev.err = 0;
	snprintf(line, sizeof line, "killed %s (pid %d): %s", e->filename, (int)e->pid,
		 args ? "arguments changed after the decision"
		      : "the executed file is not the one that was allowed");
	emit(s, &ev, line);
}

static void on_surface(struct enforce_session *s, const struct bpf_event *e, const char *op,
		       const char *msg)
{
	char line[300];
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_SURFACE_DENIED);
	ev.operation = op;
	ev.pid = e->pid;
	ev.uid = e->uid;
	ev.decision = ev.effective = AUDIT_DEC_DENY;
	ev.layer = e->type == BPF_EV_SOCK_DENIED ? AUDIT_LAYER_BPF : AUDIT_LAYER_SECCOMP_KERNEL;
	ev.rule = "syscall-surface";
	ev.message = msg;
	snprintf(line, sizeof line, "%s (%.16s, pid %d): %s", op, e->comm, (int)e->pid, msg);
	emit(s, &ev, line);
}

static void on_event(void *ctx, const struct bpf_event *e)
{
	struct enforce_session *s = ctx;
	switch (e->type) {
	case BPF_EV_NET_DENIED:
	case BPF_EV_NET_AUDIT:
		on_net(s, e);
		break;
	case BPF_EV_EXEC_KILLED:
		on_exec_killed(s, e);
		break;
	case BPF_EV_SOCK_DENIED:
		on_surface(s, e, "socket", "raw inet sockets are refused");
		break;
	case BPF_EV_EXIT:
		if (WIFSIGNALED(e->exit_status) && WTERMSIG(e->exit_status) == SIGSYS)
			on_surface(s, e, "syscall", "killed by the seccomp filter (a foreign ABI: x32/ia32 "
				   "syscalls are not allowed)");
		break;
	case BPF_EV_LOST: {
		struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_DEGRADED);
		ev.operation = "bpf-events-lost";
		ev.message = "kernel events were dropped (ring buffer full)";
		ev.layer = AUDIT_LAYER_BPF;
		emit(s, &ev, NULL);
		break;
	}
	default:
		break;
	}
}

/* The reader thread and enforce_session_sync() may both consume. */
static int drain(struct enforce_session *s)
{
	pthread_mutex_lock(&s->events_lock);
	int rc = bpf_guard_poll(s->bpf, 0, on_event, s);
	pthread_mutex_unlock(&s->events_lock);
	return rc;
}

static void *events_main(void *arg)
{
	struct enforce_session *s = arg;
	for (;;) {
		struct pollfd p[2] = { { .fd = bpf_guard_fd(s->bpf), .events = POLLIN },
				       { .fd = s->events_stopfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (p[0].revents && drain(s) < 0)
			break;
	}
	drain(s);   /* the last ones */
	return NULL;
}

void enforce_session_sync(struct enforce_session *s)
{
	if (s && s->bpf)
		drain(s);
}

int enf_events_start(struct enforce_session *s)
{
	if (!s->bpf || s->events_started)
		return 0;
	pthread_mutex_init(&s->events_lock, NULL);
	s->events_stopfd = eventfd(0, EFD_CLOEXEC);
	if (s->events_stopfd < 0)
		return enf_fail(s, -errno, "cannot start the kernel event reader: %s", strerror(errno));
	int rc = pthread_create(&s->events, NULL, events_main, s);
	if (rc) {
		close(s->events_stopfd);
		return enf_fail(s, -rc, "cannot start the kernel event reader: %s", strerror(rc));
	}
	s->events_started = true;
	return 0;
}

void enf_events_stop(struct enforce_session *s)
{
	if (!s->events_started)
		return;
	uint64_t one = 1;
	if (write(s->events_stopfd, &one, sizeof one) != sizeof one)
		pthread_cancel(s->events);
	pthread_join(s->events, NULL);
	close(s->events_stopfd);
	s->events_started = false;
}
