/* Unix and inet sockets under the real supervisor: denied names and
 * addresses fail, allowed ones connect with the account's credentials. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/fsuid.h>
#include <sys/un.h>

#include "enforce_notify_harness.h"

static const char *POLICY =
	"version: 1\n"
	"name: notify-sock-test\n"
	"file_rules:\n"
	"  - name: all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n"
	"unix_socket_rules:\n"
	"  - name: deny-secret-sock\n"
	"    paths: [\"WS/denied.sock\", \"@secret-abstract\"]\n"
	"    decision: deny\n"
	"  - name: ws\n"
	"    paths: [\"WS/**\", \"@ok-abstract-*\"]\n"
	"    decision: allow\n"
	"  - name: own-servers-ok\n"
	"    paths: [\"@agsh-ownok-*\"]\n"
	"    decision: allow\n"
	"    own_account_servers: allow\n"
	"  - name: abstract-test\n"
	"    paths: [\"@agsh-own-*\"]\n"
	"    decision: allow\n"
	"  - name: any-abstract\n"
	"    paths: [\"@*\"]\n"
	"    decision: allow\n"
	"network_rules:\n"
	"  - name: deny-dot2\n"
	"    cidrs: [\"127.0.0.2/32\"]\n"
	"    decision: deny\n"
	"  - name: loopback\n"
	"    cidrs: [\"127.0.0.0/8\"]\n"
	"    decision: allow\n";

static char ws[256], ok_abs[64];
static struct policy *pol;
static int lsn_ok = -1, lsn_denied = -1, lsn_tcp = -1, lsn_abs = -1, lsn_dgram = -1;
static int tcp_port, udp_port, lsn_udp = -1;

#define FAIL(n) do { fprintf(stderr, "child: step %d: %s\n", n, strerror(errno)); return n; } while (0)

static int listen_unix(const char *path, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t l;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (abstract) {
		snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s", path);
		l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
		l = sizeof a;
	}
	if (s < 0 || bind(s, (void *)&a, l) < 0 || listen(s, 8) < 0)
		return -1;
	if (!abstract)
		chmod(path, 0777);
	return s;
}

static int setup(void **s)
{
	(void)s;
	char p[512];
	h_mkws(ws, sizeof ws, "sock");
	pol = h_policy(POLICY, ws);
	snprintf(p, sizeof p, "%s/ok.sock", ws);
	lsn_ok = listen_unix(p, false);
	snprintf(p, sizeof p, "%s/denied.sock", ws);
	lsn_denied = listen_unix(p, false);
	/* per process: a concurrent run of this test holds its own name */
	snprintf(ok_abs, sizeof ok_abs, "ok-abstract-%d", (int)getpid());
	lsn_abs = listen_unix(ok_abs, true);
	/* a datagram receiver that asks for its senders' credentials, the way
	 * journald and syslog daemons attribute messages */
	int one = 1;
	struct sockaddr_un d = { .sun_family = AF_UNIX };
	int dl = snprintf(d.sun_path, sizeof d.sun_path, "%s/creds.sock", ws);
	lsn_dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (dl < 0 || (size_t)dl >= sizeof d.sun_path || lsn_dgram < 0 || bind(lsn_dgram, (void *)&d, sizeof d) < 0 ||
	    setsockopt(lsn_dgram, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
	    chmod(d.sun_path, 0777) < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	socklen_t al = sizeof a;
	lsn_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lsn_tcp < 0 || bind(lsn_tcp, (void *)&a, sizeof a) < 0 || listen(lsn_tcp, 8) < 0 ||
	    getsockname(lsn_tcp, (void *)&a, &al) < 0)
		return -1;
	tcp_port = ntohs(a.sin_port);
	struct sockaddr_in ub = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t ubl = sizeof ub;
	lsn_udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (lsn_udp < 0 || bind(lsn_udp, (void *)&ub, sizeof ub) < 0 ||
	    getsockname(lsn_udp, (void *)&ub, &ubl) < 0)
		return -1;
	udp_port = ntohs(ub.sin_port);
	return pol && lsn_ok >= 0 && lsn_denied >= 0 && lsn_abs >= 0 ? 0 : -1;
}

static int teardown(void **s)
{
	(void)s;
	close(lsn_ok);
	close(lsn_denied);
	close(lsn_abs);
	close(lsn_tcp);
	close(lsn_dgram);
	close(lsn_udp);
	policy_free(pol);
	h_rmrf(ws);
	return 0;
}

static int conn_unix(const char *name, bool abstract)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t l;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	if (abstract) {
		snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s", name);
		l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	} else {
		snprintf(a.sun_path, sizeof a.sun_path, "%s", name);
		l = sizeof a;
	}
	int rc = connect(s, (void *)&a, l);
	int e = errno;
	close(s);
	errno = e;
	return rc;
}

static int conn_tcp(const char *ip)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)tcp_port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int rc = connect(s, (void *)&a, sizeof a);
	int e = errno;
	close(s);
	errno = e;
	return rc;
}

static int c_sockets(void *a)
{
	(void)a;
	char p[512], l[512];
	snprintf(p, sizeof p, "%s/ok.sock", ws);
	if (conn_unix(p, false) < 0)
		FAIL(10);
	snprintf(p, sizeof p, "%s/denied.sock", ws);
	if (conn_unix(p, false) == 0 || errno != EACCES)
		FAIL(11);
	/* through a symlink with an allowed name */
	snprintf(l, sizeof l, "%s/innocent.sock", ws);
	if (symlink(p, l) < 0)
		FAIL(12);
	if (conn_unix(l, false) == 0 || errno != EACCES)
		FAIL(13);
	if (conn_unix("secret-abstract", true) == 0 || errno != EACCES)
		FAIL(14);
	if (conn_unix(ok_abs, true) < 0)
		FAIL(15);
	/* bind creates the socket file as the account */
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un b = { .sun_family = AF_UNIX };
	if (snprintf(b.sun_path, sizeof b.sun_path, "%s/mine.sock", ws) < 0)
		FAIL(20);
	if (bind(s, (void *)&b, sizeof b) < 0)
		FAIL(16);
	/* sendto a denied name */
	if (snprintf(b.sun_path, sizeof b.sun_path, "%s/denied.sock", ws) < 0)
		FAIL(21);
	if (sendto(s, "x", 1, 0, (void *)&b, sizeof b) >= 0 || errno != EACCES)
		FAIL(17);
	/* sendto an allowed name, then send on a connected socket: both
	 * datagrams must carry the account's credentials (step 24/25) */
	if (snprintf(b.sun_path, sizeof b.sun_path, "%s/creds.sock", ws) < 0)
		FAIL(22);
	char me[16];
	int ml = snprintf(me, sizeof me, "%d", (int)getpid());
	if (sendto(s, me, (size_t)ml, 0, (void *)&b, sizeof b) != ml)
		FAIL(23);
	/* (sendmsg without a name: send() on a connected socket is the
	 * kernel's own, never notified) */
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct iovec mv = { me, (size_t)ml };
	struct msghdr mm = { .msg_iov = &mv, .msg_iovlen = 1 };
	if (c < 0 || connect(c, (void *)&b, sizeof b) < 0 || sendmsg(c, &mm, 0) != ml)
		FAIL(24);
	close(c);
	close(s);
	/* sendmsg on a connected UDP socket: sent by the supervisor too (a name
	 * raced into the msghdr would count), and carries no unix credentials */
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons((uint16_t)udp_port) };
	inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct iovec uv = { "udp", 3 };
	struct msghdr um = { .msg_iov = &uv, .msg_iovlen = 1 };
	if (u < 0 || connect(u, (void *)&ua, sizeof ua) < 0)
		FAIL(25);
	if (sendmsg(u, &um, 0) != 3)
		FAIL(26);
	close(u);
	if (conn_tcp("127.0.0.1") < 0)
		FAIL(18);
	if (conn_tcp("127.0.0.2") == 0 || errno != EACCES)
		FAIL(19);
	return 0;
}

/* A blocking send to a receiver whose queue is full waits, as without
 * agentsh, but only the sender waits: the supervisor still answers every
 * other process of the session (it stalled on such a send: a session could
 * freeze itself and the human's shell).  Named (sendto) and connected
 * (sendmsg without a name) sends. */
static int c_full_receiver(void *a)
{
	(void)a;
	static char buf[2048];
	char probe[512];
	struct sockaddr_un b = { .sun_family = AF_UNIX };

	if (snprintf(b.sun_path, sizeof b.sun_path, "%s/full.sock", ws) < 0)
		FAIL(30);
	int r = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (r < 0 || bind(r, (void *)&b, sizeof b) < 0)
		FAIL(31);
	for (int mode = 0; mode < 2; mode++) {
		pid_t k = fork();
		if (k == 0) {
			int s = socket(AF_UNIX, SOCK_DGRAM, 0);
			struct iovec v = { buf, sizeof buf };
			struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 };
			if (mode == 1 && connect(s, (void *)&b, sizeof b) < 0)
				_exit(1);
			for (;;)
				if ((mode == 0 ? sendto(s, buf, sizeof buf, 0, (void *)&b, sizeof b)
					       : sendmsg(s, &m, 0)) < 0)
					_exit(2);
		}
		usleep(500000);         /* the queue is full by now; the sender waits */
		alarm(10);              /* a stalled supervisor would hold the open below */
		snprintf(probe, sizeof probe, "%s/probe%d", ws, mode);
		int fd = open(probe, O_WRONLY | O_CREAT, 0644);
		alarm(0);
		int st = 0;
		kill(k, SIGKILL);
		waitpid(k, &st, 0);
		if (fd < 0)
			FAIL(32 + mode);
		close(fd);
		if (!WIFSIGNALED(st))
			FAIL(34 + mode);        /* the sender got an error instead of waiting */
		while (recv(r, buf, sizeof buf, MSG_DONTWAIT) > 0)
			;
	}
	return 0;
}

static void t_full_receiver(void **s)
{
	(void)s;
	assert_int_equal(h_code(h_run(pol, c_full_receiver, NULL, NULL)), 0);
}

/* Abstract names have no file to own: a server of the account's that runs
 * outside the session (a session bus from dbus-launch, the account's own X
 * server) is known by the socket table's record of who made the socket.  It
 * is refused even where a rule allows the name, unless the rule says
 * own_account_servers: allow; a name the session binds itself, and one
 * served by another account (root), are the rules' to decide. */
static int abs_sock(int type, const char *name, bool as_account)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s", name);
	socklen_t l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);

	if (as_account)
		setfsuid(H_UID);        /* the socket is made by (owned by) the account */
	int s = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (as_account)
		setfsuid(0);
	if (s < 0 || bind(s, (void *)&a, l) < 0 || (type == SOCK_STREAM && listen(s, 8) < 0))
		return -1;
	return s;
}

static int abs_op(int type, const char *name, bool send)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s", name);
	socklen_t l = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	int s = socket(AF_UNIX, type, 0);
	int rc = send ? (int)sendto(s, "x", 1, 0, (void *)&a, l) : connect(s, (void *)&a, l);
	int e = errno;
	close(s);
	errno = e;
	return rc < 0 ? -1 : 0;
}

static char abs_names[5][64];

static int c_abstract(void *a)
{
	(void)a;
	/* the account's, outside: refused */
	if (abs_op(SOCK_STREAM, abs_names[0], false) == 0 || errno != EACCES)
		FAIL(40);
	if (abs_op(SOCK_DGRAM, abs_names[1], true) == 0 || errno != EACCES)
		FAIL(41);
	/* ... unless the rule allows the account's own servers */
	if (abs_op(SOCK_STREAM, abs_names[2], false) < 0)
		FAIL(42);
	/* root's: the rules decide (allowed) */
	if (abs_op(SOCK_STREAM, abs_names[3], false) < 0)
		FAIL(43);
	/* one the session binds itself */
	int mine = abs_sock(SOCK_STREAM, abs_names[4], false);
	if (mine < 0)
		FAIL(44);
	if (abs_op(SOCK_STREAM, abs_names[4], false) < 0)
		FAIL(45);
	close(mine);
	/* text after a NUL in a name: the rules cannot see it (refused); NULs
	 * that only pad the address (sizeof-long) are the kernel's to answer
	 * (no socket has that name here: ECONNREFUSED) */
	{
		struct sockaddr_un z = { .sun_family = AF_UNIX };
		memcpy(z.sun_path + 1, "agsh-own-x\0tail", 15);
		int zs = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(zs, (void *)&z, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 16)) == 0 ||
		    errno != EACCES)
			FAIL(48);
		memset(&z, 0, sizeof z);
		z.sun_family = AF_UNIX;
		snprintf(z.sun_path + 1, sizeof z.sun_path - 1, "%s", abs_names[3]);
		if (connect(zs, (void *)&z, sizeof z) == 0 || errno != ECONNREFUSED)
			FAIL(49);
		close(zs);
	}
	/* an address longer than a sockaddr_un (the kernel's EINVAL): the
	 * supervisor copied the name into sun_path-sized buffers (a stack
	 * overflow in a root process) */
	{
		struct sockaddr_storage big;
		memset(&big, 'A', sizeof big);
		((struct sockaddr_un *)&big)->sun_family = AF_UNIX;
		for (int abs = 0; abs < 2; abs++) {
			((struct sockaddr_un *)&big)->sun_path[0] = abs ? 0 : '/';
			int bs = socket(AF_UNIX, SOCK_STREAM, 0);
			if (connect(bs, (void *)&big, sizeof big) == 0 || errno != EINVAL)
				FAIL(50 + abs);
			close(bs);
		}
	}
	/* a reply address the kernel picked (autobind): never recorded, and
	 * no server's; a datagram to it arrives */
	struct sockaddr_un an = { .sun_family = AF_UNIX };
	socklen_t al = sizeof an;
	int ab = socket(AF_UNIX, SOCK_DGRAM, 0), tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	char c;
	if (ab < 0 || tx < 0 || bind(ab, (void *)&an, sizeof(sa_family_t)) < 0 ||
	    getsockname(ab, (void *)&an, &al) < 0 || an.sun_path[0])
		FAIL(46);
	if (sendto(tx, "r", 1, 0, (void *)&an, al) != 1 || recv(ab, &c, 1, MSG_DONTWAIT) != 1)
		FAIL(47);
	close(ab);
	close(tx);
	return 0;
}

static void t_abstract_own_server(void **s)
{
	(void)s;
	const char *pre[5] = { "agsh-own-stream", "agsh-own-dgram", "agsh-ownok-stream",
			       "agsh-own-root", "agsh-own-mine" };
	for (int i = 0; i < 5; i++)
		snprintf(abs_names[i], sizeof abs_names[i], "%s-%d", pre[i], (int)getpid());
	int outside[4] = {
		abs_sock(SOCK_STREAM, abs_names[0], true),
		abs_sock(SOCK_DGRAM, abs_names[1], true),
		abs_sock(SOCK_STREAM, abs_names[2], true),
		abs_sock(SOCK_STREAM, abs_names[3], false),
	};
	for (int i = 0; i < 4; i++)
		assert_true(outside[i] >= 0);
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_abstract, NULL, NULL)), 0);
	assert_true(h_noticed("own-account-server"));
	for (int i = 0; i < 4; i++)
		close(outside[i]);
}

static void t_sockets(void **s)
{
	(void)s;
	h_clear();
	assert_int_equal(h_code(h_run(pol, c_sockets, NULL, NULL)), 0);
	/* the allowed connection arrived with the account's credentials */
	int c = accept(lsn_ok, NULL, NULL);
	assert_true(c >= 0);
	struct ucred uc;
	socklen_t ul = sizeof uc;
	assert_int_equal(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul), 0);
	assert_int_equal(uc.uid, H_UID);
	assert_int_equal(uc.gid, H_GID);
	close(c);
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/mine.sock", ws);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, H_UID);
	/* both datagrams arrived with the account's uid and gid, not root's
	 * (the kernel attaches the sender's real ids), and the sender's pid
	 * (the payload), not the supervisor's */
	for (int i = 0; i < 2; i++) {
		char data[16] = "", ctl[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iv = { data, sizeof data - 1 };
		struct msghdr m = { .msg_iov = &iv, .msg_iovlen = 1, .msg_control = ctl,
				    .msg_controllen = sizeof ctl };
		assert_true(recvmsg(lsn_dgram, &m, MSG_DONTWAIT) > 0);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		assert_non_null(cm);
		assert_int_equal(cm->cmsg_type, SCM_CREDENTIALS);
		memcpy(&uc, CMSG_DATA(cm), sizeof uc);
		assert_int_equal(uc.uid, H_UID);
		assert_int_equal(uc.gid, H_GID);
		assert_int_equal(uc.pid, atoi(data));
	}
	char ud[8] = "";
	assert_int_equal(recv(lsn_udp, ud, sizeof ud, MSG_DONTWAIT), 3);
	assert_memory_equal(ud, "udp", 3);
	assert_true(h_noticed("deny-secret-sock"));
	assert_true(h_noticed("deny-dot2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_sockets),
		cmocka_unit_test(t_full_receiver),
		cmocka_unit_test(t_abstract_own_server),
	};
	if (geteuid() != 0) {
		printf("needs root: the supervisor switches to the target's uid\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
