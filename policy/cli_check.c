/* `policy check OP TARGET…`: decide one operation without running anything. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "policy/cli_int.h"

/* Display strings here are cut at a fixed size on purpose; paths longer than
 * PATH_MAX are refused by the check functions themselves. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* ------------------------------------------------------------ check */


static void expand_tilde(struct cli *c, const char *in, char *out, size_t len)
{
	char tmp[PATH_MAX];
	if (in[0] == '~' && (in[1] == '/' || !in[1]) && c->vars.home)
		snprintf(tmp, sizeof(tmp), "%s%s", c->vars.home, in + 1);
	else if (in[0] != '/' && in[0] != '@')
		snprintf(tmp, sizeof(tmp), "%s/%s", c->cwd[0] ? c->cwd : "/", in);
	else
		snprintf(tmp, sizeof(tmp), "%s", in);
	if (tmp[0] != '/' || pol_normalize_path(tmp, out, len) < 0)
		snprintf(out, len, "%s", tmp);
}

static void which(const char *name, char *out, size_t len)
{
	const char *path = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
	char buf[PATH_MAX];
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, p, name);
		if (access(buf, X_OK) == 0) {
			snprintf(out, len, "%s", buf);
			return;
		}
		p += l + (e ? 1 : 0);
	}
	snprintf(out, len, "/usr/bin/%s", name);
}

static int parse_hostport(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':')
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(e - s - 1), s + 1);
		colon = e + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		snprintf(host, hlen, "%.*s", (int)(colon - s), s);
	}
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* The supervisor decides an exec by the file that really runs and by each
 * symlink on the way to it that root made (policy_exec_alias_trusted): a link
 * the agent made to /usr/bin/su is decided as su (enforce/notify_exec.c).  The
 * same here, on this machine's files; a program that does not exist is
 * decided by the name given. */
#define MAX_EXEC_NAMES 8
static int check_exec_as_run(const struct policy *p, const char *given, int ac, const char *const *av,
			     struct check *ck)
{
	char real[PATH_MAX], cur[PATH_MAX], tgt[PATH_MAX], dir[PATH_MAX], name[PATH_MAX];

	if (!realpath(given, real))
		return policy_check_exec(p, given, ac, av, &ck->res);
	if (strcmp(real, given))
		snprintf(ck->program, sizeof ck->program, "%s", real);
	int rc = policy_check_exec(p, real, ac, av, &ck->res);
	snprintf(cur, sizeof cur, "%s", given);
	for (int hop = 0; rc == 0 && hop < MAX_EXEC_NAMES; hop++) {
		struct stat ls, ds;
		char *slash = strrchr(cur, '/');
		if (!slash)
			break;
		snprintf(dir, sizeof dir, "%.*s", slash == cur ? 1 : (int)(slash - cur), cur);
		char rdir[PATH_MAX];
		if (!realpath(dir, rdir) || stat(rdir, &ds) < 0)
			break;
		if (snprintf(name, sizeof name, "%s/%s", strcmp(rdir, "/") ? rdir : "", slash + 1) >=
		    (int)sizeof name || lstat(name, &ls) < 0 || !S_ISLNK(ls.st_mode))
			break;
		ssize_t k = readlink(name, tgt, sizeof tgt - 1);
		if (k <= 0)
			break;
		tgt[k] = 0;
		struct policy_result alt;
		if (policy_exec_alias_trusted(&ls, &ds) && strcmp(name, real) &&
		    policy_check_exec(p, name, ac, av, &alt) == 0 && policy_exec_alias_wins(&alt, &ck->res))
			ck->res = alt;
		if (tgt[0] == '/')
			snprintf(cur, sizeof cur, "%s", tgt);
		else if (snprintf(cur, sizeof cur, "%s/%s", strcmp(rdir, "/") ? rdir : "", tgt) >= (int)sizeof cur)
			break;
	}
	return rc;
}

/* argv = OP-KIND TARGET... ; fills ck; returns 0 or 2 (usage) */
int pol_cli_run_check(struct cli *c, const struct policy *p, int argc, char **argv, struct check *ck,
		     char *errbuf, size_t errlen)
{
	if (argc < 2)
		goto usage;
	const char *kind = argv[0];
	if (!strcmp(kind, "file")) {
		enum policy_file_op op;
		if (argc != 3 || policy_file_op_parse(argv[1], &op)) {
			snprintf(errbuf, errlen, "'check file' needs OP PATH with OP one of read, write, create, "
				 "delete, rename, link, symlink, mkdir, rmdir, chmod, chown, truncate, xattr, mknod, "
				 "exec, open, stat, list, readlink, access");
			return 2;
		}
		char path[PATH_MAX];
		expand_tilde(c, argv[2], path, sizeof(path));
		ck->kind = POLICY_KIND_FILE;
		snprintf(ck->what, sizeof(ck->what), "file %s %s", argv[1], path);
		ck->rc = policy_check_file(p, op, path, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "exec") || !strcmp(kind, "command")) {
		char path[PATH_MAX];
		if (strchr(argv[1], '/'))
			expand_tilde(c, argv[1], path, sizeof(path));
		else
			which(argv[1], path, sizeof(path));
		const char *av[256];
		int ac = 0;
		av[ac++] = argv[1];
		for (int i = 2; i < argc && ac < 255; i++)
			av[ac++] = argv[i];
		ck->kind = POLICY_KIND_COMMAND;
		size_t n = (size_t)snprintf(ck->what, sizeof(ck->what), "exec %s", path);
		for (int i = 1; i < ac && n < sizeof(ck->what); i++)
			n += (size_t)snprintf(ck->what + n, sizeof(ck->what) - n, " %s", av[i]);
		ck->rc = ck->as_run ? check_exec_as_run(p, path, ac, av, ck)
				    : policy_check_exec(p, path, ac, av, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "net") || !strcmp(kind, "network")) {
		const char *t = argc >= 3 && !strcmp(argv[1], "connect") ? argv[2] : argv[1];
		char host[256];
		uint16_t port;
		if (parse_hostport(t, host, sizeof(host), &port)) {
			snprintf(errbuf, errlen, "'check net' needs connect HOST:PORT (e.g. api.github.com:443, "
				 "10.0.0.1:22, [::1]:8080), not '%s'", t);
			return 2;
		}
		ck->kind = POLICY_KIND_NETWORK;
		snprintf(ck->what, sizeof(ck->what), "net connect %s:%u", host, port);
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
		if (inet_pton(AF_INET, host, &s4.sin_addr) == 1)
			ck->rc = policy_check_net(p, (struct sockaddr *)&s4, NULL, &ck->res);
		else if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1)
			ck->rc = policy_check_net(p, (struct sockaddr *)&s6, NULL, &ck->res);
		else
			ck->rc = policy_check_net_name(p, host, port, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "unix")) {
		static const char *const ops[] = { "connect", "bind", "listen", "sendto" };
		int op = -1;
		for (int i = 0; argc == 3 && i < 4; i++)
			if (!strcmp(argv[1], ops[i]))
				op = i;
		if (op < 0) {
			snprintf(errbuf, errlen, "'check unix' needs OP PATH|@NAME with OP connect, bind, listen "
				 "or sendto");
			return 2;
		}
		char path[PATH_MAX];
		bool abs = argv[2][0] == '@';
		if (abs)
			snprintf(path, sizeof(path), "%s", argv[2] + 1);
		else
			expand_tilde(c, argv[2], path, sizeof(path));
		ck->kind = POLICY_KIND_UNIX;
		snprintf(ck->what, sizeof(ck->what), "unix %s %s%s", argv[1], abs ? "@" : "", path);
		ck->rc = policy_check_unix(p, (enum policy_unix_op)op, path, abs, &ck->res);
		return 0;
	}
	if (!strcmp(kind, "signal")) {
		enum policy_signal_target t;
		int sig = argc == 3 ? policy_signal_parse(argv[1]) : -1;
		if (sig <= 0 || policy_signal_target_parse(argv[2], &t)) {
			snprintf(errbuf, errlen, "'check signal' needs SIGNAL TARGET (e.g. SIGKILL external); "
				 "targets: self children descendants siblings session parent external system");
			return 2;
		}
		ck->kind = POLICY_KIND_SIGNAL;
		snprintf(ck->what, sizeof(ck->what), "signal %s %s", policy_signal_name(sig) ?
			 policy_signal_name(sig) : argv[1], argv[2]);
		ck->rc = policy_check_signal(p, sig, t, &ck->res);
		return 0;
	}
usage:
	snprintf(errbuf, errlen, "'check' needs file|exec|net|unix|signal and a target (see 'agentsh "
		 "policy --help')");
	return 2;
}

json_t *pol_cli_result_json(const struct check *ck)
{
	const struct policy_result *r = &ck->res;
	json_t *j = json_pack("{s:s,s:s,s:s,s:b,s:s,s:i,s:s}", "check", ck->what, "decision",
			      policy_decision_name(r->decision), "rule", r->rule, "default", r->is_default,
			      "file", r->file, "line", (int)r->line, "message", r->message);
	if (ck->program[0])
		json_object_set_new(j, "program", json_string(ck->program));
	if (r->timeout_ms)
		json_object_set_new(j, "timeout_ms", json_integer(r->timeout_ms));
	if (r->has_fallback)
		json_object_set_new(j, "fallback", json_string(policy_decision_name(r->fallback)));
	if (r->decision == POLICY_REDIRECT) {
		if (r->cmd.path) {
			json_t *a = json_array();
			for (size_t i = 0; i < r->cmd.nargs; i++)
				json_array_append_new(a, json_string(r->cmd.args[i]));
			json_object_set_new(j, "redirect_command", json_string(r->cmd.path));
			json_object_set_new(j, "redirect_args", a);
		}
		if (r->redirect_path[0])
			json_object_set_new(j, "redirect_path", json_string(r->redirect_path));
		if (r->redirect_signal)
			json_object_set_new(j, "redirect_signal",
					    json_string(policy_signal_name(r->redirect_signal) ?
							policy_signal_name(r->redirect_signal) : "?"));
	}
	return j;
}

static void result_text(struct cli *c, const struct check *ck)
{
	const struct policy_result *r = &ck->res;
	fprintf(c->out, "%s: %s", ck->what, policy_decision_name(r->decision));
	if (r->is_default)
		fprintf(c->out, " (default: %s, no rule matched)\n", r->rule);
	else
		fprintf(c->out, " by rule '%s' (%s:%u)\n", r->rule, r->file, r->line);
	if (ck->program[0])
		fprintf(c->out, "  runs: %s\n", ck->program);
	if (r->message[0])
		fprintf(c->out, "  message: %s\n", r->message);
	if (r->timeout_ms)
		fprintf(c->out, "  timeout: %us\n", r->timeout_ms / 1000);
	if (r->has_fallback)
		fprintf(c->out, "  fallback: %s\n", policy_decision_name(r->fallback));
	if (r->decision == POLICY_REDIRECT) {
		if (r->cmd.path) {
			fprintf(c->out, "  runs instead: %s", r->cmd.path);
			for (size_t i = 0; i < r->cmd.nargs; i++)
				fprintf(c->out, " %s", r->cmd.args[i]);
			fprintf(c->out, "%s\n", r->cmd.nargs_append ? " … (plus appended args)" : "");
		}
		if (r->redirect_path[0])
			fprintf(c->out, "  redirected to: %s\n", r->redirect_path);
		if (r->redirect_signal)
			fprintf(c->out, "  sends instead: %s\n", policy_signal_name(r->redirect_signal));
	}
}

int pol_cli_cmd_check(struct cli *c, int argc, char **argv)
{
	struct policy_diags d;
	policy_diags_init(&d);
	struct policy *owned;
	const struct policy *p;
	if (pol_cli_get_policy(c, NULL, &owned, &p, &d)) {
		pol_cli_print_diags(c, &d);
		policy_diags_free(&d);
		return 1;
	}
	policy_diags_free(&d);
	struct check *ck = calloc(1, sizeof(*ck));
	char err[512];
	if (ck)
		ck->as_run = true;
	int rc = ck ? pol_cli_run_check(c, p, argc, argv, ck, err, sizeof(err)) : 1;
	if (rc == 2)
		fprintf(c->err, "agentsh policy check: %s\n", err);
	else if (ck && c->json)
		pol_cli_json_out(c, pol_cli_result_json(ck));
	else if (ck)
		result_text(c, ck);
	free(ck);
	policy_free(owned);
	return rc;
}

