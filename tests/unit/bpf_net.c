/* Network rules against real sockets from a real cgroup: CIDR + port + protocol, v4, v6
 * and v4-mapped, first-match order (not longest prefix), defaults, events, raw sockets,
 * DNS steering, and nothing outside the cgroup affected.  Listeners live in the test
 * process, outside the cgroup; the attempts run in a child inside it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "bpf_test_util.h"

struct fx {
	struct tcg cg;
	struct bpf_guard *g;
	int la, lb, lu;		/* dual-stack TCP listeners on pa, pb; UDP on pu */
	uint16_t pa, pb, pu;
};

static int listener(int type, uint16_t *port)
{
	int s = socket(AF_INET6, type | SOCK_CLOEXEC, 0), off = 0;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	socklen_t l = sizeof a;
	assert_true(s >= 0);
	setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(s, 128), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin6_port);
	return s;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	f->cg.fd = -1;
	assert_int_equal(tcg_create(&f->cg, "net"), 0);
	assert_int_equal(bpf_guard_open(f->cg.fd, &f->g), 0);
	f->la = listener(SOCK_STREAM, &f->pa);
	f->lb = listener(SOCK_STREAM, &f->pb);
	f->lu = listener(SOCK_DGRAM, &f->pu);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	bpf_guard_close(f->g);
	tcg_destroy(&f->cg);
	close(f->la);
	close(f->lb);
	close(f->lu);
	free(f);
	return 0;
}

/* ---- attempts, run in a child inside the cgroup ---- */

struct try {
	int fam, type;		/* socket */
	const char *addr;	/* destination; a v4 text for an AF_INET6 socket means v4-mapped */
	uint16_t port;
	int err;		/* result: 0 or errno */
};

#define MAXTRY 512
static struct try g_try[MAXTRY];
static int g_ntry, g_res_w;

static int one_try(const struct try *t)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t l;
	if (t->fam == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(t->port);
		inet_pton(AF_INET, t->addr, &a->sin_addr);
		l = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		char buf[64];
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(t->port);
		snprintf(buf, sizeof buf, strchr(t->addr, ':') ? "%s" : "::ffff:%s", t->addr);
		inet_pton(AF_INET6, buf, &a->sin6_addr);
		l = sizeof *a;
	}
	int s = socket(t->fam, t->type | SOCK_CLOEXEC, 0), r;
	if (s < 0)
		return errno;
	if (t->type == SOCK_STREAM)
		r = connect(s, (struct sockaddr *)&ss, l);
	else
		r = sendto(s, "x", 1, 0, (struct sockaddr *)&ss, l) == 1 ? 0 : -1;
	int e = r < 0 ? errno : 0;
	close(s);
	return e;
}

static void run_tries(void *a)
{
	(void)a;
	for (int i = 0; i < g_ntry; i++)
		g_try[i].err = one_try(&g_try[i]);
	for (int i = 0; i < g_ntry; i++)
		if (write(g_res_w, &g_try[i].err, sizeof(int)) != sizeof(int))
			_exit(1);
	_exit(0);
}

/* Run g_try[0..n) in the cgroup (in_cg) or outside; results land in g_try[].err. */
static void exec_tries(struct fx *f, int in_cg)
{
	int p[2];
	struct tchild t = { -1, -1 };
	assert_int_equal(pipe(p), 0);
	g_res_w = p[1];
	assert_int_equal(tchild_start(&t, in_cg ? &f->cg : NULL, run_tries, NULL), 0);
	close(p[1]);
	char b = 1;
	assert_int_equal(write(t.go_w, &b, 1), 1);
	for (int i = 0; i < g_ntry; i++)
		assert_int_equal(read(p[0], &g_try[i].err, sizeof(int)), sizeof(int));
	close(p[0]);
	assert_true(WIFEXITED(tchild_go_wait(&t)));
}

static void add_try(int fam, int type, const char *addr, uint16_t port)
{
	g_try[g_ntry++] = (struct try){ fam, type, addr, port, -1 };
}

static void rule(struct fx *f, int fam, const char *cidr, uint8_t proto, uint16_t lo, uint16_t hi,
		 enum bpf_net_decision d, uint32_t id)
{
	struct bpf_net_rule r = { .family = fam, .proto = proto, .port_lo = lo, .port_hi = hi,
				  .decision = d, .rule_id = id };
	char a[64];
	snprintf(a, sizeof a, "%s", cidr);
	char *slash = strchr(a, '/');
	*slash = 0;
	r.prefix = (uint8_t)atoi(slash + 1);
	assert_int_equal(inet_pton(fam, a, r.addr), 1);
	assert_int_equal(bpf_guard_net_add(f->g, &r), 0);
}

#define TCP SOCK_STREAM
#define UDP SOCK_DGRAM
#define V4 AF_INET
#define V6 AF_INET6
#define EXPECT(i, e) do { if (g_try[i].err != (e)) \
	fail_msg("try %d (%s port %u): errno %d, expected %d", i, g_try[i].addr, g_try[i].port, \
		 g_try[i].err, (e)); } while (0)

static void test_v4_cidr_port(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", IPPROTO_TCP, f->pa, f->pa, BPF_NET_ALLOW, 1);
	rule(f, V4, "127.0.0.0/8", 0, 0, 65535, BPF_NET_DENY, 2);
	assert_int_equal(bpf_guard_net_default(f->g, BPF_NET_ALLOW), 0);
	g_ntry = 0;
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V4, TCP, "127.0.0.2", f->pa);
	add_try(V4, TCP, "127.0.0.1", f->pb);
	add_try(V4, UDP, "127.0.0.1", f->pu);
	add_try(V4, UDP, "127.0.0.1", f->pa); /* tcp-only allow rule does not cover udp */
	exec_tries(f, 1);
	EXPECT(0, 0);
	EXPECT(1, EPERM);
	EXPECT(2, EPERM);
	EXPECT(3, EPERM);
	EXPECT(4, EPERM);
}

/* First match, not longest prefix: a broad rule listed first wins over a narrower one. */
/* A closed guard leaves its network programs on the cgroup (removed with it) and removes
 * its session's entry: what is still in the cgroup is refused every connect, even one its
 * rules allowed — it never becomes unrestricted. */
static void test_closed_guard_still_denies(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", IPPROTO_TCP, f->pa, f->pa, BPF_NET_ALLOW, 1);
	assert_int_equal(bpf_guard_net_default(f->g, BPF_NET_DENY), 0);
	bpf_guard_close(f->g);
	f->g = NULL;
	g_ntry = 0;
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V4, TCP, "127.0.0.1", f->pb);
	exec_tries(f, 1);
	EXPECT(0, EPERM);
	EXPECT(1, EPERM);
}

static void test_first_match_not_longest(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.0/8", 0, f->pa, f->pa, BPF_NET_DENY, 1);
	rule(f, V4, "127.0.0.1/32", 0, 0, 65535, BPF_NET_ALLOW, 2);
	g_ntry = 0;
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V4, TCP, "127.0.0.1", f->pb);
	add_try(V4, TCP, "127.0.0.2", f->pb);
	exec_tries(f, 1);
	EXPECT(0, EPERM);
	EXPECT(1, 0);
	EXPECT(2, EPERM); /* default is deny until set */
}

static void test_v6(void **state)
{
	struct fx *f = *state;
	rule(f, V6, "::1/128", 0, f->pb, f->pb, BPF_NET_DENY, 1);
	rule(f, V6, "::/0", 0, 0, 65535, BPF_NET_ALLOW, 2);
	g_ntry = 0;
	add_try(V6, TCP, "::1", f->pa);
	add_try(V6, TCP, "::1", f->pb);
	add_try(V4, TCP, "127.0.0.1", f->pa);	/* ::/0 is IPv6 only */
	add_try(V6, TCP, "127.0.0.1", f->pa);	/* v4-mapped is IPv4 too */
	add_try(V6, UDP, "::1", f->pu);
	exec_tries(f, 1);
	EXPECT(0, 0);
	EXPECT(1, EPERM);
	EXPECT(2, EPERM);
	EXPECT(3, EPERM);
	EXPECT(4, 0);
}

static void test_v4_mapped(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", 0, f->pa, f->pa, BPF_NET_ALLOW, 1);
	rule(f, V6, "::ffff:127.0.0.0/104", 0, 0, 65535, BPF_NET_DENY, 2); /* stored as 127/8 */
	assert_int_equal(bpf_guard_net_default(f->g, BPF_NET_ALLOW), 0);
	g_ntry = 0;
	add_try(V6, TCP, "127.0.0.1", f->pa);
	add_try(V6, TCP, "127.0.0.1", f->pb);
	add_try(V4, TCP, "127.0.0.2", f->pa);
	add_try(V6, UDP, "127.0.0.1", f->pu);
	add_try(V6, TCP, "::1", f->pb);
	exec_tries(f, 1);
	EXPECT(0, 0);
	EXPECT(1, EPERM);
	EXPECT(2, EPERM);
	EXPECT(3, EPERM);
	EXPECT(4, 0);
}

/* Linux connects and sends to the unspecified address (0.0.0.0, ::,
 * ::ffff:0.0.0.0) on the loopback address: a policy denying localhost must
 * deny those too, and one allowing localhost allows them. */
static void test_unspecified_denied_as_loopback(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.0/8", 0, 0, 65535, BPF_NET_DENY, 1);
	rule(f, V6, "::1/128", 0, 0, 65535, BPF_NET_DENY, 2);
	rule(f, V4, "0.0.0.0/0", 0, 0, 65535, BPF_NET_ALLOW, 3);
	rule(f, V6, "::/0", 0, 0, 65535, BPF_NET_ALLOW, 4);
	g_ntry = 0;
	add_try(V4, TCP, "0.0.0.0", f->pa);
	add_try(V6, TCP, "::", f->pa);
	add_try(V6, TCP, "0.0.0.0", f->pa);	/* ::ffff:0.0.0.0 */
	add_try(V4, UDP, "0.0.0.0", f->pu);
	add_try(V6, UDP, "::", f->pu);
	exec_tries(f, 1);
	for (int i = 0; i < 5; i++)
		EXPECT(i, EPERM);
	/* outside the session the same connects reach the listener: the
	 * denial above is the guard's, not the address being unusable */
	exec_tries(f, 0);
	EXPECT(0, 0);
	EXPECT(1, 0);
	EXPECT(2, 0);
}

static void test_unspecified_allowed_as_loopback(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", 0, f->pa, f->pa, BPF_NET_ALLOW, 1);
	rule(f, V6, "::1/128", 0, f->pa, f->pa, BPF_NET_ALLOW, 2);
	g_ntry = 0;
	add_try(V4, TCP, "0.0.0.0", f->pa);
	add_try(V6, TCP, "::", f->pa);
	add_try(V6, TCP, "0.0.0.0", f->pa);
	add_try(V4, TCP, "0.0.0.0", f->pb);
	exec_tries(f, 1);
	EXPECT(0, 0);
	EXPECT(1, 0);
	EXPECT(2, 0);
	EXPECT(3, EPERM);
}

static void test_udp_only_rule(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", IPPROTO_UDP, f->pu, f->pu, BPF_NET_DENY, 7);
	assert_int_equal(bpf_guard_net_default(f->g, BPF_NET_ALLOW), 0);
	g_ntry = 0;
	add_try(V4, UDP, "127.0.0.1", f->pu);
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V6, UDP, "127.0.0.1", f->pu);
	add_try(V6, UDP, "::1", f->pu);
	exec_tries(f, 1);
	EXPECT(0, EPERM);
	EXPECT(1, 0);
	EXPECT(2, EPERM);
	EXPECT(3, 0);
}

static void test_events_and_audit(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", 0, f->pa, f->pa, BPF_NET_AUDIT, 41);
	rule(f, V4, "127.0.0.1/32", 0, f->pb, f->pb, BPF_NET_DENY, 42);
	g_ntry = 0;
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V4, TCP, "127.0.0.1", f->pb);
	add_try(V6, UDP, "::1", f->pu);
	exec_tries(f, 1);
	EXPECT(0, 0);
	EXPECT(1, EPERM);
	EXPECT(2, EPERM);
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	const struct bpf_event *a = tev_find(&ev, BPF_EV_NET_AUDIT, 0);
	assert_non_null(a);
	assert_int_equal(a->net.rule_id, 41);
	assert_int_equal(a->net.port, f->pa);
	const struct bpf_event *d = tev_find(&ev, BPF_EV_NET_DENIED, 0);
	assert_non_null(d);
	assert_int_equal(d->net.rule_id, 42);
	assert_int_equal(d->net.family, AF_INET);
	assert_int_equal(d->net.port, f->pb);
	assert_int_equal(d->net.proto, IPPROTO_TCP);
	assert_int_equal(d->net.op, 1);
	assert_memory_equal(d->net.addr, "\x7f\0\0\x01", 4);
	const struct bpf_event *d6 = NULL;
	for (int i = 0; i < ev.n; i++)
		if (ev.ev[i].type == BPF_EV_NET_DENIED && ev.ev[i].net.family == AF_INET6)
			d6 = &ev.ev[i];
	assert_non_null(d6);
	assert_int_equal(d6->net.rule_id, UINT32_MAX);
	assert_int_equal(d6->net.op, 2);
	assert_int_equal(d6->net.proto, IPPROTO_UDP);
	assert_int_equal(d6->net.addr[15], 1);
}

static void test_outside_unaffected(void **state)
{
	struct fx *f = *state;
	g_ntry = 0; /* default deny, no rules: inside everything fails, outside nothing */
	add_try(V4, TCP, "127.0.0.1", f->pa);
	add_try(V6, TCP, "::1", f->pa);
	add_try(V4, UDP, "127.0.0.1", f->pu);
	exec_tries(f, 0);
	EXPECT(0, 0);
	EXPECT(1, 0);
	EXPECT(2, 0);
	exec_tries(f, 1);
	EXPECT(0, EPERM);
	EXPECT(1, EPERM);
	EXPECT(2, EPERM);
}

static void raw_socket(void *a)
{
	(void)a;
	int s = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	_exit(s >= 0 ? 0 : errno);
}

/* exit code: bit i set when socket kind i could be created */
static void socket_kinds(void *a)
{
	(void)a;
	static const int k[][3] = {
		{ AF_INET, SOCK_STREAM, 0 }, { AF_INET, SOCK_DGRAM, 0 }, { AF_INET6, SOCK_STREAM, 0 },
		{ AF_INET6, SOCK_DGRAM, 0 }, { AF_INET, SOCK_DGRAM, IPPROTO_ICMP },
		{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 }, { AF_INET, SOCK_STREAM, 262 /* MPTCP */ },
		{ AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE },
	};
	int bits = 0;
	for (int i = 0; i < 8; i++) {
		int s = socket(k[i][0], k[i][1], k[i][2]);
		if (s >= 0)
			bits |= 1 << i;
		close(s);
	}
	_exit(bits);
}

static void test_socket_allowlist(void **state)
{
	struct fx *f = *state;
	struct tchild t = { -1, -1 };
	assert_int_equal(tchild_start(&t, NULL, socket_kinds, NULL), 0);
	int outside = WEXITSTATUS(tchild_go_wait(&t));
	assert_int_equal(outside & 0x0f, 0x0f);
	assert_int_equal(tchild_start(&t, &f->cg, socket_kinds, NULL), 0);
	assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), 0x0f); /* TCP and UDP only */
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	int mptcp = 0;
	for (int i = 0; i < ev.n; i++)
		mptcp |= ev.ev[i].type == BPF_EV_SOCK_DENIED && ev.ev[i].net.proto == 262;
	assert_true(mptcp || !(outside & 0x40));
}

/* TCP Fast Open connects inside sendto(): the connect hook must still decide. */
static uint16_t g_port, g_port2;
static void tfo_send(void *a)
{
	(void)a;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(g_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ssize_t n = sendto(s, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&to, sizeof to);
	_exit(n == 1 ? 0 : errno);
}

static void test_tcp_fastopen(void **state)
{
	struct fx *f = *state;
	struct tchild t = { -1, -1 };
	g_port = f->pa;
	assert_int_equal(tchild_start(&t, NULL, tfo_send, NULL), 0);
	assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), 0);
	assert_int_equal(tchild_start(&t, &f->cg, tfo_send, NULL), 0);
	assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), EPERM);
}

/* A UDP connect sends nothing (glibc's getaddrinfo connects one to every answer it
 * sorts): to a denied destination it succeeds and reports nothing, getsockname works,
 * and whatever the socket then sends is dropped with EPERM and reported, a sendto()
 * with an allowed address included; a re-connect to an allowed destination sends
 * again. */
static void udp_probe(void *a)
{
	(void)a;
	struct sockaddr_in deny = { .sin_family = AF_INET, .sin_port = htons(g_port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in allow = deny, me;
	socklen_t l = sizeof me;
	allow.sin_port = htons(g_port2);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (connect(s, (struct sockaddr *)&deny, sizeof deny) < 0)
		_exit(10);
	if (getsockname(s, (struct sockaddr *)&me, &l) < 0 || me.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		_exit(11);
	if (send(s, "x", 1, 0) >= 0 || errno != EPERM)
		_exit(12);
	if (sendto(s, "y", 1, 0, (struct sockaddr *)&allow, sizeof allow) >= 0 || errno != EPERM)
		_exit(13);
	if (connect(s, (struct sockaddr *)&allow, sizeof allow) < 0 || send(s, "z", 1, 0) != 1)
		_exit(14);
	_exit(0);
}

static void test_udp_connect_probe(void **state)
{
	struct fx *f = *state;
	rule(f, V4, "127.0.0.1/32", IPPROTO_UDP, f->pu, f->pu, BPF_NET_DENY, 5);
	rule(f, V4, "127.0.0.1/32", 0, 0, 65535, BPF_NET_ALLOW, 6);
	struct tchild t = { -1, -1 };
	g_port = f->pu;
	g_port2 = f->pa;
	assert_int_equal(tchild_start(&t, &f->cg, udp_probe, NULL), 0);
	assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), 0);
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	int denied = 0;
	for (int i = 0; i < ev.n; i++)
		if (ev.ev[i].type == BPF_EV_NET_DENIED) {
			denied++;
			assert_int_equal(ev.ev[i].net.op, 4);      /* the sends, never the connect */
			assert_int_equal(ev.ev[i].net.rule_id, 5);
			assert_int_equal(ev.ev[i].net.port, f->pu);
		}
	assert_int_equal(denied, 2);
}

static void test_raw_socket(void **state)
{
	struct fx *f = *state;
	struct tchild t = { -1, -1 };
	assert_int_equal(tchild_start(&t, &f->cg, raw_socket, NULL), 0);
	int st = tchild_go_wait(&t);
	assert_int_equal(WEXITSTATUS(st), EPERM);
	assert_int_equal(tchild_start(&t, NULL, raw_socket, NULL), 0);
	st = tchild_go_wait(&t);
	assert_int_equal(WEXITSTATUS(st), 0); /* root outside the cgroup may */
	struct tevents ev = { 0 };
	tev_drain(f->g, &ev);
	const struct bpf_event *e = tev_find(&ev, BPF_EV_SOCK_DENIED, 0);
	assert_non_null(e);
	assert_int_equal(e->net.proto, IPPROTO_ICMP);
}

/* ---- DNS steering ---- */

static uint16_t g_dns_port;
static void dns_client(void *a)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(53) }, from;
	socklen_t l = sizeof from;
	char buf[8];
	inet_pton(AF_INET, "192.0.2.53", &to.sin_addr);
	/* glibc's resolver connects its UDP socket first: arg != NULL does that */
	if (a && connect(s, (struct sockaddr *)&to, sizeof to) < 0)
		_exit(10);
	if (a ? send(s, "q", 1, 0) != 1 : sendto(s, "q", 1, 0, (struct sockaddr *)&to, sizeof to) != 1)
		_exit(10);
	if (recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &l) != 1 || buf[0] != 'a')
		_exit(11);
	if (from.sin_addr.s_addr != to.sin_addr.s_addr || from.sin_port != htons(53))
		_exit(12); /* the reply must look like it came from the server asked */
	_exit(0);
}

static void test_dns_steer(void **state)
{
	struct fx *f = *state;
	int srv = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	assert_int_equal(bind(srv, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(srv, (struct sockaddr *)&a, &l), 0);
	g_dns_port = ntohs(a.sin_port);
	struct tchild t = { -1, -1 };

	/* off: default deny refuses the query */
	assert_int_equal(tchild_start(&t, &f->cg, dns_client, NULL), 0);
	assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), 10);

	assert_int_equal(bpf_guard_dns_redirect(f->g, 0x7f000001, g_dns_port), 0);
	for (int connected = 0; connected < 2; connected++) {
		assert_int_equal(tchild_start(&t, &f->cg, dns_client, connected ? "c" : NULL), 0);
		char b = 1, buf[8];
		assert_int_equal(write(t.go_w, &b, 1), 1);
		struct sockaddr_in from;
		l = sizeof from;
		assert_int_equal(recvfrom(srv, buf, sizeof buf, 0, (struct sockaddr *)&from, &l), 1);
		assert_int_equal(sendto(srv, "a", 1, 0, (struct sockaddr *)&from, l), 1);
		assert_int_equal(WEXITSTATUS(tchild_go_wait(&t)), 0);
	}
	assert_int_equal(bpf_guard_dns_redirect(f->g, 0x0a000001, 53), -EINVAL); /* not loopback */
	close(srv);
}

/* ---- validation and capacity ---- */

static void test_rule_validation(void **state)
{
	struct fx *f = *state;
	struct bpf_net_rule r = { .family = AF_INET, .prefix = 33, .port_hi = 1 };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EINVAL);
	r = (struct bpf_net_rule){ .family = AF_UNIX };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EAFNOSUPPORT);
	r = (struct bpf_net_rule){ .family = AF_INET6, .prefix = 129 };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EINVAL);
	r = (struct bpf_net_rule){ .family = AF_INET, .port_lo = 5, .port_hi = 4 };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EINVAL);
	r = (struct bpf_net_rule){ .family = AF_INET, .proto = IPPROTO_ICMP };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EPROTONOSUPPORT);
	r = (struct bpf_net_rule){ .family = AF_INET, .decision = 7 };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -EINVAL);
	assert_int_equal(bpf_guard_net_default(f->g, 7), -EINVAL);
	/* 32 rules may cover one address; the 33rd is refused and changes nothing */
	for (int i = 0; i < BPF_NET_MAX_CHAIN; i++)
		rule(f, V4, "10.0.0.0/8", 0, (uint16_t)(1000 + i), (uint16_t)(1000 + i), BPF_NET_DENY, (uint32_t)i);
	r = (struct bpf_net_rule){ .family = AF_INET, .prefix = 16, .addr = { 10, 1 }, .port_lo = 1,
				   .port_hi = 1, .decision = BPF_NET_DENY };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -E2BIG);
	/* a rule matching everything closes the chain: later rules for it cost nothing */
	r = (struct bpf_net_rule){ .family = AF_INET, .prefix = 0, .port_hi = 65535, .decision = BPF_NET_ALLOW };
	struct bpf_net_rule r2 = { .family = AF_INET, .prefix = 32, .addr = { 127, 0, 0, 1 },
				   .port_lo = 1, .port_hi = 1, .decision = BPF_NET_DENY };
	assert_int_equal(bpf_guard_net_add(f->g, &r), -E2BIG); /* 0/0 covers 10/8 too: full */
	assert_int_equal(bpf_guard_net_add(f->g, &r2), 0);
}

/* Random rule sets against a reference first-match evaluator, through real connects. */
struct ref { uint32_t net, mask; uint16_t lo, hi; uint8_t proto; enum bpf_net_decision d; };

static int ref_decide(const struct ref *r, int n, uint32_t ip, uint16_t port, uint8_t proto, int def)
{
	for (int i = 0; i < n; i++)
		if ((ip & r[i].mask) == r[i].net && port >= r[i].lo && port <= r[i].hi &&
		    (!r[i].proto || r[i].proto == proto))
			return r[i].d;
	return def;
}

static void test_random_first_match(void **state)
{
	struct fx *f = *state;
	static char addrs[MAXTRY][20];
	struct ref rs[24];
	int n = 24;
	srand(12345);
	for (int i = 0; i < n; i++) {
		int pre = 8 + rand() % 25;
		uint32_t mask = pre == 32 ? 0xffffffffu : ~(0xffffffffu >> pre);
		uint32_t ip = (0x7f000000u | (uint32_t)(rand() % 4) << 8 | (uint32_t)(rand() % 4)) & mask;
		uint16_t p1 = rand() % 2 ? f->pa : f->pb, p2 = rand() % 3 ? p1 : (p1 == f->pa ? f->pb : f->pa);
		uint16_t lo = p1 < p2 ? p1 : p2, hi = p1 < p2 ? p2 : p1;
		if (rand() % 5 == 0)
			lo = 0, hi = 65535;
		uint8_t proto = (uint8_t[]){ 0, 0, IPPROTO_TCP, IPPROTO_UDP }[rand() % 4];
		enum bpf_net_decision d = rand() % 2 ? BPF_NET_ALLOW : BPF_NET_DENY;
		rs[i] = (struct ref){ ip, mask, lo, hi, proto, d };
		struct bpf_net_rule r = { .family = AF_INET, .prefix = (uint8_t)pre, .proto = proto,
					  .port_lo = lo, .port_hi = hi, .decision = d, .rule_id = (uint32_t)i };
		uint32_t be = htonl(ip);
		memcpy(r.addr, &be, 4);
		assert_int_equal(bpf_guard_net_add(f->g, &r), 0);
	}
	g_ntry = 0;
	for (int i = 0; i < 200; i++) {
		uint32_t ip = 0x7f000000u | (uint32_t)(rand() % 4) << 8 | (uint32_t)(rand() % 4);
		if ((ip & 0xff) == 0)
			ip |= 1; /* x.x.x.0 is still local but keep it ordinary */
		snprintf(addrs[i], sizeof addrs[i], "127.0.%u.%u", (ip >> 8) & 0xff, ip & 0xff);
		int tcp = rand() % 2;
		add_try(V4, tcp ? TCP : UDP, addrs[i], tcp ? (rand() % 2 ? f->pa : f->pb) : f->pa);
	}
	exec_tries(f, 1);
	for (int i = 0; i < g_ntry; i++) {
		struct in_addr a;
		inet_pton(AF_INET, g_try[i].addr, &a);
		int want = ref_decide(rs, n, ntohl(a.s_addr), g_try[i].port,
				      g_try[i].type == TCP ? IPPROTO_TCP : IPPROTO_UDP, BPF_NET_DENY);
		int got_ok = g_try[i].err == 0;
		if (got_ok != (want == BPF_NET_ALLOW))
			fail_msg("try %d %s:%u %s: errno %d, reference says %s", i, g_try[i].addr,
				 g_try[i].port, g_try[i].type == TCP ? "tcp" : "udp", g_try[i].err,
				 bpf_net_decision_name(want));
	}
}

int main(void)
{
	tcg_require();
#define T(x) cmocka_unit_test_setup_teardown(x, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_v4_cidr_port), T(test_closed_guard_still_denies), T(test_first_match_not_longest),
		T(test_v6), T(test_v4_mapped), T(test_unspecified_denied_as_loopback),
		T(test_unspecified_allowed_as_loopback),
		T(test_udp_only_rule), T(test_events_and_audit), T(test_outside_unaffected),
		T(test_raw_socket), T(test_socket_allowlist), T(test_tcp_fastopen), T(test_udp_connect_probe), T(test_dns_steer), T(test_rule_validation),
		T(test_random_first_match),
	};
	return cmocka_run_group_tests_name("bpf_net", tests, NULL, NULL);
}
