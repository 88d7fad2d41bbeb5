/* The per-session approval socket, <socket_dir>/<session>.sock (0666: anyone may
 * connect, the peer's uid from SO_PEERCRED decides what it may do).  One JSON
 * request per connection, one JSON reply:
 *   {"cmd":"list"} | {"cmd":"show","id":ID}
 *   {"cmd":"answer","id":ID,"verdict":"once"|"session"|"deny",
 *    "method":"totp"|"webauthn","code":"123456","assertion":"{...}"}
 * Answers still need a TOTP code or an assertion: the socket only says who is
 * asking, never that they may approve without proof. */
#include "approve/approve_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct ap_server {
	struct approve_broker *b;
	int lfd, wake[2];
	pthread_t th;
	char path[108];
	struct { uid_t uid; uint64_t at; } refused[16];    /* last audit per uid */
};

static json_t *reply_err(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *do_answer(struct ap_server *s, json_t *req, uid_t uid)
{
	const char *id = NULL, *verdict = NULL, *method = "", *code = NULL, *assertion = NULL;
	struct approve_proof proof = { 0 };
	enum approve_verdict v;
	char err[512] = "";
	int rc;

	if (json_unpack(req, "{s:s, s:s, s?s, s?s, s?s}", "id", &id, "verdict", &verdict, "method", &method,
			"code", &code, "assertion", &assertion) < 0)
		return reply_err("malformed answer: need id and verdict");
	if (strcmp(verdict, "once") == 0)
		v = APPROVE_ONCE;
	else if (strcmp(verdict, "session") == 0)
		v = APPROVE_SESSION;
	else if (strcmp(verdict, "deny") == 0)
		v = APPROVE_DENY;
	else
		return reply_err("verdict must be once, session or deny");
	proof.method = strcmp(method, "totp") == 0 ? APPROVE_M_TOTP :
		       strcmp(method, "webauthn") == 0 ? APPROVE_M_WEBAUTHN : APPROVE_M_NONE;
	proof.totp_code = code;
	proof.assertion_json = assertion;
	rc = approve_resolve(s->b, id, v, &proof, &(struct approve_actor){ .uid = uid, .via = "socket" },
			     err, sizeof(err));
	if (rc < 0)
		return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", err[0] ? err : strerror(-rc), "errno", -rc);
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "id", id, "outcome",
			 approve_verdict_name(v));
}

static json_t *handle(struct ap_server *s, json_t *req, uid_t uid)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char err[512];

	if (!cmd)
		return reply_err("malformed request: no cmd");
	/* Reading what is pending is for approvers (and root), not for the session. */
	if (uid != 0 && !ap_broker_actor_allowed(s->b, uid, err, sizeof(err)))
		return reply_err(err);
	if (strcmp(cmd, "list") == 0) {
		char *js = approve_pending_json(s->b);
		json_t *arr = js ? json_loads(js, 0, NULL) : NULL;
		free(js);
		return json_pack("{s:b, s:s, s:o}", "ok", 1, "session", ap_broker_session(s->b), "pending",
				 arr ? arr : json_array());
	}
	if (strcmp(cmd, "show") == 0) {
		const char *id = json_string_value(json_object_get(req, "id"));
		char *ch = id ? ap_broker_challenge(s->b, id) : NULL;
		json_t *o = ch ? json_loads(ch, 0, NULL) : NULL;
		free(ch);
		if (!o)
			return reply_err("no such pending approval (already answered or expired)");
		return json_pack("{s:b, s:o}", "ok", 1, "challenge", o);
	}
	if (strcmp(cmd, "answer") == 0)
		return do_answer(s, req, uid);
	return reply_err("unknown cmd (list, show, answer)");
}

/* Reply and audit (at most once a second per uid: a probing loop must not
 * flood the audit trail). */
static void refuse(struct ap_server *s, int fd, uid_t uid, const char *why)
{
	json_t *rep = reply_err(why);
	char *out = json_dumps(rep, JSON_COMPACT);
	uint64_t now = ap_now_ms();

	if (out) {
		(void)!send(fd, out, strlen(out), MSG_NOSIGNAL);
		(void)!send(fd, "\n", 1, MSG_NOSIGNAL);
		free(out);
	}
	json_decref(rep);
	size_t slot = 0;
	for (size_t i = 0; i < 16; i++) {
		if (s->refused[i].at && s->refused[i].uid == uid) {
			slot = i;
			break;
		}
		if (s->refused[i].at < s->refused[slot].at)
			slot = i;
	}
	if (s->refused[slot].uid != uid || !s->refused[slot].at || now - s->refused[slot].at >= 1000) {
		s->refused[slot].uid = uid;
		s->refused[slot].at = now;
		ap_broker_audit_refusal(s->b, NULL, uid, why);
	}
}

static void serve_one(struct ap_server *s, int fd)
{
	struct ucred cr;
	socklen_t cl = sizeof(cr);
	struct timeval tv = { .tv_sec = 5 };
	char buf[16384];
	size_t len = 0;
	json_t *req, *rep;
	char *out;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) < 0)
		return;
	/* Refuse strangers before reading anything: requests are served one at a
	 * time, and an agent holding a silent connection open must not be able
	 * to keep the approvers out. */
	if (cr.uid != 0 && !ap_broker_actor_allowed(s->b, cr.uid, buf, sizeof(buf))) {
		refuse(s, fd, cr.uid, buf);
		return;
	}
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	req = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	rep = req ? handle(s, req, cr.uid) : reply_err("malformed request (one JSON object)");
	if ((out = json_dumps(rep, JSON_COMPACT))) {
		size_t n = strlen(out);
		out[n] = '\n';
		/* MSG_NOSIGNAL: a client that hung up must not SIGPIPE the supervisor */
		(void)!send(fd, out, n + 1, MSG_NOSIGNAL);
		free(out);
	}
	json_decref(req);
	json_decref(rep);
}

static void *server_main(void *arg)
{
	struct ap_server *s = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
		int fd;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		serve_one(s, fd);
		close(fd);
	}
	return NULL;
}

/* Approvers run as other accounts: every directory on the way to the socket
 * must let them through.  Missing ones are created 0755; a root-owned parent
 * that is closed (e.g. /run/agentsh made 0700 for another purpose) gets the
 * search bit only (o+x: reachable, still not listable). */
static int make_reachable(const char *dir, char *err, size_t errlen)
{
	char tmp[256];
	struct stat st;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", dir) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *c = tmp + 1;; c++) {
		bool last = *c == 0;
		if (!last && *c != '/')
			continue;
		*c = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			ap_err(err, errlen, "cannot create the approval socket directory %s: %s", tmp, strerror(e));
			return -e;
		}
		if (stat(tmp, &st) == 0 && st.st_uid == 0 && geteuid() == 0 && (st.st_mode & 0011) != 0011)
			chmod(tmp, (st.st_mode & 07777) | 0011);
		if (last)
			return 0;
		*c = '/';
	}
}

/* Sockets of sessions that died without cleaning up (SIGKILL, power loss)
 * refuse connections: remove them so `agentsh approve` lists live sessions. */
static void sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		size_t l = strlen(de->d_name);
		int fd;
		if (l < 6 || strcmp(de->d_name + l - 5, ".sock") != 0 ||
		    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, de->d_name) >= sizeof(sa.sun_path))
			continue;
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
			continue;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
			unlink(sa.sun_path);
		close(fd);
	}
	if (d)
		closedir(d);
}

static int bind_socket(struct ap_server *s, const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;

	if ((rc = make_reachable(dir, err, errlen)) < 0)
		return rc;
	sweep_stale(dir);
	/* Bind and listen under a name the sweep of a concurrent session ignores,
	 * then rename into place: a socket bound but not yet listening refuses
	 * connections, and another session's sweep would take it for stale. */
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.new", s->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	unlink(sa.sun_path);
	if ((s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0666) < 0 ||
	    listen(s->lfd, 16) < 0 || rename(sa.sun_path, s->path) < 0) {
		int e = errno;
		ap_err(err, errlen, "cannot serve the approval socket %s: %s", s->path, strerror(e));
		unlink(sa.sun_path);
		return -e;
	}
	return 0;
}

int ap_server_start(struct approve_broker *b, const char *dir, const char *session,
		    struct ap_server **out, char *err, size_t errlen)
{
	struct ap_server *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->b = b;
	s->lfd = s->wake[0] = s->wake[1] = -1;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s/%s.sock", dir, session) >= sizeof(s->path)) {
		ap_err(err, errlen, "approval socket path %s/%s.sock is too long", dir, session);
		free(s);
		return -ENAMETOOLONG;
	}
	if ((rc = bind_socket(s, dir, err, errlen)) < 0 || pipe2(s->wake, O_CLOEXEC) < 0 ||
	    pthread_create(&s->th, NULL, server_main, s) != 0) {
		if (s->lfd >= 0) {
			close(s->lfd);
			unlink(s->path);
		}
		if (s->wake[0] >= 0) {
			close(s->wake[0]);
			close(s->wake[1]);
		}
		free(s);
		return rc < 0 ? rc : -EAGAIN;
	}
	*out = s;
	return 0;
}

void ap_server_stop(struct ap_server *s)
{
	if (!s)
		return;
	(void)!write(s->wake[1], "x", 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(s->path);
	close(s->wake[0]);
	close(s->wake[1]);
	free(s);
}
