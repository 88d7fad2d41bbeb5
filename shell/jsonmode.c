/* `agentsh -c --json 'cmd'` (also --output json): run one command under the
 * same enforcement as plain -c, capture its output, and print exactly one
 * JSON object on stdout (schema/agentsh-result.schema.json, docs/json.md).
 *
 * Also here: the thin registry handlers that expose the audit module's
 * read-back commands (audit, events, report, policy generate). */
#include "shell/shell_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit/audit.h"
#include "enforce/enforce.h"
#include "policy/policy.h"

#define DEFAULT_CAP (1024 * 1024)
#define EXIT_INTERNAL 125
#define DRAIN_GRACE_MS 500      /* background children may hold the pipes open */

struct stream {
	int fd;
	char *buf;
	size_t len, cap_limit, alloc;
	uint64_t total;
};

struct capture {
	struct stream s[2];
	volatile int stop;
	pthread_t th;
};

static void stream_take(struct stream *s, const char *p, size_t n)
{
	s->total += n;
	size_t room = s->cap_limit > s->len ? s->cap_limit - s->len : 0;
	if (n > room)
		n = room;
	if (!n)
		return;
	if (s->len + n > s->alloc) {
		size_t na = s->alloc ? s->alloc : 16384;
		while (na < s->len + n)
			na *= 2;
		char *nb = realloc(s->buf, na);
		if (!nb)
			return;         /* counted in total, reported as truncated */
		s->buf = nb;
		s->alloc = na;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* Drain both pipes concurrently so a command writing a lot to stderr cannot
 * block on a full pipe while we wait on stdout. */
static void *capture_main(void *arg)
{
	struct capture *c = arg;
	char buf[65536];
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct pollfd p[2];
		int n = 0;
		for (int i = 0; i < 2; i++)
			if (c->s[i].fd >= 0)
				p[n++] = (struct pollfd){ .fd = c->s[i].fd, .events = POLLIN };
		if (!n || c->stop)
			break;
		if (poll(p, (nfds_t)n, 100) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n; k++) {
			if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct stream *s = c->s[0].fd == p[k].fd ? &c->s[0] : &c->s[1];
			ssize_t r = read(s->fd, buf, sizeof buf);
			if (r > 0)
				stream_take(s, buf, (size_t)r);
			else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(s->fd);
				s->fd = -1;
			}
		}
	}
	return NULL;
}

static size_t output_cap(const struct shell_ctx *ctx)
{
	if (ctx->cfg && ctx->cfg->audit.stdout_cap)
		return ctx->cfg->audit.stdout_cap;
	/* tests and harnesses running agentsh unprivileged may lower it */
	const char *e = getenv("AGENTSH_OUTPUT_CAP");
	if (e && (ctx->is_root || shell_priv.mode == ENFORCE_PRIV_NONE)) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (!*end && v > 0)
			return (size_t)v;
	}
	return DEFAULT_CAP;
}

/* A cut at the cap may split a UTF-8 sequence: drop the partial tail so valid
 * text stays text. */
static size_t utf8_trim(const char *b, size_t len, bool truncated)
{
	if (!truncated)
		return len;
	size_t back = 0;
	while (back < 4 && back < len && ((unsigned char)b[len - 1 - back] & 0xC0) == 0x80)
		back++;
	if (back < len && ((unsigned char)b[len - 1 - back] & 0xC0) == 0xC0) {
		unsigned char lead = (unsigned char)b[len - 1 - back];
		size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
		if (back + 1 < need)
			return len - back - 1;
	}
	return len;
}

static void put_stream(json_t *o, const char *name, const struct stream *s)
{
	bool trunc = s->total > s->len;
	size_t n = utf8_trim(s->buf ? s->buf : "", s->len, trunc);
	json_t *str = json_stringn(s->buf ? s->buf : "", n);
	char key[32];
	if (str)
		json_object_set_new(o, name, str);
	else {
		/* not UTF-8: the exact bytes, base64 */
		size_t blen = 4 * ((s->len + 2) / 3) + 1;
		unsigned char *b = malloc(blen);
		if (b) {
			EVP_EncodeBlock(b, (const unsigned char *)s->buf, (int)s->len);
			snprintf(key, sizeof key, "%s_b64", name);
			json_object_set_new(o, key, json_string((char *)b));
			free(b);
		}
	}
	snprintf(key, sizeof key, "%s_truncated", name);
	json_object_set_new(o, key, json_boolean(trunc));
	snprintf(key, sizeof key, "%s_total_bytes", name);
	json_object_set_new(o, key, json_integer((json_int_t)s->total));
}

struct run {
	int exit_code;
	bool spawned, timed_out;
	int64_t duration_us, cpu_user_us, cpu_sys_us, peak_rss_kb;
	char *spawn_err;
	const char *degraded;
	struct audit *audit;
	int64_t command_id;
	struct audit_collector *coll;
	char *audit_err;
};

static int64_t tv_us(struct timeval t)
{
	return (int64_t)t.tv_sec * 1000000 + t.tv_usec;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int open_pipes(int out[2], int err[2])
{
	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		int e = -errno;
		close(out[0]);
		close(out[1]);
		return e;
	}
	return 0;
}

/* Spawn, capture and wait.  Messages the shell prints while starting the
 * sandbox are caught in a memstream so stdout stays one JSON object. */
static void run_command(struct shell_ctx *ctx, struct capture *cap, struct run *r)
{
	int po[2], pe[2];
	int rc = open_pipes(po, pe);
	if (rc) {
		r->spawn_err = strdup("cannot create the output pipes");
		return;
	}
	cap->s[0].fd = po[0];
	cap->s[1].fd = pe[0];
	pthread_create(&cap->th, NULL, capture_main, cap);
	char *msg = NULL;
	size_t msglen = 0;
	FILE *saved = ctx->err, *mem = open_memstream(&msg, &msglen);
	if (mem)
		ctx->err = mem;
	struct rusage ru0, ru1;
	getrusage(RUSAGE_CHILDREN, &ru0);
	int64_t t0 = mono_us();
	int stdio[3] = { STDIN_FILENO, po[1], pe[1] }, ws = 0;
	rc = shell_run_oneshot(ctx, stdio, &ws);
	r->duration_us = mono_us() - t0;
	if (ctx->enf)
		enforce_session_sync(ctx->enf);         /* late kernel events belong to this result */
	getrusage(RUSAGE_CHILDREN, &ru1);
	close(po[1]);
	close(pe[1]);
	ctx->err = saved;
	if (mem)
		fclose(mem);
	r->spawned = rc == 0;
	if (rc < 0 && ctx->audit_gate_rc < 0 && !r->audit_err)
		r->audit_err = strdup(audit_strerror(ctx->audit));
	if (rc == 0)
		r->exit_code = shell_status_from_wait(ws);
	else if (ctx->audit_gate_rc < 0)
		r->spawn_err = strdup("the audit store could not record the command, so it was not run");
	else
		r->spawn_err = msg && *msg ? strdup(msg) : strdup(strerror(-rc));
	free(msg);
	r->cpu_user_us = tv_us(ru1.ru_utime) - tv_us(ru0.ru_utime);
	r->cpu_sys_us = tv_us(ru1.ru_stime) - tv_us(ru0.ru_stime);
	r->peak_rss_kb = ru1.ru_maxrss;
	/* the delegate is gone; give stragglers holding the pipes a moment */
	int64_t deadline = mono_us() + DRAIN_GRACE_MS * 1000;
	while ((cap->s[0].fd >= 0 || cap->s[1].fd >= 0) && mono_us() < deadline)
		usleep(10000);
	cap->stop = 1;
	pthread_join(cap->th, NULL);
	for (int i = 0; i < 2; i++)
		if (cap->s[i].fd >= 0)
			close(cap->s[i].fd);
	if (ctx->enf) {
		r->timed_out = enforce_session_timed_out(ctx->enf);
		if (!enforce_session_degraded(ctx->enf, &r->degraded))
			r->degraded = NULL;
	}
}

static json_t *suggestion(const char *action, const char *command, const char *reason)
{
	json_t *s = json_pack("{s:s}", "action", action);
	if (command)
		json_object_set_new(s, "command", json_string(command));
	if (reason)
		json_object_set_new(s, "reason", json_string(reason));
	return s;
}

/* Single-quote for a POSIX shell so a suggested command is safe to paste. */
static char *shq(const char *s)
{
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *o = malloc(n + 1), *q = o;
	if (!o)
		return NULL;
	*q++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q++ = '\'';
	*q = 0;
	return o;
}

struct verdict {
	const char *status, *code;
	char reason[1024];
	bool retryable;
};

static void decide(const struct run *r, const struct audit_summary *s, struct verdict *v)
{
	const struct audit_blocked *b = s ? &s->first_blocked : NULL;
	v->code = NULL;
	v->retryable = false;
	v->status = r->exit_code == 0 ? "ok" : "failed";
	if (!r->spawned) {
		v->code = "E_INTERNAL";
		snprintf(v->reason, sizeof v->reason, "agentsh could not run the command: %s", r->spawn_err);
		return;
	}
	if (r->timed_out) {
		v->code = "E_COMMAND_TIMEOUT";
		v->retryable = true;
		snprintf(v->reason, sizeof v->reason, "command timed out");
		return;
	}
	if (s && s->has_blocked) {
		snprintf(v->reason, sizeof v->reason, "blocked by policy (rule=%s): %s %s%s%s%s", b->rule ? b->rule : "?",
			 b->operation ? b->operation : b->type, b->target ? b->target : "",
			 b->message || b->note ? " (" : "", b->message ? b->message : b->note ? b->note : "",
			 b->message || b->note ? ")" : "");
		if (r->exit_code != 0) {
			v->status = "blocked";
			v->code = "E_POLICY_DENIED";
		}
		/* a refusal by a human (or by the lack of one) is final; nobody
		 * answering in time is worth one more try */
		if (s->approval_required && r->exit_code != 0) {
			v->code = s->approvals_timed_out ? "E_APPROVAL_TIMEOUT" : "E_APPROVAL_DENIED";
			v->retryable = s->approvals_timed_out > 0;
		}
		return;
	}
	if (s && s->limits_hit && r->exit_code != 0) {
		v->code = "E_RESOURCE_LIMIT";
		snprintf(v->reason, sizeof v->reason, "a resource limit was hit");
		return;
	}
	if (r->exit_code == 127)
		snprintf(v->reason, sizeof v->reason, "command not found");
	else if (r->exit_code != 0)
		snprintf(v->reason, sizeof v->reason, "command exited with status %d", r->exit_code);
	else
		v->reason[0] = 0;
}

static json_t *guidance(const struct shell_ctx *ctx, const struct run *r, const struct audit_summary *s,
			const struct verdict *v)
{
	json_t *g = json_object(), *subs = json_array(), *sugg = json_array();
	bool blocked = s && s->has_blocked;
	json_object_set_new(g, "status", json_string(v->status));
	json_object_set_new(g, "blocked", json_boolean(blocked));
	json_object_set_new(g, "retryable", json_boolean(v->retryable));
	if (*v->reason)
		json_object_set_new(g, "reason", json_string(v->reason));
	if (blocked) {
		const struct audit_blocked *b = &s->first_blocked;
		if (b->rule)
			json_object_set_new(g, "policy_rule", json_string(b->rule));
		json_object_set_new(g, "blocked_operation", json_string(b->operation ? b->operation : b->type));
		if (b->target)
			json_object_set_new(g, "blocked_target", json_string(b->target));
		if (s->approval_required)
			json_array_append_new(sugg, suggestion("request_approval", NULL,
				"the rule requires a human's approval: ask the operator to approve it when prompted"));
		else
			json_array_append_new(sugg, suggestion("adjust_policy", NULL,
				"this operation is not allowed by the policy; do not retry it unchanged - use an allowed "
				"alternative or ask the operator to change the policy"));
		char *sid = shq(ctx->session_id);
		char cmd[256];
		snprintf(cmd, sizeof cmd, "agentsh events query --session %s --decision deny", sid ? sid : "latest");
		free(sid);
		json_array_append_new(sugg, suggestion("inspect_events", cmd, "list every blocked operation"));
	}
	if (s && s->has_redirect)
		json_array_append_new(subs, suggestion("redirected", s->redirect_to, s->redirect_reason));
	if (s && s->has_soft_delete && s->soft_delete_token) {
		char *tok = shq(s->soft_delete_token), cmd[512];
		snprintf(cmd, sizeof cmd, "agentsh trash restore %s", tok ? tok : "");
		free(tok);
		json_array_append_new(sugg, suggestion("restore", cmd, "the deleted file was moved to the trash"));
	}
	if (r->timed_out)
		json_array_append_new(sugg, suggestion("increase_timeout", NULL,
			"the command hit the command timeout; split the work or ask for a longer timeout"));
	json_object_set_new(g, "substitutions", subs);
	json_object_set_new(g, "suggestions", sugg);
	return g;
}

static void iso_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *build_result(struct shell_ctx *ctx, const struct capture *cap, struct run *r,
			    enum audit_events_mode mode)
{
	const struct audit_summary *s = r->coll ? audit_collect_summary(r->coll) : NULL;
	struct verdict v;
	decide(r, s, &v);
	int exit_code = !r->spawned ? EXIT_INTERNAL : r->timed_out ? 124 : r->exit_code;
	char ts[40];
	iso_now(ts, sizeof ts);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "session_id", json_string(ctx->session_id));
	if (r->command_id > 0)
		json_object_set_new(o, "command_id", json_integer(r->command_id));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "command", json_string(ctx->opts.command ? ctx->opts.command : ""));
	json_object_set_new(o, "exit_code", json_integer(exit_code));
	put_stream(o, "stdout", &cap->s[0]);
	put_stream(o, "stderr", &cap->s[1]);
	json_object_set_new(o, "output_cap_bytes", json_integer((json_int_t)cap->s[0].cap_limit));
	json_object_set_new(o, "duration_ms", json_integer(r->duration_us / 1000));
	json_object_set_new(o, "resources", json_pack("{s:I, s:I, s:I}", "cpu_user_ms", (json_int_t)(r->cpu_user_us / 1000),
			    "cpu_system_ms", (json_int_t)(r->cpu_sys_us / 1000), "memory_peak_kb", (json_int_t)r->peak_rss_kb));
	if (r->coll)
		json_object_set_new(o, "events", audit_collect_events_json(r->coll, mode));
	json_object_set_new(o, "guidance", guidance(ctx, r, s, &v));
	if (v.code)
		json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code", v.code, "message", v.reason));
	if (v.code && s && s->has_blocked && s->first_blocked.rule)
		json_object_set_new(json_object_get(o, "error"), "policy_rule", json_string(s->first_blocked.rule));
	if (r->degraded)
		json_object_set_new(o, "degraded", json_string(r->degraded));
	if (r->audit_err)
		json_object_set_new(o, "audit_error", json_string(r->audit_err));
	return o;
}


/* Without a durable audit trail the command does not run (fail closed). */
static int audit_open_store(struct shell_ctx *ctx, struct run *r)
{
	/* defer_open: audit_start() flushes before the command runs */
	int rc = shell_audit_attach(ctx, true);
	if (rc) {
		r->audit_err = strdup(audit_strerror(ctx->audit));
		audit_close(ctx->audit);
		ctx->audit = NULL;
	}
	return rc;
}

static int audit_start(struct shell_ctx *ctx, struct run *r)
{
	audit_session_begin(ctx->audit, ctx->acct.uid, "json", ctx->policy ? policy_name(ctx->policy) : NULL,
			    ctx->policy ? policy_source(ctx->policy) : NULL);
	r->audit = ctx->audit;
	int rc = audit_command_begin(ctx->audit, ctx->opts.command ? ctx->opts.command : "", &r->command_id);
	if (!rc)
		rc = audit_collect_begin(ctx->audit, r->command_id, &r->coll);
	/* the record that the command started is durable before it runs: the
	 * spawn flushes before the exec (shell_run_argv), so the commit
	 * overlaps the sandbox set-up */
	if (!rc)
		audit_commit_soon(ctx->audit);
	if (rc)
		r->audit_err = strdup(audit_strerror(ctx->audit));
	return rc;
}

/* command_end is durable before the result is printed. */
static void audit_finish(struct shell_ctx *ctx, struct run *r, int exit_code)
{
	shell_notices_command_end(ctx);
	if (!r->audit)
		return;
	audit_collect_end(r->audit, r->coll);
	struct audit_command_result res = {
		.exit_status = exit_code, .duration_us = r->duration_us, .cpu_user_us = r->cpu_user_us,
		.cpu_sys_us = r->cpu_sys_us, .peak_rss_kb = r->peak_rss_kb,
		.message = r->timed_out ? "timed out" : NULL,
		.session_ends = true,
	};
	if (audit_command_end(r->audit, r->command_id, &res) && !r->audit_err)
		r->audit_err = strdup(audit_strerror(r->audit));
	if (audit_session_end(ctx->audit, exit_code) && !r->audit_err)
		r->audit_err = strdup(audit_strerror(ctx->audit));
}

int shell_json_main(struct shell_ctx *ctx)
{
	enum audit_events_mode mode = AUDIT_EVENTS_SUMMARY;
	if (ctx->opts.events)
		audit_events_mode_parse(ctx->opts.events, &mode);
	struct capture cap = { .s = { { .fd = -1 }, { .fd = -1 } } };
	cap.s[0].cap_limit = cap.s[1].cap_limit = output_cap(ctx);
	struct run r = { .exit_code = EXIT_INTERNAL };
	/* the store first (the sandbox records into it), then the sandbox, which
	 * forks its watchdog before any of our threads run */
	if (audit_open_store(ctx, &r) == 0 && shell_session_open(ctx) == 0 && audit_start(ctx, &r) == 0)
		run_command(ctx, &cap, &r);
	else if (!ctx->audit)
		r.spawn_err = strdup("the audit store is unavailable, so nothing was run");
	else if (!ctx->enf)
		r.spawn_err = strdup("the sandbox could not be set up, so nothing was run");
	else
		r.spawn_err = strdup("the audit store could not record the command, so it was not run");
	int exit_code = !r.spawned ? EXIT_INTERNAL : r.timed_out ? 124 : r.exit_code;
	audit_finish(ctx, &r, exit_code);
	json_t *o = build_result(ctx, &cap, &r, mode);
	char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	int ret = exit_code;
	if (!text || printf("%s\n", text) < 0 || fflush(stdout) != 0)
		ret = EXIT_INTERNAL;
	free(text);
	json_decref(o);
	audit_collector_free(r.coll);
	free(r.spawn_err);
	free(r.audit_err);
	free(cap.s[0].buf);
	free(cap.s[1].buf);
	return ret;
}

/* `--json` when the session could not even be set up (configuration, policy,
 * account): still exactly one JSON object, exit 125.  The reason was printed
 * on stderr by whatever failed. */
int shell_json_start_failed(const struct shell_opts *o, int status)
{
	char ts[40];
	iso_now(ts, sizeof ts);
	char msg[128];
	snprintf(msg, sizeof msg, "agentsh could not set up the session (status %d); the reason is on its stderr", status);
	json_t *r = json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:b, s:i, s:s, s:b, s:i, s:i, s:i, s:{s:i, s:i, s:i},"
			      " s:{s:s, s:b, s:b, s:s, s:[], s:[]}, s:{s:s, s:s}}",
			      "version", 1, "session_id", "none", "timestamp", ts, "command", o->command ? o->command : "",
			      "exit_code", EXIT_INTERNAL, "stdout", "", "stdout_truncated", 0, "stdout_total_bytes", 0,
			      "stderr", "", "stderr_truncated", 0, "stderr_total_bytes", 0, "output_cap_bytes", DEFAULT_CAP,
			      "duration_ms", 0, "resources", "cpu_user_ms", 0, "cpu_system_ms", 0, "memory_peak_kb", 0,
			      "guidance", "status", "failed", "blocked", 0, "retryable", 0, "reason", msg,
			      "substitutions", "suggestions", "error", "code", "E_INTERNAL", "message", msg);
	char *text = r ? json_dumps(r, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (text)
		printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(r);
	return EXIT_INTERNAL;
}

/* ---- registry handlers for the audit module's read-back commands ---- */

static int audit_env(struct shell_ctx *ctx, const char *what, struct audit_cli_env *env)
{
	*env = (struct audit_cli_env){ .db_path = shell_audit_db(ctx), .out = ctx->out, .err = ctx->err };
	if (!ctx->is_root) {
		fprintf(ctx->err ? ctx->err : stderr, "agentsh %s: reading the audit store needs root: it holds "
			"every account's sessions (ask an administrator to run it)\n", what);
		return 1;
	}
	return 0;
}

int shell_cmd_audit(int argc, char **argv, struct shell_ctx *ctx)
{
	struct audit_cli_env env;
	return audit_env(ctx, "audit", &env) ? 1 : audit_cli(argc, argv, &env);
}

int shell_cmd_events(int argc, char **argv, struct shell_ctx *ctx)
{
	struct audit_cli_env env;
	return audit_env(ctx, "events", &env) ? 1 : events_cli(argc, argv, &env);
}

/* Inside a session, `report` / `policy generate` without a SESSION mean this
 * session ("latest" could be another account's newer one).  Returns argv with
 * the session id appended when no operand was given (valued options skipped). */
static char **default_session(int *argc, char **argv, struct shell_ctx *ctx)
{
	bool operand = false;
	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--level") || !strcmp(argv[i], "--output") || !strcmp(argv[i], "--name") ||
		    !strcmp(argv[i], "--threshold") || !strcmp(argv[i], "-l") || !strcmp(argv[i], "-o") ||
		    !strcmp(argv[i], "-n") || !strcmp(argv[i], "-t"))
			i++;
		else if (argv[i][0] != '-')
			operand = true;
	}
	char **v = calloc((size_t)*argc + 2, sizeof *v);
	if (!v)
		return NULL;
	memcpy(v, argv, (size_t)*argc * sizeof *v);
	if (!operand && ctx->audit) {
		audit_flush(ctx->audit);        /* this session's events first */
		v[(*argc)++] = ctx->session_id;
	}
	return v;
}

int shell_cmd_report(int argc, char **argv, struct shell_ctx *ctx)
{
	struct audit_cli_env env;
	if (audit_env(ctx, "report", &env))
		return 1;
	char **v = default_session(&argc, argv, ctx);
	int rc = v ? report_cli(argc, v, &env) : 1;
	free(v);
	return rc;
}

/* `policy generate ...`: argv[0] is "policy" or "generate" depending on the
 * caller; policy_generate_cli skips argv[0]. */
int shell_cmd_policy_generate(int argc, char **argv, struct shell_ctx *ctx)
{
	struct audit_cli_env env;
	if (audit_env(ctx, "policy generate", &env))
		return 1;
	if (argc >= 2 && !strcmp(argv[0], "policy") && !strcmp(argv[1], "generate")) {
		argc--;
		argv++;
	}
	char **v = default_session(&argc, argv, ctx);
	int rc = v ? policy_generate_cli(argc, v, &env) : 1;
	free(v);
	return rc;
}
