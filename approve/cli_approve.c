/* `agentsh approve`: the remote approver.  Talks to every session's approval
 * socket in the socket directory, as the caller's real uid (privileges are
 * dropped first: the server authenticates by SO_PEERCRED, so a setuid agentsh
 * must not connect as root).  `--remote user@host` runs the same requests on
 * another host through `ssh user@host agentsh approve --relay` and performs the
 * FIDO2 step here, on the machine the security key is plugged into. */
#include "approve/approve_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct cli {
	const char *sockdir, *code, *device, *remote, *remote_agentsh, *ssh;
	bool json, session, webauthn, relay, sockdir_set;
};

static void usage(FILE *f)
{
	fputs("usage: agentsh approve [list] [--json]\n"
	      "       agentsh approve show ID [--json]\n"
	      "       agentsh approve allow ID [--session] [--code CODE | --webauthn [--device D]]\n"
	      "       agentsh approve deny ID\n"
	      "options: --remote USER@HOST   approve on HOST over ssh; the security key stays here\n"
	      "         --remote-agentsh P   agentsh on the remote host (default: agentsh)\n"
	      "         --ssh PROG           ssh client for --remote (default: ssh)\n"
	      "         --socket-dir DIR     approval sockets (default " APPROVE_DEFAULT_SOCKET_DIR ")\n", f);
}

static int drop_privileges(void)
{
	uid_t u = getuid();
	gid_t g = getgid();

	if (geteuid() == u && getegid() == g)
		return 0;
	if (setresgid(g, g, g) < 0 || setresuid(u, u, u) < 0)
		return -errno;
	return 0;
}

/* One request to one socket. */
static json_t *sock_call(const char *path, json_t *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *s = json_dumps(req, JSON_COMPACT), buf[65536];
	size_t len = 0;
	json_t *rep = NULL;
	int fd;

	if (!s || strlen(path) >= sizeof(sa.sun_path)) {
		free(s);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    (send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s) || errno == EPIPE)) {
		/* the server may refuse (and hang up) before reading: read its reply anyway */
		(void)!send(fd, "\n", 1, MSG_NOSIGNAL);
		ssize_t n;
		while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)n;
		buf[len] = 0;
		rep = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	}
	if (fd >= 0)
		close(fd);
	free(s);
	return rep;
}

static int sockets(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char **nv;
		if (l < 6 || strcmp(de->d_name + l - 5, ".sock") != 0 || !(nv = realloc(*out, (*n + 1) * sizeof(char *))))
			continue;
		*out = nv;
		if (asprintf(&nv[*n], "%s/%s", dir, de->d_name) > 0)
			(*n)++;
	}
	closedir(d);
	return 0;
}

/* list across every session, or route show/answer to the session holding id. */
static json_t *local_call(const char *dir, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *id = json_string_value(json_object_get(req, "id"));
	json_t *all = json_array(), *errors = json_array(), *target = NULL, *rep;
	char **socks;
	size_t n;

	if (sockets(dir, &socks, &n) < 0 || n == 0) {
		ap_strv_free(socks, n);
		json_decref(all);
		json_decref(errors);
		if (!id)
			return json_pack("{s:b, s:[]}", "ok", 1, "pending");
		return json_pack("{s:b, s:s}", "ok", 0, "error",
				 "no agentsh session is serving approvals on this host");
	}
	json_t *list_req = json_pack("{s:s}", "cmd", "list");
	for (size_t i = 0; i < n; i++) {
		json_t *r = sock_call(socks[i], list_req), *p, *e;
		size_t k;
		if (!r || !json_is_true(json_object_get(r, "ok"))) {
			if (r && json_object_get(r, "error"))
				json_array_append(errors, json_object_get(r, "error"));
			json_decref(r);
			continue;
		}
		p = json_object_get(r, "pending");
		json_array_foreach(p, k, e) {
			json_array_append(all, e);
			if (id && !target && strcmp(json_string_value(json_object_get(e, "id")) ?: "", id) == 0)
				target = json_string(socks[i]);
		}
		json_decref(r);
	}
	json_decref(list_req);
	ap_strv_free(socks, n);
	if (!cmd || strcmp(cmd, "list") == 0 || !id) {
		rep = json_array_size(all) || !json_array_size(errors)
			? json_pack("{s:b, s:o}", "ok", 1, "pending", all)
			: json_pack("{s:b, s:o, s:s}", "ok", 0, "pending", all, "error",
				    json_string_value(json_array_get(errors, 0)));
		json_decref(errors);
		return rep;
	}
	json_decref(all);
	if (!target) {
		rep = json_pack("{s:b, s:s}", "ok", 0, "error", json_array_size(errors)
				? json_string_value(json_array_get(errors, 0))
				: "no such pending approval (already answered or expired)");
		json_decref(errors);
		return rep;
	}
	json_decref(errors);
	rep = sock_call(json_string_value(target), req);
	json_decref(target);
	return rep ? rep : json_pack("{s:b, s:s}", "ok", 0, "error", "the session's supervisor did not answer");
}

/* ssh user@host agentsh approve --relay: one JSON line in, one out. */
static json_t *remote_call(const struct cli *c, json_t *req)
{
	int in[2], out[2], st;
	char *s = json_dumps(req, JSON_COMPACT), buf[65536];
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	if (!s || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		free(s);
		return NULL;
	}
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		/* --socket-dir is passed on only when given: it names a directory there */
		execlp(c->ssh, c->ssh, "-T", "-o", "BatchMode=yes", c->remote, c->remote_agentsh, "approve",
		       "--relay", c->sockdir_set ? "--socket-dir" : (char *)NULL, c->sockdir, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	if (pid > 0) {
		(void)!write(in[1], s, strlen(s));
		(void)!write(in[1], "\n", 1);
	}
	close(in[1]);
	while (pid > 0 && len < sizeof(buf) - 1 && (n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(out[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	buf[len] = 0;
	free(s);
	return json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
}

static json_t *call(const struct cli *c, json_t *req)
{
	json_t *r = c->remote ? remote_call(c, req) : local_call(c->sockdir, req);

	json_decref(req);
	return r ? r : json_pack("{s:b, s:s}", "ok", 0, "error", c->remote
				 ? "no answer over ssh (is agentsh installed on the remote host?)"
				 : "no answer from the approval socket");
}

static int relay(const struct cli *c)
{
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	json_t *req, *rep;
	char *s;

	while (len < sizeof(buf) - 1 && (n = read(0, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	req = json_loads(buf, JSON_DISABLE_EOF_CHECK, NULL);
	rep = req ? local_call(c->sockdir, req) : json_pack("{s:b, s:s}", "ok", 0, "error", "malformed request");
	json_decref(req);
	s = json_dumps(rep, JSON_COMPACT);
	printf("%s\n", s ? s : "{}");
	free(s);
	json_decref(rep);
	return 0;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	printf("%s\n", s ? s : "{}");
	free(s);
}

static int fail(const struct cli *c, json_t *rep)
{
	const char *e = json_string_value(json_object_get(rep, "error"));

	if (c->json)
		print_json(rep);
	else
		fprintf(stderr, "agentsh approve: %s\n", e ? e : "failed");
	json_decref(rep);
	return 1;
}

static int cmd_list(const struct cli *c)
{
	json_t *rep = call(c, json_pack("{s:s}", "cmd", "list")), *p = json_object_get(rep, "pending"), *e;
	size_t i;

	if (!json_is_true(json_object_get(rep, "ok")))
		return fail(c, rep);
	if (c->json) {
		print_json(p);
	} else if (!json_array_size(p)) {
		printf("no approvals pending\n");
	} else {
		printf("%-28s %-6s %-30s %-16s %s\n", "ID", "OP", "TARGET", "RULE", "LEFT");
		json_array_foreach(p, i, e)
			printf("%-28s %-6s %-30s %-16s %llds\n", json_string_value(json_object_get(e, "id")),
			       json_string_value(json_object_get(e, "op")),
			       json_string_value(json_object_get(e, "target")),
			       json_string_value(json_object_get(e, "rule")),
			       (long long)json_integer_value(json_object_get(e, "expires_in_ms")) / 1000);
	}
	json_decref(rep);
	return 0;
}

static json_t *fetch_challenge(const struct cli *c, const char *id, json_t **rep)
{
	*rep = call(c, json_pack("{s:s, s:s}", "cmd", "show", "id", id));
	return json_is_true(json_object_get(*rep, "ok")) ? json_object_get(*rep, "challenge") : NULL;
}

static void show_human(json_t *ch, FILE *f)
{
	static const char *const keys[] = { "id", "session", "op", "target", "command", "rule", "message" };

	json_t *ms = json_object_get(ch, "methods"), *m;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		fprintf(f, "%-9s %s\n", keys[i], json_string_value(json_object_get(ch, keys[i])) ?: "");
	if (!json_is_array(ms))
		return;
	fprintf(f, "%-9s", "methods");
	json_array_foreach(ms, i, m)
		fprintf(f, "%s%s", i ? ", " : " ", json_string_value(m) ?: "?");
	fprintf(f, "\n");
}

static int cmd_show(const struct cli *c, const char *id)
{
	json_t *rep, *ch = fetch_challenge(c, id, &rep);

	if (!ch)
		return fail(c, rep);
	if (c->json)
		print_json(ch);
	else
		show_human(ch, stdout);
	json_decref(rep);
	return 0;
}

static int read_code(char *buf, size_t n)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	(void)!write(fd, "TOTP code: ", 11);
	r = read(fd, buf, n - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return 0;
}

/* Does the challenge accept method?  Hosts before per-rule methods sent no
 * list: everything was accepted. */
static bool method_offered(json_t *ch, const char *method)
{
	json_t *ms = json_object_get(ch, "methods"), *m;
	size_t i;

	if (!json_is_array(ms))
		return true;
	json_array_foreach(ms, i, m)
		if (json_is_string(m) && strcmp(json_string_value(m), method) == 0)
			return true;
	return false;
}

/* Build the proof fields of an answer; the FIDO2 step runs here, locally. */
static int add_proof(const struct cli *c, const char *id, json_t *req)
{
	char err[512] = "", code[32], *assertion = NULL;
	json_t *rep, *ch;

	if (c->webauthn) {
		if (!(ch = fetch_challenge(c, id, &rep)))
			return fail(c, rep), -1;
		if (!method_offered(ch, "webauthn")) {
			/* no touch for nothing: the host refuses (and audits) and says what it accepts */
			json_decref(rep);
			json_object_set_new(req, "method", json_string("webauthn"));
			return 0;
		}
		show_human(ch, stderr);
		fprintf(stderr, "touch your security key to approve\n");
		char *chs = json_dumps(ch, JSON_COMPACT);
		int rc = approve_webauthn_sign(chs, c->device, &assertion, err, sizeof(err));
		free(chs);
		json_decref(rep);
		if (rc < 0) {
			fprintf(stderr, "agentsh approve: %s\n", err);
			return -1;
		}
		json_object_set_new(req, "method", json_string("webauthn"));
		json_object_set_new(req, "assertion", json_string(assertion));
		free(assertion);
		return 0;
	}
	if (!c->code && read_code(code, sizeof(code)) < 0) {
		fprintf(stderr, "agentsh approve: approving needs --code CODE (TOTP) or --webauthn\n");
		return -1;
	}
	json_object_set_new(req, "method", json_string("totp"));
	json_object_set_new(req, "code", json_string(c->code ? c->code : code));
	return 0;
}

static int cmd_answer(const struct cli *c, const char *id, bool allow)
{
	json_t *req = json_pack("{s:s, s:s, s:s}", "cmd", "answer", "id", id, "verdict",
				!allow ? "deny" : c->session ? "session" : "once"), *rep;

	if (allow && add_proof(c, id, req) < 0) {
		json_decref(req);
		return 1;
	}
	rep = call(c, req);
	if (!json_is_true(json_object_get(rep, "ok")))
		return fail(c, rep);
	if (c->json)
		print_json(rep);
	else
		printf("%s %s\n", json_string_value(json_object_get(rep, "outcome")), id);
	json_decref(rep);
	return 0;
}

static int parse(int argc, char **argv, struct cli *c)
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "session", no_argument, 0, 's' },
		{ "code", required_argument, 0, 'c' }, { "webauthn", no_argument, 0, 'w' },
		{ "device", required_argument, 0, 'd' }, { "remote", required_argument, 0, 'r' },
		{ "remote-agentsh", required_argument, 0, 'A' }, { "socket-dir", required_argument, 0, 'S' },
		{ "relay", no_argument, 0, 'R' }, { "ssh", required_argument, 0, 'H' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int o;

	memset(c, 0, sizeof(*c));
	c->sockdir = APPROVE_DEFAULT_SOCKET_DIR;
	c->remote_agentsh = "agentsh";
	c->ssh = "ssh";
	optind = 1;
	while ((o = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'j': c->json = true; break;
		case 's': c->session = true; break;
		case 'c': c->code = optarg; break;
		case 'w': c->webauthn = true; break;
		case 'd': c->device = optarg; break;
		case 'r': c->remote = optarg; break;
		case 'A': c->remote_agentsh = optarg; break;
		case 'S': c->sockdir = optarg; c->sockdir_set = true; break;
		case 'H': c->ssh = optarg; break;
		case 'R': c->relay = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

int approve_cli(int argc, char **argv)
{
	struct cli c;
	const char *sub, *id;
	int rc;

	signal(SIGPIPE, SIG_IGN);       /* a vanished peer is an error reply, not a crash */
	if (drop_privileges() < 0) {
		fprintf(stderr, "agentsh approve: cannot drop privileges; refusing to talk to the approval "
			"socket as another user\n");
		return 1;
	}
	if ((rc = parse(argc, argv, &c)) != 0)
		return rc < 0 ? 2 : 0;
	char sd[256];
	size_t l;
	snprintf(sd, sizeof(sd), "%s", c.sockdir);     /* "X.sock" means the directory "X" (as the broker) */
	if ((l = strlen(sd)) > 5 && strcmp(sd + l - 5, ".sock") == 0)
		sd[l - 5] = 0;
	c.sockdir = sd;
	if (c.relay)
		return relay(&c);
	sub = optind < argc ? argv[optind] : "list";
	id = optind + 1 < argc ? argv[optind + 1] : NULL;
	if (strcmp(sub, "list") == 0)
		return cmd_list(&c);
	if (!id) {
		usage(stderr);
		return 2;
	}
	if (strcmp(sub, "show") == 0)
		return cmd_show(&c, id);
	if (strcmp(sub, "allow") == 0 || strcmp(sub, "approve") == 0)
		return cmd_answer(&c, id, true);
	if (strcmp(sub, "deny") == 0)
		return cmd_answer(&c, id, false);
	usage(stderr);
	return 2;
}
