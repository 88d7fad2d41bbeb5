/* The per-session approval broker: pending requests, their deadlines, session
 * grants and the pending limit.  The notify thread submits and never waits for a
 * human; answers arrive from the prompt or the socket server; one timer thread
 * turns expired requests into denials.  Callbacks run without the lock held.
 *
 * The timer thread and the socket server start with the first request that
 * waits for a human, not with the broker: most sessions never ask, and every
 * `agentsh -c` paid for two threads, the socket directory walk and a bind at
 * start and for the joins at exit.  A server that cannot start then denies
 * that request (E_APPROVAL_UNAVAILABLE) and says why. */
#include "approve/approve_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

struct pending {
	struct pending *next;
	char id[APPROVE_ID_MAX];
	enum approve_op op;
	char *session, *target, *cmdline, *rule, *message;
	char **argv;
	pid_t pid;
	uint64_t created_ms, deadline_ms;
	unsigned char digest[32];
	struct ap_allow allow;          /* who may answer, how (scope.c) */
	approve_done_fn done;
	void *ctx;
};

struct grant {
	struct grant *next;
	enum approve_op op;
	char *target;
};

struct approve_broker {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t timer;
	bool timer_started, stop;
	pthread_mutex_t start_mu;       /* serialises the first-use start (below) */
	bool started;                   /* timer (and server, if any) running */
	char *socket_dir;               /* NULL: no socket server */
	struct pending *pending;
	size_t npending;
	struct grant *grants;
	unsigned long seq;
	uint64_t fails[AP_FAIL_RING];   /* times of recent failed proofs (ms) */
	size_t nfails;
	char *session, *dir;
	char **accounts;
	uid_t session_uid;
	unsigned timeout_ms, max_pending, window, fail_limit;
	bool allow_confirm;
	void (*on_pending)(void *, const struct approve_request *);
	void (*on_resolved)(void *, const struct approve_answer *);
	void *hook_ctx;
	struct audit *audit;
	struct ap_server *server;
	char *account;                  /* the session's account (scope lookup) */
	struct ap_scopes acct_scopes, rule_scopes;
};

void ap_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t ap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int ap_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= AP_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (; *s; s++)
		if (!(((*s | 32) >= 'a' && (*s | 32) <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static const char *const op_names[] = { "exec", "file", "unix", "net", "signal" };

const char *approve_op_name(enum approve_op op)
{
	return (unsigned)op < 5 ? op_names[op] : "?";
}

int approve_op_parse(const char *s, enum approve_op *out)
{
	for (int i = 0; i < 5; i++)
		if (s && strcmp(s, op_names[i]) == 0) {
			*out = (enum approve_op)i;
			return 0;
		}
	return -EINVAL;
}

const char *approve_verdict_name(enum approve_verdict v)
{
	switch (v) {
	case APPROVE_ONCE: return "approved";
	case APPROVE_SESSION: return "approved_session";
	case APPROVE_DENY: return "denied";
	case APPROVE_TIMEOUT: return "timeout";
	}
	return "?";
}

const char *approve_method_name(enum approve_method m)
{
	switch (m) {
	case APPROVE_M_NONE: return "none";
	case APPROVE_M_TOTP: return "totp";
	case APPROVE_M_WEBAUTHN: return "webauthn";
	case APPROVE_M_CONFIRM: return "confirm";
	case APPROVE_M_GRANT: return "session_grant";
	}
	return "?";
}

/* Length-prefixed fields: no separator inside a field can shift another field. */
static void digest_field(EVP_MD_CTX *c, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n };

	EVP_DigestUpdate(c, len, 4);
	if (n)
		EVP_DigestUpdate(c, s, n);
}

int approve_request_digest(const char *id, const char *session, enum approve_op op,
			   const char *target, const char *rule, unsigned char out[32])
{
	EVP_MD_CTX *c;
	unsigned int n = 0;

	if (!id || !*id || !session || (unsigned)op >= 5)
		return -EINVAL;
	if (!(c = EVP_MD_CTX_new()) || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -ENOMEM;
	}
	digest_field(c, "agentsh-approval-v1");
	digest_field(c, id);
	digest_field(c, session);
	digest_field(c, approve_op_name(op));
	digest_field(c, target);
	digest_field(c, rule);
	EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
	return n == 32 ? 0 : -EIO;
}

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

static void pending_free(struct pending *p)
{
	if (!p)
		return;
	free(p->session);
	free(p->target);
	free(p->cmdline);
	free(p->rule);
	free(p->message);
	ap_allow_free(&p->allow);
	if (p->argv)
		for (char **a = p->argv; *a; a++)
			free(*a);
	free(p->argv);
	free(p);
}

static char **argv_dup(char *const *argv)
{
	size_t n = 0;
	char **v;

	if (!argv)
		return NULL;
	while (argv[n])
		n++;
	if (!(v = calloc(n + 1, sizeof(*v))))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(argv[i]))) {
			while (i--)
				free(v[i]);
			free(v);
			return NULL;
		}
	return v;
}

static void pending_to_req(const struct pending *p, struct approve_request *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, p->id, sizeof(r->id));
	r->session = p->session;
	r->op = p->op;
	r->target = p->target;
	r->cmdline = p->cmdline;
	r->pid = p->pid;
	r->argv = p->argv;
	r->rule = p->rule;
	r->message = p->message;
	r->timeout_ms = (unsigned)(p->deadline_ms - p->created_ms);
}

/* Unlink by id; caller holds mu. */
static struct pending *take_locked(struct approve_broker *b, const char *id)
{
	for (struct pending **pp = &b->pending; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0) {
			struct pending *p = *pp;
			*pp = p->next;
			b->npending--;
			return p;
		}
	return NULL;
}

static struct pending *find_locked(struct approve_broker *b, const char *id)
{
	for (struct pending *p = b->pending; p; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	return NULL;
}

/* Deliver the answer for p (already unlinked) and free it. */
static void finish(struct approve_broker *b, struct pending *p, enum approve_verdict v,
		   enum approve_method m, const char *approver, uid_t uid, const char *via,
		   const char *code, const char *reason)
{
	struct approve_answer a = {
		.id = p->id, .verdict = v, .method = m, .approver = approver ? approver : "",
		.approver_uid = uid, .via = via, .error_code = code, .reason = reason,
	};
	uint64_t now = ap_now_ms();

	a.wait_ms = now > p->created_ms ? (unsigned long)(now - p->created_ms) : 0;
	ap_audit_answer(b->audit, p->session, &a, p->target, p->rule, p->op);
	p->done(p->ctx, &a);
	if (b->on_resolved)
		b->on_resolved(b->hook_ctx, &a);
	pending_free(p);
}

static void *timer_main(void *arg)
{
	struct approve_broker *b = arg;

	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		uint64_t now = ap_now_ms(), next = now + 60000;
		struct pending *expired = NULL;

		for (struct pending *p = b->pending; p; p = p->next) {
			if (p->deadline_ms <= now) {
				expired = p;
				break;
			}
			if (p->deadline_ms < next)
				next = p->deadline_ms;
		}
		if (expired) {
			take_locked(b, expired->id);
			pthread_mutex_unlock(&b->mu);
			finish(b, expired, APPROVE_TIMEOUT, APPROVE_M_NONE, NULL, (uid_t)-1, "broker",
			       "E_APPROVAL_TIMEOUT", "nobody approved in time; the operation was denied");
			pthread_mutex_lock(&b->mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait = next - now;
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static int copy_accounts(struct approve_broker *b, const char *const *acc)
{
	size_t n = 0;

	while (acc && acc[n])
		n++;
	if (!(b->accounts = calloc(n + 1, sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(b->accounts[i] = strdup(acc[i])))
			return -ENOMEM;
	return 0;
}

static void init_sync(struct approve_broker *b)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&b->mu, NULL);
	pthread_mutex_init(&b->start_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* One socket per session lives in a directory.  A configured
 * "/run/agentsh/approve.sock" (the single-socket spelling) means the
 * directory "/run/agentsh/approve". */
static char *socket_dir_of(const char *configured)
{
	char sd[256];
	size_t l;

	snprintf(sd, sizeof(sd), "%s", configured ? configured : APPROVE_DEFAULT_SOCKET_DIR);
	if ((l = strlen(sd)) > 5 && strcmp(sd + l - 5, ".sock") == 0)
		sd[l - 5] = 0;
	return strdup(sd);
}

/* The timer and the socket server, on the first request that waits (see the
 * top of the file).  Idempotent; 0 or -errno with the reason in err. */
static int start_on_first_use(struct approve_broker *b, char *err, size_t errlen)
{
	int rc = 0;

	pthread_mutex_lock(&b->start_mu);
	if (b->started)
		goto out;
	if (!b->timer_started) {
		if (pthread_create(&b->timer, NULL, timer_main, b) != 0) {
			ap_err(err, errlen, "cannot start the approval timer: out of resources");
			rc = -EAGAIN;
			goto out;
		}
		b->timer_started = true;
	}
	if (b->socket_dir && (rc = ap_server_start(b, b->socket_dir, b->session, &b->server, err,
						   errlen)) < 0)
		goto out;
	b->started = true;
out:
	pthread_mutex_unlock(&b->start_mu);
	return rc;
}

int approve_broker_new(const struct approve_config *cfg, struct approve_broker **out,
		       char *err, size_t errlen)
{
	struct approve_broker *b;

	*out = NULL;
	if (!cfg || !ap_name_ok(cfg->session)) {
		ap_err(err, errlen, "approvals: invalid session id '%s' (use letters, digits, . _ -)",
		       cfg && cfg->session ? cfg->session : "(null)");
		return -EINVAL;
	}
	if (!(b = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->session = strdup(cfg->session);
	b->dir = strdup(cfg->approvers_dir ? cfg->approvers_dir : APPROVE_DEFAULT_DIR);
	b->session_uid = cfg->session_uid;
	b->timeout_ms = cfg->default_timeout_ms ? cfg->default_timeout_ms : APPROVE_DEFAULT_TIMEOUT_MS;
	b->max_pending = cfg->max_pending ? cfg->max_pending : APPROVE_DEFAULT_MAX_PENDING;
	b->window = cfg->totp_window ? cfg->totp_window : 1;
	b->fail_limit = cfg->fail_limit ? cfg->fail_limit : 5;
	if (b->fail_limit > AP_FAIL_RING)
		b->fail_limit = AP_FAIL_RING;
	b->allow_confirm = cfg->allow_confirm;
	b->on_pending = cfg->on_pending;
	b->on_resolved = cfg->on_resolved;
	b->hook_ctx = cfg->hook_ctx;
	b->audit = cfg->audit;
	init_sync(b);
	if (!cfg->socket_dir || *cfg->socket_dir)
		b->socket_dir = socket_dir_of(cfg->socket_dir);
	int sr = cfg->account && !(b->account = strdup(cfg->account)) ? -ENOMEM : 0;
	if (sr == 0)
		sr = ap_scopes_copy(cfg->account_scopes, cfg->naccount_scopes, &b->acct_scopes, err, errlen);
	if (sr == 0)
		sr = ap_scopes_copy(cfg->rule_scopes, cfg->nrule_scopes, &b->rule_scopes, err, errlen);
	if (sr == -EINVAL) {
		approve_broker_free(b);
		return sr;
	}
	if (sr < 0 || !b->session || !b->dir || copy_accounts(b, cfg->approver_accounts) < 0 ||
	    ((!cfg->socket_dir || *cfg->socket_dir) && !b->socket_dir)) {
		ap_err(err, errlen, "approvals: cannot start the broker for session %s: out of resources",
		       cfg->session);
		approve_broker_free(b);
		return -ENOMEM;
	}
	*out = b;
	return 0;
}

void approve_broker_end_session(struct approve_broker *b)
{
	for (;;) {
		struct pending *p;

		pthread_mutex_lock(&b->mu);
		if ((p = b->pending)) {
			b->pending = p->next;
			b->npending--;
		}
		pthread_mutex_unlock(&b->mu);
		if (!p)
			return;
		finish(b, p, APPROVE_DENY, APPROVE_M_NONE, NULL, (uid_t)-1, "broker",
		       "E_APPROVAL_SESSION_END", "the session ended while the approval was pending");
	}
}

void approve_broker_free(struct approve_broker *b)
{
	if (!b)
		return;
	if (b->server)
		ap_server_stop(b->server);
	approve_broker_end_session(b);
	if (b->timer_started) {
		pthread_mutex_lock(&b->mu);
		b->stop = true;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->timer, NULL);
	}
	pthread_mutex_destroy(&b->mu);
	pthread_mutex_destroy(&b->start_mu);
	pthread_cond_destroy(&b->cv);
	while (b->grants) {
		struct grant *g = b->grants;
		b->grants = g->next;
		free(g->target);
		free(g);
	}
	for (char **a = b->accounts; a && *a; a++)
		free(*a);
	free(b->accounts);
	free(b->session);
	free(b->dir);
	free(b->socket_dir);
	free(b->account);
	ap_scopes_free(&b->acct_scopes);
	ap_scopes_free(&b->rule_scopes);
	free(b);
}

static bool grant_match_locked(struct approve_broker *b, enum approve_op op, const char *target)
{
	for (struct grant *g = b->grants; g; g = g->next)
		if (g->op == op && strcmp(g->target, target ? target : "") == 0)
			return true;
	return false;
}

bool approve_session_lookup(struct approve_broker *b, enum approve_op op, const char *target)
{
	bool hit;

	pthread_mutex_lock(&b->mu);
	hit = grant_match_locked(b, op, target);
	pthread_mutex_unlock(&b->mu);
	return hit;
}

static struct pending *pending_build(struct approve_broker *b, struct approve_request *req)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->op = req->op;
	p->pid = req->pid;
	p->session = xstrdup(req->session ? req->session : b->session);
	p->target = xstrdup(req->target);
	p->cmdline = xstrdup(req->cmdline);
	p->rule = xstrdup(req->rule);
	p->message = xstrdup(req->message);
	p->argv = argv_dup(req->argv);
	if (!p->session || !p->target || !p->cmdline || !p->rule || !p->message ||
	    (req->argv && !p->argv)) {
		pending_free(p);
		return NULL;
	}
	p->created_ms = ap_now_ms();
	p->deadline_ms = p->created_ms + (req->timeout_ms ? req->timeout_ms : b->timeout_ms);
	return p;
}

/* The account's and the rule's scopes, intersected (scope.c).  0: someone
 * can answer; -ENOENT: nobody can (reason in why); -ENOMEM. */
static int scope_request(struct approve_broker *b, struct pending *p, char *why, size_t whylen)
{
	const struct ap_scope *a = ap_scopes_find(&b->acct_scopes, b->account);
	const struct ap_scope *r = ap_scopes_find(&b->rule_scopes, p->rule);
	int rc = ap_allow_compute(a, r, b->allow_confirm, &p->allow);

	if (rc < 0 || (!a && !r))
		return rc;      /* no restriction: the default rules below apply */
	return ap_allow_check(&p->allow, b->dir, b->account, a != NULL, p->rule, r != NULL, why, whylen);
}

/* Immediate answer without a human. */
static void answer_now(struct approve_broker *b, struct pending *p, enum approve_verdict v,
		       enum approve_method m, const char *code, const char *reason)
{
	struct approve_answer a = { .id = p->id, .verdict = v, .method = m, .approver = "",
				    .approver_uid = (uid_t)-1, .via = m == APPROVE_M_GRANT ? "grant" : "broker",
				    .error_code = code, .reason = reason };

	ap_audit_answer(b->audit, p->session, &a, p->target, p->rule, p->op);
	p->done(p->ctx, &a);
	pending_free(p);
}

int approve_submit(struct approve_broker *b, struct approve_request *req,
		   approve_done_fn done, void *ctx)
{
	struct pending *p;
	struct approve_request view;
	char reason[512];

	if (!b || !req || !done || (unsigned)req->op >= 5 || !req->target)
		return -EINVAL;
	/* Read the store and start the server before taking the lock: other
	 * threads must not wait on disk. */
	bool enrolled = b->allow_confirm || ap_store_has_any(b->dir);
	char why[400] = "";
	int started = enrolled ? start_on_first_use(b, why, sizeof(why)) : 0;
	if (!(p = pending_build(b, req)))
		return -ENOMEM;
	char scope_why[512] = "";
	int scoped = scope_request(b, p, scope_why, sizeof(scope_why));
	if (scoped == -ENOMEM) {
		pending_free(p);
		return -ENOMEM;
	}
	p->done = done;
	p->ctx = ctx;
	pthread_mutex_lock(&b->mu);
	if (!req->id[0])
		snprintf(req->id, sizeof(req->id), "apr-%.24s-%lu", b->session, ++b->seq);
	memcpy(p->id, req->id, sizeof(p->id));
	p->id[sizeof(p->id) - 1] = 0;
	if (find_locked(b, p->id)) {
		pthread_mutex_unlock(&b->mu);
		pending_free(p);
		return -EEXIST;
	}
	approve_request_digest(p->id, p->session, p->op, p->target, p->rule, p->digest);
	pending_to_req(p, &view);
	ap_audit_request(b->audit, &view);
	if (grant_match_locked(b, p->op, p->target)) {
		pthread_mutex_unlock(&b->mu);
		answer_now(b, p, APPROVE_SESSION, APPROVE_M_GRANT, NULL,
			   "approved earlier for this session");
		return 0;
	}
	if (b->npending >= b->max_pending) {
		pthread_mutex_unlock(&b->mu);
		snprintf(reason, sizeof(reason),
			 "too many approvals pending in this session (limit %u); denied without asking",
			 b->max_pending);
		answer_now(b, p, APPROVE_DENY, APPROVE_M_NONE, "E_APPROVAL_LIMIT", reason);
		return 0;
	}
	if (scoped < 0) {
		pthread_mutex_unlock(&b->mu);
		answer_now(b, p, APPROVE_DENY, APPROVE_M_NONE, "E_APPROVAL_NO_APPROVER", scope_why);
		return 0;
	}
	if (!enrolled) {
		pthread_mutex_unlock(&b->mu);
		/* say whether the store is missing/unsafe or merely empty */
		if (ap_store_check(b->dir, reason, sizeof(reason)) == 0)
			snprintf(reason, sizeof(reason),
				 "no approver is enrolled in %.60s; as root run "
				 "'agentsh approver add NAME --totp'", b->dir);
		answer_now(b, p, APPROVE_DENY, APPROVE_M_NONE, "E_APPROVAL_NO_APPROVER", reason);
		return 0;
	}
	if (started < 0) {
		pthread_mutex_unlock(&b->mu);
		snprintf(reason, sizeof(reason), "approvals are unavailable in this session (%s); "
			 "denied without asking", why[0] ? why : strerror(-started));
		answer_now(b, p, APPROVE_DENY, APPROVE_M_NONE, "E_APPROVAL_UNAVAILABLE", reason);
		return 0;
	}
	p->next = b->pending;
	b->pending = p;
	b->npending++;
	pthread_cond_broadcast(&b->cv);
	/* The hook reads a private copy: the pending entry may be answered and
	 * freed by another thread as soon as the lock is dropped. */
	struct pending *copy = pending_build(b, &view);
	if (copy)
		memcpy(copy->id, p->id, sizeof(copy->id));
	pthread_mutex_unlock(&b->mu);
	if (copy) {
		pending_to_req(copy, &view);
		if (b->on_pending)
			b->on_pending(b->hook_ctx, &view);
		pending_free(copy);
	}
	return 0;
}

size_t approve_pending_count(struct approve_broker *b)
{
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->npending;
	pthread_mutex_unlock(&b->mu);
	return n;
}

const char *ap_broker_dir(const struct approve_broker *b) { return b->dir; }
const char *ap_broker_session(const struct approve_broker *b) { return b->session; }
bool ap_broker_confirm_allowed(const struct approve_broker *b) { return b->allow_confirm; }

unsigned ap_broker_methods(struct approve_broker *b, const char *id)
{
	struct pending *p;
	unsigned m = 0;

	pthread_mutex_lock(&b->mu);
	if ((p = find_locked(b, id)))
		m = p->allow.methods;
	pthread_mutex_unlock(&b->mu);
	return m;
}

static json_t *allowed_methods_json(const struct ap_allow *a)
{
	static const enum approve_method ms[] = { APPROVE_M_WEBAUTHN, APPROVE_M_TOTP, APPROVE_M_CONFIRM };
	json_t *v = json_array();

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		if (ap_allow_method(a, ms[i]))
			json_array_append_new(v, json_string(approve_method_name(ms[i])));
	return v;
}

static json_t *pending_json(const struct pending *p, uint64_t now)
{
	json_t *o = json_object(), *argv = json_array();

	for (char **a = p->argv; a && *a; a++)
		json_array_append_new(argv, json_string(*a));
	json_object_set_new(o, "id", json_string(p->id));
	json_object_set_new(o, "session", json_string(p->session));
	json_object_set_new(o, "op", json_string(approve_op_name(p->op)));
	json_object_set_new(o, "target", json_string(p->target));
	json_object_set_new(o, "command", json_string(p->cmdline));
	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "argv", argv);
	json_object_set_new(o, "rule", json_string(p->rule));
	json_object_set_new(o, "message", json_string(p->message));
	json_object_set_new(o, "methods", allowed_methods_json(&p->allow));
	json_object_set_new(o, "waited_ms", json_integer((json_int_t)(now - p->created_ms)));
	json_object_set_new(o, "expires_in_ms",
			    json_integer(p->deadline_ms > now ? (json_int_t)(p->deadline_ms - now) : 0));
	return o;
}

char *approve_pending_json(struct approve_broker *b)
{
	json_t *arr = json_array();
	uint64_t now = ap_now_ms();
	char *s;

	pthread_mutex_lock(&b->mu);
	for (struct pending *p = b->pending; p; p = p->next)
		json_array_append_new(arr, pending_json(p, now));
	pthread_mutex_unlock(&b->mu);
	s = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return s;
}

char *ap_broker_challenge(struct approve_broker *b, const char *id)
{
	char *s = NULL;
	struct pending *p;

	pthread_mutex_lock(&b->mu);
	if ((p = find_locked(b, id)))
		s = ap_challenge_json(b->dir, p->id, p->session, p->op, p->target, p->rule,
				      p->cmdline, p->message, &p->allow);
	pthread_mutex_unlock(&b->mu);
	return s;
}

bool ap_broker_is_pending(struct approve_broker *b, const char *id)
{
	bool yes;

	pthread_mutex_lock(&b->mu);
	yes = find_locked(b, id) != NULL;
	pthread_mutex_unlock(&b->mu);
	return yes;
}

void ap_broker_audit_refusal(struct approve_broker *b, const char *id, uid_t uid, const char *why)
{
	ap_audit_failed(b->audit, b->session, id, "socket", uid, APPROVE_M_NONE, why);
}

bool ap_broker_actor_allowed(const struct approve_broker *b, uid_t uid, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (uid == b->session_uid) {
		ap_err(err, errlen, "uid %u is the session's own account and can never approve its "
		       "requests; answer from an approver account", (unsigned)uid);
		return false;
	}
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res) {
		ap_err(err, errlen, "uid %u has no account name; it cannot be an approver", (unsigned)uid);
		return false;
	}
	for (char **a = b->accounts; a && *a; a++)
		if (strcmp(*a, pw.pw_name) == 0)
			return true;
	if (ap_store_account_allowed(b->dir, pw.pw_name))
		return true;
	ap_err(err, errlen, "account '%s' is not an approver: enroll it with 'agentsh approver add "
	       "%s --totp' or list it in %s/accounts", pw.pw_name, pw.pw_name, b->dir);
	return false;
}

/* Failed proofs in the last minute; caller holds mu. */
static unsigned recent_fails_locked(struct approve_broker *b, uint64_t now)
{
	unsigned n = 0;

	for (size_t i = 0; i < b->nfails && i < AP_FAIL_RING; i++)
		if (now - b->fails[i] < 60000)
			n++;
	return n;
}

static void record_fail(struct approve_broker *b)
{
	pthread_mutex_lock(&b->mu);
	b->fails[b->nfails % AP_FAIL_RING] = ap_now_ms();
	b->nfails++;
	pthread_mutex_unlock(&b->mu);
}

/* Check the proof against the pending request's digest.  0 and *m, name set. */
static int check_proof(struct approve_broker *b, const unsigned char digest[32],
		       const struct ap_allow *allow, const struct approve_proof *proof,
		       const struct approve_actor *who, enum approve_method *m, char *name, size_t namelen,
		       char *err, size_t errlen)
{
	char ms[64];
	int rc;

	*m = proof ? proof->method : APPROVE_M_NONE;
	if ((*m == APPROVE_M_TOTP || *m == APPROVE_M_WEBAUTHN || *m == APPROVE_M_CONFIRM) &&
	    !ap_allow_method(allow, *m)) {
		/* before the proof is looked at: a disallowed code is not spent */
		ap_allow_methods_str(allow, ms, sizeof(ms));
		ap_err(err, errlen, "%s is not accepted for this request; it accepts only: %s "
		       "(approvals in /etc/agentsh/config.yaml)", approve_method_name(*m), ms);
		return -EACCES;
	}
	switch (*m) {
	case APPROVE_M_TOTP:
		rc = ap_totp_check_allowed(b->dir, proof->totp_code, b->window, time(NULL), allow, name,
					   namelen);
		if (rc == -EALREADY)
			ap_err(err, errlen, "that code was already used; wait for the next one");
		else if (rc == -ENOENT)
			ap_err(err, errlen, "no TOTP approver is enrolled in %s", b->dir);
		else if (rc < 0)
			ap_err(err, errlen, "wrong code");
		return rc < 0 ? -EACCES : 0;
	case APPROVE_M_WEBAUTHN:
		rc = ap_webauthn_verify(b->dir, digest, proof->assertion_json, allow, name, namelen, err,
					errlen);
		return rc < 0 ? -EACCES : 0;
	case APPROVE_M_CONFIRM:
		if (b->allow_confirm && who->uid == (uid_t)-1) {
			snprintf(name, namelen, "terminal");
			return 0;
		}
		ap_err(err, errlen, "plain confirmation is only accepted on human-only sessions; "
		       "give a TOTP code or a security-key touch");
		return -EACCES;
	default:
		ap_err(err, errlen, "approving needs a TOTP code or a security-key assertion");
		return -EACCES;
	}
}

static int resolve_deny(struct approve_broker *b, const char *id, const struct approve_actor *who,
			char *err, size_t errlen)
{
	struct pending *p;

	pthread_mutex_lock(&b->mu);
	p = take_locked(b, id);
	pthread_mutex_unlock(&b->mu);
	if (!p) {
		ap_err(err, errlen, "no pending approval '%s' (already answered or expired)", id);
		return -ENOENT;
	}
	finish(b, p, APPROVE_DENY, APPROVE_M_NONE, "", who->uid, who->via, "E_APPROVAL_DENIED",
	       "a human denied the operation");
	return 0;
}

int approve_resolve(struct approve_broker *b, const char *id, enum approve_verdict v,
		    const struct approve_proof *proof, const struct approve_actor *who,
		    char *err, size_t errlen)
{
	unsigned char digest[32];
	enum approve_method m;
	char name[AP_NAME_MAX] = "";
	struct pending *p;
	struct ap_allow allow = { 0 };
	int rc;

	if (!b || !id || !who || (v != APPROVE_ONCE && v != APPROVE_SESSION && v != APPROVE_DENY))
		return -EINVAL;
	if (who->uid != (uid_t)-1 && !ap_broker_actor_allowed(b, who->uid, err, errlen)) {
		ap_audit_failed(b->audit, b->session, id, who->via, who->uid,
				proof ? proof->method : APPROVE_M_NONE, "not an approver account");
		return -EPERM;
	}
	if (v == APPROVE_DENY)
		return resolve_deny(b, id, who, err, errlen);
	pthread_mutex_lock(&b->mu);
	if (!(p = find_locked(b, id))) {
		pthread_mutex_unlock(&b->mu);
		ap_err(err, errlen, "no pending approval '%s' (already answered or expired)", id);
		return -ENOENT;
	}
	memcpy(digest, p->digest, sizeof(digest));
	if (ap_allow_copy(&p->allow, &allow) < 0) {
		pthread_mutex_unlock(&b->mu);
		ap_allow_free(&allow);
		return -ENOMEM;
	}
	if (recent_fails_locked(b, ap_now_ms()) >= b->fail_limit) {
		pthread_mutex_unlock(&b->mu);
		ap_allow_free(&allow);
		ap_err(err, errlen, "too many failed attempts in this session (%u a minute); "
		       "wait a minute and try again", b->fail_limit);
		ap_audit_failed(b->audit, b->session, id, who->via, who->uid,
				proof ? proof->method : APPROVE_M_NONE, "rate limited");
		return -EBUSY;
	}
	pthread_mutex_unlock(&b->mu);
	rc = check_proof(b, digest, &allow, proof, who, &m, name, sizeof(name), err, errlen);
	ap_allow_free(&allow);
	if (rc < 0) {
		record_fail(b);
		ap_audit_failed(b->audit, b->session, id, who->via, who->uid, m, err ? err : "refused");
		return rc;
	}
	pthread_mutex_lock(&b->mu);
	if ((p = take_locked(b, id)) && v == APPROVE_SESSION && !grant_match_locked(b, p->op, p->target)) {
		struct grant *g = calloc(1, sizeof(*g));
		if (g && (g->target = strdup(p->target))) {
			g->op = p->op;
			g->next = b->grants;
			b->grants = g;
		} else {
			free(g);
		}
	}
	pthread_mutex_unlock(&b->mu);
	if (!p) {
		ap_err(err, errlen, "approval '%s' was answered or expired meanwhile", id);
		return -ENOENT;
	}
	finish(b, p, v, m, name, who->uid, who->via, NULL,
	       v == APPROVE_SESSION ? "approved for this session" : "approved once");
	return 0;
}
